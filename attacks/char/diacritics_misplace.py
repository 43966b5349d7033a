"""Move a diacritic to the neighbouring letter ('είναι' -> 'έιναι', Vietnamese 'hoà' -> 'hòa')."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster, nfc

from ._diacritics import DIACRITIC_SCRIPTS, VIETNAMESE_TONES, decompose, is_diacritic
from ._rand import pick
from ._unicode import is_free_letter

_VOWELS = {"Latn": frozenset("aeiouyAEIOUY"), "Grek": frozenset("αεηιουωΑΕΗΙΟΥΩ")}
_HEBREW_MOVABLE = frozenset(chr(c) for c in range(0x05B0, 0x05BD)) | {"\u05c7"}  # vowel points and dagesh
_SHADDA = "\u0651"

Move = tuple[int, int, int]  # (source cluster, index of the mark in its NFD, target cluster)


def _movable(mark: str, script: str, lang: str) -> bool:
    if not is_diacritic(mark, script):
        return False
    if script == "Hebr":  # shin/sin dots belong to shin; cantillation is left alone
        return mark in _HEBREW_MOVABLE
    if script == "Latn" and lang.split("-")[0].split("_")[0].lower() == "vi":
        return mark in VIETNAMESE_TONES  # Vietnamese: the tone mark lands on the wrong vowel
    return True


def _slot(mark: str, script: str) -> object:
    """Marks in the same slot exclude each other on one letter (two accents above, two harakat)."""
    if script == "Arab":
        return "shadda" if mark == _SHADDA else "vowel"
    return unicodedata.combining(mark)


def _receives(target: str, mark: str, script: str) -> bool:
    """Whether the letter cluster `target` (NFD) can take `mark`: a free letter of the same script
    with no mark in the same slot; Latin and Greek need a vowel that has a precomposed letter with it."""
    base = target[0]
    if not is_free_letter(base) or cluster_script(base) != script:
        return False
    if any(_slot(m, script) == _slot(mark, script) for m in target[1:] if is_diacritic(m, script)):
        return False
    if script in _VOWELS:
        return base in _VOWELS[script] and len(nfc(target + mark)) == 1
    return True


@lru_cache(maxsize=1 << 16)
def misplace_moves(word: str, lang: str) -> tuple[Move, ...]:
    """Every way to move one diacritic of `word` onto an adjacent letter cluster.

    >>> misplace_moves("hoà", "vi"), misplace_moves("café", "fr")
    (((2, 1, 1),), ())
    """
    clusters = [decompose(g) for g in graphemes(word)]
    moves = []
    for i, g in enumerate(clusters):
        if not is_letter_cluster(g):
            continue
        script = cluster_script(g)
        if script not in DIACRITIC_SCRIPTS:
            continue
        for k in range(1, len(g)):
            if not _movable(g[k], script, lang):
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(clusters) and is_letter_cluster(clusters[j]) and _receives(clusters[j], g[k], script):
                    moves.append((i, k, j))
    return tuple(moves)


@PERTURBATIONS.register("char.diacritics.misplace.v1")
@dataclass(frozen=True)
class MisplaceDiacritic(WordEditPerturbation):
    """'είναι' -> 'έιναι'; 'pasión' -> 'pasíon'; Vietnamese 'hoà' -> 'hòa'; 'كَتَب' -> 'كتَب' + fatha on ب.

    One diacritic moves to the letter before or after it (same script): Latin and Greek marks go to
    a neighbouring vowel that has a precomposed form with them (so 'café' has no move); for `lang`
    'vi' only tone marks move, which swaps the tone between the vowels of a syllable ('Việt' ->
    'Vịêt'); Arabic harakat/tanwin/shadda and Hebrew vowel points/dagesh go to any neighbouring letter
    without a mark of the same kind. Works on NFD internally; the output is NFC.
    """

    id = "char.diacritics.misplace.v1"
    family = "diacritics"
    description = "move one diacritic (accent, tone mark, tonos, haraka, niqqud) to a neighbouring letter"
    scripts = DIACRITIC_SCRIPTS

    def ineligible_reason(self) -> str:
        return "no word with a diacritic that can move to a neighbouring letter"

    def eligible(self, word: str, lang: str) -> bool:
        return bool(misplace_moves(word, lang))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        moves = misplace_moves(word, lang)
        if not moves:
            return None
        i, k, j = pick(moves, rng)
        clusters = [decompose(g) for g in graphemes(word)]
        mark = clusters[i][k]
        clusters[i] = clusters[i][:k] + clusters[i][k + 1:]
        clusters[j] = clusters[j] + mark
        return nfc("".join(clusters))
