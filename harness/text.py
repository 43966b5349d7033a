"""Grapheme-safe text utilities: clusters, scripts, word spans, well-formedness, edit rate.

Every edit in xrobust works on extended grapheme clusters (`regex` `\\X`), never on code points,
so a Devanagari matra, an Arabic haraka or a Thai vowel sign stays attached to its base.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import regex
from rapidfuzz.distance import Levenshtein

# ISO 15924 codes of the scripts xrobust knows by name (XTREME-R scripts first).
SCRIPTS: tuple[str, ...] = (
    "Latn", "Cyrl", "Grek", "Arab", "Hebr", "Deva", "Beng", "Taml", "Telu", "Knda", "Mlym",
    "Gujr", "Guru", "Orya", "Sinh", "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Geor", "Armn",
    "Ethi", "Hang", "Hani", "Hira", "Kana", "Thaa", "Syrc", "Bopo", "Mong", "Tfng",
)
# Scripts written without spaces between words: segmented into grapheme windows.
UNSPACED_WINDOW: dict[str, int] = {"Hani": 2, "Hira": 2, "Kana": 2, "Thai": 4, "Laoo": 4, "Khmr": 4, "Mymr": 4, "Tibt": 4}
# Scripts with an upper/lower case distinction.
CASED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn", "Geor"})

_GRAPHEME = regex.compile(r"\X")
_SCRIPT_RE = regex.compile("|".join(rf"(?P<{s}>\p{{sc={s}}})" for s in SCRIPTS) + r"|(?P<Zinh>\p{sc=Zinh})|(?P<Zyyy>\p{sc=Zyyy})")
_TOKEN = re.compile(r"\S+")  # stdlib re: the same whitespace as str.split()
_UNSPACED_CHAR = regex.compile("|".join(rf"\p{{sc={s}}}" for s in UNSPACED_WINDOW))
_MARK = regex.compile(r"\p{M}")
_DEPENDENT_VOWEL = regex.compile(r"\p{InSC=Vowel_Dependent}")
_LEADING_VOWEL = regex.compile(r"\p{Logical_Order_Exception}")

MARK, LEADING, DEPENDENT, LETTER = "M", "VL", "V", "L"


def nfc(text: str) -> str:
    """Unicode NFC, the normal form used at every boundary."""
    return unicodedata.normalize("NFC", text)


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters.

    >>> graphemes("नमस्ते")
    ['न', 'म', 'स्ते']
    """
    if text.isascii() and "\r" not in text:  # every ASCII character but CR LF is its own cluster
        return list(text)
    if len(text) <= 64:  # words repeat: cache them (callers may mutate the list, so copy)
        return list(_word_graphemes(text))
    return _GRAPHEME.findall(text)


@lru_cache(maxsize=65536)
def _word_graphemes(text: str) -> tuple[str, ...]:
    return tuple(_GRAPHEME.findall(text))


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str:
    """ISO 15924 code of one character ('Zyyy' common, 'Zinh' inherited, 'Zzzz' other)."""
    m = _SCRIPT_RE.match(ch)
    if m:
        return m.lastgroup  # type: ignore[return-value]
    return "Zzzz"


@lru_cache(maxsize=65536)
def is_letter_cluster(cluster: str) -> bool:
    """True when the cluster starts with a letter (its base), e.g. 'स्ते' or 'é'."""
    return bool(cluster) and unicodedata.category(cluster[0]).startswith("L")


def cluster_script(cluster: str) -> str:
    """Script of a grapheme cluster: the script of its base character."""
    return char_script(cluster[0]) if cluster else "Zzzz"


def is_mark(ch: str) -> bool:
    """True for combining marks (Mn, Mc, Me)."""
    return unicodedata.category(ch).startswith("M")


def detached_marks(text: str) -> int:
    """Number of grapheme clusters that start with a combining mark (a mark with no base)."""
    if not _MARK.search(text):
        return 0
    return sum(1 for g in graphemes(text) if is_mark(g[0]))


@lru_cache(maxsize=65536)
def char_class(ch: str) -> str | None:
    """'M' mark, 'VL' leading vowel letter, 'V' dependent vowel letter, 'L' other letter, None otherwise.

    Thai and Lao write some vowel signs as letters (category Lo): 'า' follows its consonant and
    'เ' precedes it (Logical_Order_Exception). Grapheme clustering does not tie them to the consonant.

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


def dangling_vowels(clusters: list[str]) -> int:
    """Vowel letters without their consonant: a following vowel at the start or after a leading
    vowel, or a leading vowel at the end or before a non-letter.

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


