"""Delete one whole letter cluster from a word (a missed-key typo); marks go with their base."""
from __future__ import annotations

import random
from dataclasses import dataclass

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster

from ._rand import pick
from ._unicode import DEPENDENT, LEADING, char_class, dangling_vowels


@PERTURBATIONS.register("char.delete.v1")
@dataclass(frozen=True)
class DeleteCluster(WordEditPerturbation):
    """'hello' -> 'helo'; 'किताब' -> 'किब' (the matra of 'ता' leaves with its base).

    Words need two or more letter clusters; a deletion that would strand a Thai/Lao vowel letter
    without its consonant ('เกา' -> 'เา') is never chosen.
    """

    id = "char.delete.v1"
    family = "delete"
    description = "delete one letter grapheme cluster from a word with at least two"

    def _sites(self, clusters: list[str]) -> list[int]:
        letters = [i for i, g in enumerate(clusters) if is_letter_cluster(g)]
        if len(letters) < 2:
            return []
        sites = [i for i in letters if self.supports_script(cluster_script(clusters[i]))]
        if any(char_class(g[0]) in (LEADING, DEPENDENT) for g in clusters):
            before = dangling_vowels(clusters)
            sites = [i for i in sites if dangling_vowels(clusters[:i] + clusters[i + 1:]) <= before]
        return sites

    def eligible(self, word: str, lang: str) -> bool:
        return bool(self._sites(graphemes(word)))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        clusters = graphemes(word)
        sites = self._sites(clusters)
        if not sites:
            return None
        del clusters[pick(sites, rng)]
        return "".join(clusters)
