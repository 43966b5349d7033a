"""Character classes that keep edits well-formed beyond `\\X`: marks, and vowel signs encoded as letters.

Thai and Lao write some dependent vowels as letters (category Lo): 'า', 'ำ', 'ะ' follow a consonant
and 'เ', 'แ', 'โ', 'ใ', 'ไ' precede one (Logical_Order_Exception). Grapheme clustering does not tie
them to their consonant, so edits must treat them as vowel signs, not as free letters.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from harness.text import DEPENDENT, LEADING, LETTER, MARK, char_class, dangling_vowels  # noqa: F401

_INDEPENDENT_VOWEL = regex.compile(r"\p{InSC=Vowel_Independent}")
_CONJOINING_JAMO = regex.compile(r"[\p{HST=L}\p{HST=V}\p{HST=T}]")


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
