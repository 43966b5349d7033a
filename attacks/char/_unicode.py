"""Character classes that keep edits well-formed beyond `\\X`: marks, and vowel signs encoded as letters.

Thai and Lao write some dependent vowels as letters (category Lo): 'า', 'ำ', 'ะ' follow a consonant
and 'เ', 'แ', 'โ', 'ใ', 'ไ' precede one (Logical_Order_Exception). Grapheme clustering does not tie
them to their consonant, so edits must treat them as vowel signs, not as free letters.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

_DEPENDENT_VOWEL = regex.compile(r"\p{InSC=Vowel_Dependent}")
_INDEPENDENT_VOWEL = regex.compile(r"\p{InSC=Vowel_Independent}")
_LEADING_VOWEL = regex.compile(r"\p{Logical_Order_Exception}")
_CONJOINING_JAMO = regex.compile(r"[\p{HST=L}\p{HST=V}\p{HST=T}]")

MARK, LEADING, DEPENDENT, LETTER = "M", "VL", "V", "L"


@lru_cache(maxsize=65536)
def char_class(ch: str) -> str | None:
    """'M' mark, 'VL' leading vowel letter, 'V' dependent vowel letter, 'L' other letter, None otherwise.

    >>> char_class("ि"), char_class("เ"), char_class("า"), char_class("ก"), char_class("1")
    ('M', 'VL', 'V', 'L', None)
    """
    cat = unicodedata.category(ch)
    if cat[0] == "M":
        return MARK
    if cat[0] != "L":
        return None
    if _LEADING_VOWEL.match(ch):
        return LEADING
    if _DEPENDENT_VOWEL.match(ch):
        return DEPENDENT
    return LETTER


@lru_cache(maxsize=65536)
def is_free_letter(ch: str) -> bool:
    """A letter that can stand anywhere in a word: not a modifier letter, vowel sign or conjoining jamo.

    >>> is_free_letter("क"), is_free_letter("า"), is_free_letter("ー"), is_free_letter("\u1100")
    (True, False, False, False)
    """
    return (char_class(ch) == LETTER and unicodedata.category(ch) != "Lm"
            and not _CONJOINING_JAMO.match(ch))


@lru_cache(maxsize=65536)
def carries_marks(ch: str) -> bool:
    """A letter that can carry combining marks or vowel signs (not an independent vowel like 'अ')."""
    return is_free_letter(ch) and not _INDEPENDENT_VOWEL.match(ch)


def dangling_vowels(clusters: list[str]) -> int:
    """Vowel letters without the consonant they need: a following vowel at the start or after a
    leading vowel, or a leading vowel at the end or before a non-letter.

    >>> dangling_vowels(["เ", "ก", "า"]), dangling_vowels(["า", "ก"]), dangling_vowels(["ก", "เ"])
    (0, 1, 1)
    """
    classes = [char_class(c[0]) for c in clusters]
    n = 0
    for i, k in enumerate(classes):
        if k == DEPENDENT and (i == 0 or classes[i - 1] not in (LETTER, DEPENDENT)):
            n += 1
        elif k == LEADING and (i == len(classes) - 1 or classes[i + 1] != LETTER):
            n += 1
    return n
