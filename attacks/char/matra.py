"""Indic vowel-sign and virama confusions: short/long matra swaps, virama dropped or added, nukta and
anusvara/candrabindu dropped or swapped. Every edit replaces a mark by a mark of the same consonant,
removes one, or puts a virama between two consonants, so no mark is ever detached."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import graphemes, is_letter_cluster

from ._rand import pick

# ISO 15924 code -> (first code point of its Unicode block, Unicode name of the script)
BLOCKS: dict[str, tuple[int, str]] = {
    "Deva": (0x0900, "DEVANAGARI"), "Beng": (0x0980, "BENGALI"), "Guru": (0x0A00, "GURMUKHI"),
    "Gujr": (0x0A80, "GUJARATI"), "Orya": (0x0B00, "ORIYA"), "Taml": (0x0B80, "TAMIL"),
    "Telu": (0x0C00, "TELUGU"), "Knda": (0x0C80, "KANNADA"), "Mlym": (0x0D00, "MALAYALAM"),
}
DRAVIDIAN = frozenset({"Taml", "Telu", "Knda", "Mlym"})  # short and long e/o are distinct letters there
_SHORT_LONG = (("I", "II"), ("U", "UU"))
_SHORT_LONG_EO = (("E", "EE"), ("O", "OO"))
_JOINERS = "\u200c\u200d"
_CONSONANT = regex.compile(r"\p{InSC=Consonant}")

Edit = tuple[int, int, str]  # replace word[start:end] (code points) with the string


def _char(script: str, name: str) -> str | None:
    try:
        return unicodedata.lookup(f"{BLOCKS[script][1]} {name}")
    except KeyError:
        return None


@dataclass(frozen=True)
class ScriptMarks:
    """The characters of one script that the edits use."""

    swaps: dict[str, str]  # short <-> long vowel signs and independent vowels; anusvara <-> candrabindu
    droppable: frozenset[str]  # nukta, anusvara, candrabindu (and Gurmukhi tippi, addak)
    virama: str


@lru_cache(maxsize=None)
def script_marks(script: str) -> ScriptMarks:
    """Looked up by Unicode name, so each pair is the same vowel in the script's own block.

    >>> script_marks("Deva").swaps["ि"], script_marks("Deva").swaps["ं"]
    ('ी', 'ँ')
    """
    pairs = list(_SHORT_LONG) + (list(_SHORT_LONG_EO) if script in DRAVIDIAN else [])
    swaps: dict[str, str] = {}
    for short, long in pairs:
        for kind in ("VOWEL SIGN", "LETTER"):
            a, b = _char(script, f"{kind} {short}"), _char(script, f"{kind} {long}")
            if a and b:
                swaps[a], swaps[b] = b, a
    if script == "Guru":  # Punjabi writers confuse bindi and tippi, both nasalisation
        nasal = (_char(script, "SIGN BINDI"), _char(script, "TIPPI"))
        drop = {_char(script, n) for n in ("SIGN NUKTA", "SIGN BINDI", "TIPPI", "ADDAK", "SIGN ADAK BINDI")}
    else:
        nasal = (_char(script, "SIGN ANUSVARA"), _char(script, "SIGN CANDRABINDU"))
        # Tamil has no anusvara or nukta in current use; Malayalam has no nukta
        names = ("SIGN NUKTA", "SIGN ANUSVARA", "SIGN CANDRABINDU") if script != "Taml" else ()
        drop = {_char(script, n) for n in names}
    if all(nasal) and script in ("Deva", "Beng", "Gujr", "Orya", "Guru"):
        swaps[nasal[0]], swaps[nasal[1]] = nasal[1], nasal[0]
    virama = _char(script, "SIGN VIRAMA")
    assert virama is not None
    return ScriptMarks(swaps, frozenset(d for d in drop if d), virama)


_BY_CHAR: dict[str, str] = {}
for _s, (_start, _) in BLOCKS.items():
    for _cp in range(_start, _start + 0x80):
        _BY_CHAR[chr(_cp)] = _s


def _is_consonant(ch: str) -> bool:
    return ch in _BY_CHAR and bool(_CONSONANT.match(ch))


@lru_cache(maxsize=1 << 16)
def matra_edits(word: str) -> tuple[Edit, ...]:
    """Every single edit this perturbation can make to `word`.

    >>> [w[:s] + new + w[e:] for w in ["नमस्ते"] for s, e, new in matra_edits(w)]
    ['न्मस्ते', 'नम्स्ते', 'नमसते']
    """
    edits: list[Edit] = []
    n = len(word)
    base_script = []  # per code point: the script of its cluster's base letter ("" for a detached mark)
    for g in graphemes(word):
        base_script += [_BY_CHAR.get(g[0], "") if is_letter_cluster(g) else ""] * len(g)
    for i, ch in enumerate(word):
        script = _BY_CHAR.get(ch)
        if script is None or base_script[i] != script:  # marks on a base of another script are left alone
            continue
        marks = script_marks(script)
        if ch in marks.swaps:
            edits.append((i, i + 1, marks.swaps[ch]))
        if ch in marks.droppable and i > 0:
            edits.append((i, i + 1, ""))
        if ch == marks.virama and i > 0:  # drop it, with a joiner that shaped it
            s, e = i, i + 1
            while s > 0 and word[s - 1] in _JOINERS:
                s -= 1
            while e < n and word[e] in _JOINERS:
                e += 1
            if s > 0:
                edits.append((s, e, ""))
        if _is_consonant(ch):  # add a virama after a bare consonant (and its nukta) before a consonant
            j = i + 1
            if j < n and word[j] in marks.droppable and unicodedata.name(word[j], "").endswith("NUKTA"):
                j += 1
            if j < n and _is_consonant(word[j]) and _BY_CHAR[word[j]] == script:
                edits.append((j, j, marks.virama))
    return tuple(edits)


@PERTURBATIONS.register("char.matra.v1")
@dataclass(frozen=True)
class MatraConfusion(WordEditPerturbation):
    """'किताब' -> 'कीताब'; 'पूजा' -> 'पुजा'; 'नमस्ते' -> 'नमसते' (virama dropped); 'हँस' -> 'हंस'.

    One edit per word, drawn uniformly among all the edits the word allows:
    - short/long vowel swap: vowel signs and independent vowels i/ii, u/uu (and e/ee, o/oo in Tamil,
      Telugu, Kannada, Malayalam), e.g. ि/ी, ु/ू, இ/ஈ;
    - virama dropped (a conjunct broken, with any joiner beside it) or added between two consonants
      (a conjunct formed);
    - nukta, anusvara or candrabindu dropped (Gurmukhi: bindi, tippi, addak, adak bindi);
      anusvara/candrabindu swapped (ं/ँ; Gurmukhi bindi/tippi ਂ/ੰ).
    Scripts: Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam. Marks
    are only replaced by marks, removed, or a virama is put right after a consonant, so no mark is
    ever left without its base.

    >>> import random; MatraConfusion().perturb("हिंदी में", 1.0, random.Random(1)).text
    'हींदी मे'
    """

    id = "char.matra.v1"
    family = "matra"
    description = "Indic vowel-sign/virama confusion: short/long matra swap, virama dropped or added, nukta/anusvara/candrabindu dropped or swapped"
    scripts = frozenset(BLOCKS)

    def eligible(self, word: str, lang: str) -> bool:
        return bool(matra_edits(word))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        edits = matra_edits(word)
        if not edits:
            return None
        s, e, new = pick(edits, rng)
        return word[:s] + new + word[e:]