@lru_cache(maxsize=65536)
def ill_formed(text: str) -> int:
    """Detached combining marks plus dangling vowel letters: edits must never increase this count."""
    if text.isascii():
        return 0
    clusters = graphemes(text)
    return sum(1 for g in clusters if is_mark(g[0])) + dangling_vowels(clusters)


def dominant_script(text: str) -> str:
    """The most frequent script among letter clusters ('Zyyy' when there are none)."""
    counts: dict[str, int] = {}
    for g in graphemes(text):
        if is_letter_cluster(g):
            s = cluster_script(g)
            counts[s] = counts.get(s, 0) + 1
    return max(counts, key=lambda s: (counts[s], s)) if counts else "Zyyy"


def word_spans(text: str, lang: str = "und") -> list[tuple[int, int]]:
    """Character spans of words: whitespace tokens; tokens in unspaced scripts (Thai, Chinese,
    Japanese, Burmese, Khmer, Lao, Tibetan) are cut by ICU's dictionary word breaker (icu4py),
    or into grapheme windows when ICU is not installed.

    >>> word_spans("ab cd")
    [(0, 2), (3, 5)]
    >>> [w for s, e in word_spans("ภาษาไทยเป็นภาษา", "th") for w in ["ภาษาไทยเป็นภาษา"[s:e]]]
    ['ภาษา', 'ไทย', 'เป็น', 'ภาษา']
    """
    if not _UNSPACED_CHAR.search(text):
        return [m.span() for m in _TOKEN.finditer(text)]
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text):
        start, token = m.start(), m.group()
        if not _UNSPACED_CHAR.search(token):
            spans.append((start, m.end()))
            continue
        spans.extend((start + a, start + b) for a, b in _segment_unspaced(token, lang))
    return spans


def segmenter_name() -> str:
    """Which word segmenter unspaced scripts get here: 'icu <version>' or 'grapheme-window'."""
    breaker = _icu_breaker()
    if breaker is None:
        return "grapheme-window"
    from importlib.metadata import version

    return f"icu4py {version('icu4py')}"


@lru_cache(maxsize=1)
def _icu_breaker():
    try:
        from icu4py.breakers import WordBreaker
    except ImportError:  # optional at runtime: fall back to grapheme windows
        return None
    return WordBreaker


def _segment_unspaced(token: str, lang: str) -> list[tuple[int, int]]:
    breaker = _icu_breaker()
    if breaker is not None:
        segs = breaker(token, lang or "und").segments()
        if any(ord(ch) > 0xFFFF for ch in token):  # ICU counts UTF-16 units: map them to code points
            units = [0]
            for ch in token:
                units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
            index = {u: i for i, u in enumerate(units)}
            segs = [(index[a], index[b]) for a, b in segs]
        return [(a, b) for a, b in segs if not token[a:b].isspace()]
    window = UNSPACED_WINDOW.get(dominant_script(token), 2)
    out, pos = [], 0
    for piece in _windows(graphemes(token), window):
        out.append((pos, pos + len(piece)))
        pos += len(piece)
    return out


def _windows(clusters: list[str], size: int) -> list[str]:
    """Cut clusters into pieces of about `size`, never between a vowel letter and its consonant."""
    pieces: list[str] = []
    current: list[str] = []
    for i, g in enumerate(clusters):
        current.append(g)
        nxt = clusters[i + 1] if i + 1 < len(clusters) else None
        can_cut = nxt is None or (char_class(g[0]) != LEADING and char_class(nxt[0]) != DEPENDENT)
        if len(current) >= size and can_cut:
            pieces.append("".join(current))
            current = []
    if current:
        pieces.append("".join(current))
    return pieces


def grapheme_edit_distance(a: str, b: str) -> int:
    """Levenshtein distance counted in grapheme clusters."""
    return Levenshtein.distance(graphemes(a), graphemes(b))


def grapheme_edit_rate(original: str, perturbed: str) -> float:
    """Grapheme edits per non-space grapheme of the original (0.0 when nothing changed)."""
    if original == perturbed:
        return 0.0
    before = graphemes(original)
    base = len(before) - sum(map(str.isspace, before))
    return Levenshtein.distance(before, graphemes(perturbed)) / max(1, base)
