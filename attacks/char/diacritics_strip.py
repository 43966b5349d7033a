"""Strip diacritics from a word, as typed on a keyboard without them ('Việt' -> 'Viet')."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster, nfc

from ._diacritics import DIACRITIC_SCRIPTS, FOLDS, decompose, is_diacritic
from ._rand import pick


@lru_cache(maxsize=1 << 16)
def stripped(cluster: str) -> str:
    """`cluster` without its diacritics (NFC); unchanged when it has none or is not in a diacritic script.

    >>> stripped("ệ"), stripped("đ"), stripped("ά"), stripped("لُّ"), stripped("أُ"), stripped("שָׁ"), stripped("कि")
    ('e', 'd', 'α', 'ل', 'أ', 'ש', 'कि')
    """
    if not is_letter_cluster(cluster):
        return cluster
    script = cluster_script(cluster)
    if script not in DIACRITIC_SCRIPTS:
        return cluster
    d = decompose(cluster)
    base = FOLDS.get(d[0], d[0]) if script == "Latn" else d[0]
    return nfc(base + "".join(m for m in d[1:] if not is_diacritic(m, script)))


@lru_cache(maxsize=1 << 16)
def strip_sites(word: str) -> tuple[int, ...]:
    """Indices of the clusters of `word` that carry a diacritic."""
    return tuple(i for i, g in enumerate(graphemes(word)) if stripped(g) != g)


@PERTURBATIONS.register("char.diacritics.strip.v1")
@dataclass(frozen=True)
class StripDiacritics(WordEditPerturbation):
    """'Việt Nam' -> 'Viet Nam'; 'Καλημέρα' -> 'Καλημερα'; 'جَمِيلَةٌ' -> 'جميلة'; 'שָׁלוֹם' -> 'שלום'.

    Removes the diacritics of every letter of the word (`whole_word=True`, the way text typed
    without accents looks) or of `edits_per_word` letters (`whole_word=False`). Diacritics are
    Latin accents and Vietnamese tone/vowel marks (plus đ/ł/ı, folded to d/l/i), Greek
    tonos/dialytika/breathings, Arabic harakat/tanwin/shadda/sukun (hamza and madda stay: they are
    part of أ إ آ), and Hebrew niqqud/cantillation. Indic vowel signs are never touched. Works on
    NFD internally; the output is NFC.
    """

    whole_word: bool = True

    id = "char.diacritics.strip.v1"
    family = "diacritics"
    description = "remove the diacritics (accents, tone marks, tonos, harakat, niqqud) of a word"
    scripts = DIACRITIC_SCRIPTS

    def ineligible_reason(self) -> str:
        return "no word with a diacritic (Latin, Greek, Arabic or Hebrew)"

    def eligible(self, word: str, lang: str) -> bool:
        return bool(strip_sites(word))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        sites = strip_sites(word)
        if not sites:
            return None
        clusters = graphemes(word)
        for i in (sites if self.whole_word else (pick(sites, rng),)):
            clusters[i] = stripped(clusters[i])
        return "".join(clusters)
