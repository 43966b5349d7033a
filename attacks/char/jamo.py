"""Hangul jamo-level typos: decompose a syllable, change one jamo, recompose (Unicode arithmetic)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from harness.perturbation import PERTURBATIONS, WordEditPerturbation

from ._rand import pick

S_BASE, S_LAST = 0xAC00, 0xD7A3
N_VOWELS, N_FINALS = 21, 28

# Indices into the Unicode Hangul L (initial), V (vowel) and T (final, 0 = none) tables.
_LEAD = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWEL = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_TAIL = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"

# Vowels that sound (nearly) alike in Seoul Korean and are confused in writing.
VOWEL_GROUPS = ("ㅐㅔ", "ㅒㅖ", "ㅙㅚㅞ", "ㅢㅣ")
# Plain/tense initial consonants (one Shift key apart on the 2-set keyboard).
TENSE_PAIRS = ("ㄱㄲ", "ㄷㄸ", "ㅂㅃ", "ㅅㅆ", "ㅈㅉ")
# Final consonants written for one another: plain/tense, and a double final reduced to the one heard.
FINAL_SWAPS = {"ㄱ": "ㄲ", "ㄲ": "ㄱ", "ㅅ": "ㅆ", "ㅆ": "ㅅ",
               "ㄳ": "ㄱ", "ㄵ": "ㄴ", "ㄶ": "ㄴ", "ㄺ": "ㄱㄹ", "ㄻ": "ㅁ", "ㄼ": "ㄹ", "ㅀ": "ㄹ", "ㅄ": "ㅂ"}
# Finals added by an extra keystroke on an open syllable: the seven finals Korean pronounces.
ADDED_FINALS = "ㄱㄴㄹㅁㅂㅅㅇ"

OPERATIONS = ("vowel", "tense", "final", "drop_final", "add_final")


def decompose(syllable: str) -> tuple[int, int, int] | None:
    """(lead, vowel, tail) indices of a precomposed Hangul syllable, or None.

    >>> decompose("한")
    (18, 0, 4)
    """
    cp = ord(syllable)
    if not S_BASE <= cp <= S_LAST:
        return None
    s = cp - S_BASE
    return s // (N_VOWELS * N_FINALS), (s // N_FINALS) % N_VOWELS, s % N_FINALS


def compose(lead: int, vowel: int, tail: int) -> str:
    """The precomposed syllable of L, V, T indices.

    >>> compose(18, 0, 4)
    '한'
    """
    return chr(S_BASE + (lead * N_VOWELS + vowel) * N_FINALS + tail)


def _alternatives(table: str, groups: tuple[str, ...], index: int) -> list[int]:
    ch = table[index]
    return [table.index(c) for g in groups if ch in g for c in g if c != ch]


@lru_cache(maxsize=None)
def syllable_edits(syllable: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(operation, resulting syllables) for each operation that applies to `syllable`.

    >>> dict(syllable_edits("했"))["final"], dict(syllable_edits("게"))["vowel"]
    (('햇',), ('개',))
    """
    parts = decompose(syllable)
    if parts is None:
        return ()
    lead, vowel, tail = parts
    ops: dict[str, list[str]] = {}
    ops["vowel"] = [compose(lead, v, tail) for v in _alternatives(_VOWEL, VOWEL_GROUPS, vowel)]
    ops["tense"] = [compose(l, vowel, tail) for l in _alternatives(_LEAD, TENSE_PAIRS, lead)]
    ops["final"] = [compose(lead, vowel, _TAIL.index(t)) for t in FINAL_SWAPS.get(_TAIL[tail], "")] if tail else []
    ops["drop_final"] = [compose(lead, vowel, 0)] if tail else []
    ops["add_final"] = [compose(lead, vowel, _TAIL.index(t)) for t in ADDED_FINALS] if not tail else []
    return tuple((op, tuple(ops[op])) for op in OPERATIONS if ops[op])


@PERTURBATIONS.register("char.jamo.v1")
@dataclass(frozen=True)
class JamoTypo(WordEditPerturbation):
    """'했다' -> '햇다'; '게임' -> '개임'; '없다' -> '업다'; '가다' -> '까다'; '사람' -> '사라'.

    One Hangul syllable of the word is decomposed (Unicode arithmetic: L, V, T indices) and gets one
    jamo edit, drawn uniformly over (syllable, operation) and then over its results:
    - vowel: a vowel that sounds alike (ㅐ/ㅔ, ㅒ/ㅖ, ㅙ/ㅚ/ㅞ, ㅢ/ㅣ);
    - tense: plain/tense initial (ㄱ/ㄲ, ㄷ/ㄸ, ㅂ/ㅃ, ㅅ/ㅆ, ㅈ/ㅉ);
    - final: plain/tense final (ㄱ/ㄲ, ㅅ/ㅆ) or a double final reduced to one jamo (ㅄ -> ㅂ);
    - drop_final: the final consonant is dropped;
    - add_final: an open syllable gets one of ㄱ ㄴ ㄹ ㅁ ㅂ ㅅ ㅇ as final (an extra keystroke).
    The result is recomposed into a precomposed syllable: NFC, no loose conjoining jamo.

    >>> import random; JamoTypo().perturb("했다", 1.0, random.Random(0)).text
    '헸다'
    """

    id = "char.jamo.v1"
    family = "jamo"
    description = "change one jamo of a Hangul syllable (similar vowel, tense consonant, final dropped/added/simplified)"
    scripts = frozenset({"Hang"})

    @staticmethod
    def _sites(word: str) -> list[tuple[int, tuple[str, ...]]]:
        return [(i, results) for i, ch in enumerate(word) for _, results in syllable_edits(ch)]

    def eligible(self, word: str, lang: str) -> bool:
        return any(syllable_edits(ch) for ch in word)

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        sites = self._sites(word)
        if not sites:
            return None
        i, results = pick(sites, rng)
        return word[:i] + pick(results, rng) + word[i + 1:]
