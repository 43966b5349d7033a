"""Swap two adjacent letter grapheme clusters inside a word (a transposition typo)."""
from __future__ import annotations

import random
from dataclasses import dataclass

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import LETTER, char_class, cluster_script, graphemes


@PERTURBATIONS.register("char.swap.v1")
@dataclass(frozen=True)
class AdjacentSwap(WordEditPerturbation):
    """'hello' -> 'hlelo'; 'नमस्ते' -> 'मनस्ते' (whole clusters move, marks stay on their base).

    Thai/Lao vowel letters (า, เ, …) are not swapped: they belong to their consonant.
    """

    id = "char.swap.v1"
    family = "swap"
    description = "swap two adjacent, different letter grapheme clusters in a word"

    def _pairs(self, clusters: list[str]) -> list[int]:
        return [
            i for i in range(len(clusters) - 1)
            if clusters[i] != clusters[i + 1]
            and char_class(clusters[i][0]) == LETTER and char_class(clusters[i + 1][0]) == LETTER
            and self.supports_script(cluster_script(clusters[i]))
            and cluster_script(clusters[i]) == cluster_script(clusters[i + 1])
        ]

    def eligible(self, word: str, lang: str) -> bool:
        return bool(self._pairs(graphemes(word)))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        clusters = graphemes(word)
        pairs = self._pairs(clusters)
        if not pairs:
            return None
        i = rng.choice(pairs)
        clusters[i], clusters[i + 1] = clusters[i + 1], clusters[i]
        return "".join(clusters)
