"""Replace the base letter of one cluster with another letter of the same script, keeping its marks."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from harness.perturbation import PERTURBATIONS
from harness.text import cluster_script, is_letter_cluster

from ._alphabet import Alphabet, AlphabetEdit, alphabet


@PERTURBATIONS.register("char.substitute.v1")
@dataclass(frozen=True)
class SubstituteLetter(AlphabetEdit):
    """'hello' -> 'hemlo'; 'कि' -> 'मि' (the matra stays on the new base); case is kept.

    The new base comes from the same-script alphabet (attacks/char/_alphabet.py) and always differs
    from the old one; a cluster with marks only gets a base that can carry them (not 'अ' in 'कि').
    """

    id = "char.substitute.v1"
    family = "substitute"
    description = "replace the base letter of one letter cluster with another same-script letter, keeping its marks"

    def _choices(self, cluster: str, alpha: Alphabet) -> tuple[str, ...]:
        return _choices(cluster[0], len(cluster) > 1, alpha)

    def sites(self, clusters: list[str], lang: str, text: str) -> Iterator[tuple[int, Alphabet]]:
        for i, g in enumerate(clusters):
            if is_letter_cluster(g):
                script = cluster_script(g)
                if self.supports_script(script):
                    alpha = alphabet(lang, script, text)
                    pool = alpha.carriers if len(g) > 1 else alpha.pool
                    # at most two pool letters equal the base (itself, its lower case): skip the scan
                    if len(pool) > 2 or self._choices(g, alpha):
                        yield i, alpha

    def options(self, word: str, clusters: list[str], sites: tuple[tuple[int, Alphabet], ...]) -> tuple:
        """Per site: the text before the new base, the text after it (the cluster's marks on), the
        alphabet, the replacement letters, and whether the old base was upper case."""
        return tuple(("".join(clusters[:i]), clusters[i][1:] + "".join(clusters[i + 1:]), alpha,
                      self._choices(clusters[i], alpha), clusters[i][0].isupper()) for i, alpha in sites)

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        options = self.word_options(word, lang)
        if not options:
            return None
        # pick(options, rng), then pick(choices, rng): one rng.random() each
        before, after, alpha, choices, upper = options[int(rng.random() * len(options))]
        letter = choices[int(rng.random() * len(choices))]
        return before + (alpha.cased(letter, True) if upper else letter) + after


@lru_cache(maxsize=65536)
def _choices(base: str, has_marks: bool, alpha: Alphabet) -> tuple[str, ...]:
    """Replacement letters for `base`: the alphabet minus the base itself (either case)."""
    pool = alpha.carriers if has_marks else alpha.pool
    return tuple(c for c in pool if c != base and c != base.lower())
