"""Grapheme-safe text utilities: clusters, scripts, word spans, well-formedness, edit rate.

Every edit in xrobust works on extended grapheme clusters (`regex` `\\X`), never on code points,
so a Devanagari matra, an Arabic haraka or a Thai vowel sign stays attached to its base.
"""
from __future__ import annotations

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
_SCRIPT_RE = regex.compile("|".join(rf"(?P<{s}>\p{{sc={s}}})" for s in SCRIPTS))
_TOKEN = regex.compile(r"\S+")


def nfc(text: str) -> str:
    """Unicode NFC, the normal form used at every boundary."""
    return unicodedata.normalize("NFC", text)


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters.

    >>> graphemes("नमस्ते")
    ['न', 'म', 'स्ते']
    """
    return _GRAPHEME.findall(text)


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str:
    """ISO 15924 code of one character ('Zyyy' common, 'Zinh' inherited, 'Zzzz' other)."""
    m = _SCRIPT_RE.match(ch)
    if m:
        return m.lastgroup  # type: ignore[return-value]
    if unicodedata.category(ch).startswith("M"):
        return "Zinh"
    return "Zyyy" if ch.isascii() or unicodedata.category(ch)[0] in "NPSZC" else "Zzzz"


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
    return sum(1 for g in graphemes(text) if is_mark(g[0]))


def dominant_script(text: str) -> str:
    """The most frequent script among letter clusters ('Zyyy' when there are none)."""
    counts: dict[str, int] = {}
    for g in graphemes(text):
        if is_letter_cluster(g):
            s = cluster_script(g)
            counts[s] = counts.get(s, 0) + 1
    return max(counts, key=lambda s: (counts[s], s)) if counts else "Zyyy"


def word_spans(text: str, lang: str = "und") -> list[tuple[int, int]]:
    """Character spans of words: whitespace tokens, unspaced-script runs cut into grapheme windows.

    >>> word_spans("ab cd")
    [(0, 2), (3, 5)]
    """
    spans: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(text):
        start, token = m.start(), m.group()
        script = dominant_script(token)
        window = UNSPACED_WINDOW.get(script)
        if window is None or len(token) <= window:
            spans.append((start, m.end()))
            continue
        pos = start
        clusters = graphemes(token)
        for i in range(0, len(clusters), window):
            piece = "".join(clusters[i : i + window])
            spans.append((pos, pos + len(piece)))
            pos += len(piece)
    return spans


def grapheme_edit_distance(a: str, b: str) -> int:
    """Levenshtein distance counted in grapheme clusters."""
    return Levenshtein.distance(graphemes(a), graphemes(b))


def grapheme_edit_rate(original: str, perturbed: str) -> float:
    """Grapheme edits per non-space grapheme of the original (0.0 when nothing changed)."""
    if original == perturbed:
        return 0.0
    base = sum(1 for g in graphemes(original) if not g.isspace())
    return grapheme_edit_distance(original, perturbed) / max(1, base)
