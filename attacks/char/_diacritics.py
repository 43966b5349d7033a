"""Which combining marks count as diacritics, per script, for `char.diacritics.strip.v1` and `.misplace.v1`.

Diacritics are marks that sit on a letter and can be dropped or misplaced while the letter stays
readable: Latin accents and Vietnamese tone/vowel marks, Greek tonos/dialytika/breathings,
Arabic harakat/tanwin/shadda/sukun (not hamza or madda, which NFD splits off أ إ آ ؤ ئ),
Hebrew niqqud and cantillation. Indic vowel signs are not diacritics: they are the vowels of
their consonants (see the matra perturbation).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

DIACRITIC_SCRIPTS = frozenset({"Latn", "Grek", "Arab", "Hebr"})
_COMBINING_BLOCKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
_ARABIC = frozenset(range(0x064B, 0x0653)) | {0x0670}  # tanwin, harakat, shadda, sukun; superscript alef
_HEBREW_POINTS = frozenset(range(0x05B0, 0x05BE)) | {0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5, 0x05C7}
_HEBREW_CANTILLATION = frozenset(range(0x0591, 0x05B0))
# Vietnamese tone marks (huyền, sắc, ngã, hỏi, nặng); the others (circumflex, breve, horn) mark vowel quality.
VIETNAMESE_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Letters whose diacritic is not a combining mark, folded the way unaccented typing folds them.
FOLDS = {"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i"}


@lru_cache(maxsize=4096)
def is_diacritic(mark: str, script: str) -> bool:
    """Whether combining `mark` is a diacritic on a base letter of `script`.

    >>> is_diacritic("\u0301", "Latn"), is_diacritic("\u064e", "Arab"), is_diacritic("\u0654", "Arab")
    (True, True, False)
    """
    if not unicodedata.category(mark).startswith("M"):
        return False
    cp = ord(mark)
    if script in ("Latn", "Grek"):
        return any(a <= cp <= b for a, b in _COMBINING_BLOCKS)
    if script == "Arab":
        return cp in _ARABIC
    if script == "Hebr":
        return cp in _HEBREW_POINTS or cp in _HEBREW_CANTILLATION
    return False


def decompose(cluster: str) -> str:
    """NFD of one cluster: the base letter first, then its marks in canonical order."""
    return unicodedata.normalize("NFD", cluster)
