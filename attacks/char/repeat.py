"""Elongation: repeat one letter cluster of a word ('sooo'), or stretch an Arabic word with tatweel."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import regex

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster

from ._rand import pick
from ._unicode import DEPENDENT, LETTER, char_class

TATWEEL = "\u0640"  # ARABIC TATWEEL (kashida)
_DUAL_JOINING = regex.compile(r"\p{Joining_Type=Dual_Joining}")
_JOINS_BEFORE = regex.compile(r"[\p{Joining_Type=Dual_Joining}\p{Joining_Type=Right_Joining}]")

Site = tuple[str, int]  # ('repeat' | 'tatweel', cluster index)


@lru_cache(maxsize=1 << 16)
def repeat_sites(word: str, tatweel: bool) -> tuple[Site, ...]:
    """Where `word` can be elongated.

    'repeat': any letter cluster except a Thai/Lao leading vowel letter (repeating 'เ' would strand
    it). 'tatweel': after an Arabic letter that joins both ways (ب, not ا or د) and before another
    Arabic letter, where a kashida stretches the join.

    >>> repeat_sites("ok", False), repeat_sites("بيت", True)
    ((('repeat', 0), ('repeat', 1)), (('repeat', 0), ('repeat', 1), ('repeat', 2), ('tatweel', 0), ('tatweel', 1)))
    """
    clusters = graphemes(word)
    sites: list[Site] = [("repeat", i) for i, g in enumerate(clusters)
                         if is_letter_cluster(g) and char_class(g[0]) in (LETTER, DEPENDENT)]
    if tatweel:
        sites += [("tatweel", i) for i in range(len(clusters) - 1)
                  if cluster_script(clusters[i]) == "Arab" and _DUAL_JOINING.match(clusters[i])
                  and cluster_script(clusters[i + 1]) == "Arab" and _JOINS_BEFORE.match(clusters[i + 1])]
    return tuple(sites)


@PERTURBATIONS.register("char.repeat.v1")
@dataclass(frozen=True)
class RepeatCluster(WordEditPerturbation):
    """'so' -> 'sooo'; 'नमस्ते' -> 'नमस्तेस्ते' (whole clusters); 'جميل' -> 'جميـــل' (tatweel).

    One letter cluster is repeated 1..`max_repeat` extra times, marks and all, so a matra or
    harakat is never split off. With `arabic_tatweel` (default) Arabic words can also be stretched
    with 1..`max_repeat` tatweels (U+0640) inside a join; the two kinds of site are drawn uniformly
    together, so Arabic words get both letter repetition ('جمييل') and kashida. Any script.
    """

    max_repeat: int = 2
    arabic_tatweel: bool = True

    id = "char.repeat.v1"
    family = "repeat"
    description = "repeat one letter cluster of a word 1..max_repeat times (elongation); Arabic tatweel as an option"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.max_repeat, int) or self.max_repeat < 1:
            raise ConfigError(f"{self.id}: max_repeat must be an integer >= 1, got {self.max_repeat!r}")

    def eligible(self, word: str, lang: str) -> bool:
        return bool(repeat_sites(word, self.arabic_tatweel))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        sites = repeat_sites(word, self.arabic_tatweel)
        if not sites:
            return None
        kind, i = pick(sites, rng)
        n = 1 + int(rng.random() * self.max_repeat)
        clusters = graphemes(word)
        clusters.insert(i + 1, (TATWEEL if kind == "tatweel" else clusters[i]) * n)
        return "".join(clusters)
