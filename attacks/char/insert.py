"""Insert one letter of the word's own script at a grapheme-cluster boundary (an extra-key typo)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from harness.perturbation import PERTURBATIONS, PerturbResult, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster, nfc

from ._alphabet import Alphabet, alphabet, edited_text, editing, text_independent
from ._rand import pick


@PERTURBATIONS.register("char.insert.v1")
@dataclass(frozen=True)
class InsertLetter(WordEditPerturbation):
    """'hello' -> 'hellwo'; 'नमस्ते' -> 'नमकस्ते' (whole letters go between clusters, never inside one).

    Any boundary next to a letter cluster can take the letter, the word's edges included
    ('dog.' -> 'dokg.' or 'hdog.', never 'dog.h'). The letter comes from the same-script alphabet
    (attacks/char/_alphabet.py); it is upper-cased only inside an all-capitals word.
    """

    id = "char.insert.v1"
    family = "insert"
    description = "insert one letter of the same script at a grapheme-cluster boundary of a word"

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        with editing(nfc(text)):
            return super().perturb(text, severity, rng, lang)

    def _slots(self, clusters: list[str], lang: str, text: str) -> Iterator[tuple[int, Alphabet]]:
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

    def _candidates(self, word: str, lang: str) -> tuple[tuple[int, Alphabet], ...]:
        if text_independent(word, lang):
            return _cached_slots(self, word, lang)
        return tuple(self._slots(graphemes(word), lang, edited_text(word)))

    def eligible(self, word: str, lang: str) -> bool:
        if text_independent(word, lang):
            return bool(_cached_slots(self, word, lang))
        return any(True for _ in self._slots(graphemes(word), lang, edited_text(word)))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        clusters = graphemes(word)
        slots = self._candidates(word, lang)
        if not slots:
            return None
        i, alpha = pick(slots, rng)
        all_caps = word.isupper() and sum(ch.isupper() for ch in word) >= 2
        clusters.insert(i, alpha.cased(pick(alpha.pool, rng), all_caps))
        return "".join(clusters)


@lru_cache(maxsize=65536)
def _cached_slots(p, word: str, lang: str) -> tuple:
    """Edit candidates of a word whose alphabets come from keyboard layouts (independent of the text)."""
    return tuple(p._slots(graphemes(word), lang, word))
