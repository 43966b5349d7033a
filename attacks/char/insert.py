"""Insert one letter of the word's own script at a grapheme-cluster boundary (an extra-key typo)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

from harness.perturbation import PERTURBATIONS
from harness.text import cluster_script, is_letter_cluster

from ._alphabet import Alphabet, AlphabetEdit, alphabet


@PERTURBATIONS.register("char.insert.v1")
@dataclass(frozen=True)
class InsertLetter(AlphabetEdit):
    """'hello' -> 'hellwo'; 'नमस्ते' -> 'नमकस्ते' (whole letters go between clusters, never inside one).

    Any boundary next to a letter cluster can take the letter, the word's edges included
    ('dog.' -> 'dokg.' or 'hdog.', never 'dog.h'). The letter comes from the same-script alphabet
    (attacks/char/_alphabet.py); it is upper-cased only inside an all-capitals word.
    """

    id = "char.insert.v1"
    family = "insert"
    description = "insert one letter of the same script at a grapheme-cluster boundary of a word"

    def sites(self, clusters: list[str], lang: str, text: str) -> Iterator[tuple[int, Alphabet]]:
        """Boundaries next to a letter cluster, with the alphabet of that letter's script."""
        for i in range(len(clusters) + 1):
            for j in (i - 1, i):  # the letter before the boundary wins over the one after
                if 0 <= j < len(clusters) and is_letter_cluster(clusters[j]):
                    script = cluster_script(clusters[j])
                    if self.supports_script(script):
                        alpha = alphabet(lang, script, text)
                        if alpha.pool:
                            yield i, alpha
                            break

    def options(self, word: str, clusters: list[str], sites: tuple[tuple[int, Alphabet], ...]) -> tuple:
        """Per site: the text before and after the boundary, the letters to draw from, the alphabet,
        and whether the word is in capitals."""
        all_caps = word.isupper() and sum(ch.isupper() for ch in word) >= 2
        return tuple(("".join(clusters[:i]), "".join(clusters[i:]), alpha.pool, alpha, all_caps) for i, alpha in sites)

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        options = self.word_options(word, lang)
        if not options:
            return None
        # pick(options, rng), then pick(alpha.pool, rng): one rng.random() each
        before, after, pool, alpha, all_caps = options[int(rng.random() * len(options))]
        letter = pool[int(rng.random() * len(pool))]
        return before + (alpha.cased(letter, True) if all_caps else letter) + after
