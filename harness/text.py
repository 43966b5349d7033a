"""Grapheme-safe text utilities: clusters, scripts, word spans, well-formedness, edit rate.

Every edit in xrobust works on extended grapheme clusters (`regex` `\\X`), never on code points,
so a Devanagari matra, an Arabic haraka or a Thai vowel sign stays attached to its base.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from itertools import accumulate, count
from operator import add, sub

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


def _unspaced_prefilter() -> re.Pattern[str]:
    """A stdlib character class that matches every character `_UNSPACED_CHAR` matches (and more):
    exactly those below U+2E80, found by scanning them once, and everything from U+2E80 on.
    Searching with it is several times cheaper than the `regex` script classes on spaced text."""
    low = "".join(map(chr, range(0x2E80)))
    ranges: list[list[int]] = []
    for m in _UNSPACED_CHAR.finditer(low):
        cp = ord(m.group())
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}\u2e80-\U0010ffff]")


_UNSPACED_MAYBE = _unspaced_prefilter()
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
    clusters = _word_graphemes(text) if len(text) <= 64 else _GRAPHEME.findall(text)
    classes = [char_class(g[0]) for g in clusters]  # MARK exactly when is_mark(g[0])
    n = classes.count(MARK)
    if LEADING in classes or DEPENDENT in classes:  # otherwise no vowel letter can dangle
        n += dangling_vowels(clusters)
    return n


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
    return split_words(text, lang)[0]


def split_words(text: str, lang: str = "und") -> tuple[list[tuple[int, int]], list[str], bool]:
    """`word_spans(text, lang)`, the words themselves, and whether they are exactly the whitespace
    tokens of `text` (no unspaced-script token was cut into pieces).

    >>> split_words("ab  cd")
    ([(0, 2), (4, 6)], ['ab', 'cd'], True)
    """
    if text.isascii() or not _UNSPACED_MAYBE.search(text) or not _UNSPACED_CHAR.search(text):
        words = text.split()
        if " ".join(words) == text:  # single spaces only: spans from the word lengths
            ends = list(map(add, accumulate(map(len, words)), count()))
            return list(zip(map(sub, ends, map(len, words)), ends)), words, True
        return [m.span() for m in _TOKEN.finditer(text)], words, True
    spans = _unspaced_spans(text, lang)
    return spans, [text[s:e] for s, e in spans], False


def _unspaced_spans(text: str, lang: str) -> list[tuple[int, int]]:
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
    """Grapheme edits per non-space grapheme of the original (0.0 when nothing changed).

    >>> grapheme_edit_rate("नमस्ते दुनिया", "नमस्ते दुनियाँ"), grapheme_edit_rate("ab cd", "ab ce")
    (0.16666666666666666, 0.25)
    """
    if original == perturbed:
        return 0.0
    if original.isascii() and perturbed.isascii() and "\r" not in original and "\r" not in perturbed:
        # one cluster per character: compare the strings themselves
        return Levenshtein.distance(original, perturbed) / max(1, len("".join(original.split())))
    before_keys = _text_key(original)
    after_keys = _text_key(perturbed) if before_keys is not None else None
    if after_keys is not None:
        return Levenshtein.distance(before_keys[0], after_keys[0]) / max(1, before_keys[1])
    before = graphemes(original)
    base = len(before) - sum(map(str.isspace, before))
    return Levenshtein.distance(before, graphemes(perturbed)) / max(1, base)


_JOINS_SPACE_BEFORE: dict[str, bool] = {}
_JOINS_SPACE_AFTER: dict[str, bool] = {}


def _separable(token: str) -> bool:
    """False when a space right before `token` or right after it would join one of its clusters."""
    first, last = token[0], token[-1]
    before = _JOINS_SPACE_BEFORE.get(first)
    if before is None:
        before = _JOINS_SPACE_BEFORE[first] = len(_GRAPHEME.findall(" " + first)) == 1
    after = _JOINS_SPACE_AFTER.get(last)
    if after is None:
        after = _JOINS_SPACE_AFTER[last] = len(_GRAPHEME.findall(last + " ")) == 1
    return not (before or after)


# Grapheme clusters as single characters, so that cluster sequences compare as plain strings: a
# one-code-point cluster stands for itself, any other cluster for a character of plane 16 (private
# use) given out once per process, in order. Distinct clusters get distinct characters.
_KEY_BASE, _KEY_LIMIT = 0x100000, 0x10FFFE
_CLUSTER_KEYS: dict[str, str] = {}  # cluster -> key, both kinds (lookups in bulk with .get)
_KEYS_GIVEN = [0]
_CLUSTER_KEYS_LOCK = threading.Lock()


def _cluster_key(cluster: str) -> str | None:
    key = _CLUSTER_KEYS.get(cluster)
    if key is not None:
        return key
    with _CLUSTER_KEYS_LOCK:
        key = _CLUSTER_KEYS.get(cluster)
        if key is None:
            if len(cluster) == 1 and cluster < "\U00100000":
                key = cluster
            elif _KEY_BASE + _KEYS_GIVEN[0] < _KEY_LIMIT:
                key = chr(_KEY_BASE + _KEYS_GIVEN[0])
                _KEYS_GIVEN[0] += 1
            else:
                return None  # every key given out: callers fall back to comparing clusters
            _CLUSTER_KEYS[cluster] = key  # at most every code point plus 65,534 longer clusters
    return key


@lru_cache(maxsize=65536)
def token_key(token: str) -> str | None:
    """One character per grapheme cluster of a whitespace-free token (see `_cluster_key`), or None
    when a whitespace character next to it could join its first or last cluster (a leading
    combining mark, a trailing prepended mark).

    When every token of a text has a key, the text's clusters are the tokens' clusters with the
    whitespace characters (CR LF one cluster) between them: a cluster boundary falls at every edge of
    such a token, and no segmentation rule looks back past whitespace.

    >>> token_key("abc"), len(token_key("नमस्ते")), token_key("\u0301a")
    ('abc', 3, None)
    """
    if token.isascii():
        return token
    return word_facts(token)[1]


def _key_of(token: str, clusters: tuple[str, ...] | list[str]) -> str | None:
    if not clusters or not _separable(token):
        return None
    keys = list(map(_CLUSTER_KEYS.get, clusters))
    if None in keys:
        keys = list(map(_cluster_key, clusters))
        if None in keys:
            return None
    return "".join(keys)  # type: ignore[arg-type]


_FIRST_CLASS: dict[str, str] = {}  # cluster -> char_class of its first character, "" for None


def _first_class(cluster: str) -> str:
    cls = _FIRST_CLASS[cluster] = char_class(cluster[0]) or ""
    return cls


@lru_cache(maxsize=4096)  # mostly edited words, looked up again by word_edit_rate soon after
def word_facts(word: str) -> tuple[int, str | None]:
    """`(ill_formed(word), token_key(word))` for a whitespace-free word, from one segmentation:
    what an edited word is checked with, then measured by.

    >>> word_facts("नमस्ते") == (ill_formed("नमस्ते"), token_key("नमस्ते")), word_facts("\u093fक")[0]
    (True, 1)
    """
    if word.isascii():
        return 0, word
    clusters = _GRAPHEME.findall(word)
    if len(_FIRST_CLASS) > 1 << 18:
        _FIRST_CLASS.clear()
    classes = list(map(_FIRST_CLASS.get, clusters))
    if None in classes:
        classes = list(map(_first_class, clusters))
    n = classes.count(MARK)  # clusters that start with a mark
    if LEADING in classes or DEPENDENT in classes:
        n += dangling_vowels(clusters)
    if _JOINS_SPACE_BEFORE.get(word[0]) is False and _JOINS_SPACE_AFTER.get(word[-1]) is False:
        keys = list(map(_CLUSTER_KEYS.get, clusters))  # _key_of's usual path, inlined
        if None not in keys:
            return n, "".join(keys)  # type: ignore[arg-type]
    return n, _key_of(word, clusters)


_TOKEN_KEYS: dict[str, str] = {}  # word_edit_rate's own cache of token_key; "" stands for None

_WS_RUN = re.compile(r"(\s+)")  # stdlib re: the same whitespace as str.split()


def _text_key(text: str) -> tuple[str, int] | None:
    """One key character per grapheme cluster of `text` (see `token_key`) and the number of its
    non-space clusters, from cached per-token keys; None when a token could join the whitespace
    around it."""
    parts = _WS_RUN.split(text)  # token, whitespace, token, ..., token (end tokens may be "")
    keys = list(map(token_key, parts[0::2]))
    if None in keys:
        return None
    gaps = parts[1::2]
    if "\r" in text:
        gaps = [_gap_key(gap) for gap in gaps]
        if None in gaps:
            return None
    parts[0::2] = keys
    parts[1::2] = gaps
    return "".join(parts), sum(map(len, keys))  # type: ignore[arg-type]


def _gap_key(gap: str) -> str | None:
    """Keys of the clusters of a whitespace run: its characters, CR LF being one cluster."""
    if "\r\n" not in gap:
        return gap
    keys = list(map(_cluster_key, graphemes(gap)))
    return None if None in keys else "".join(keys)  # type: ignore[arg-type]


def word_edit_rate(text: str, spans: list[tuple[int, int]], words: list[str],
                   edited: list[tuple[int, str, str | None]]) -> float | None:
    """`grapheme_edit_rate(text, out)` for `out` = `text` with its whitespace tokens `words` (at
    `spans`) replaced as `edited` says ((word index, new word, its `token_key` or None to look it up),
    sorted by index, at least one), computed from per-word cluster keys; None when that cannot be
    done exactly (a word whose clusters could join the whitespace around it).

    Equal leading and trailing clusters do not change a Levenshtein distance, so only the stretch
    from the first to the last edited word is compared.

    >>> word_edit_rate("ab cd ef", [(0, 2), (3, 5), (6, 8)], ["ab", "cd", "ef"], [(0, "xb", None), (2, "efg", None)])
    0.3333333333333333
    """
    keys = list(map(_TOKEN_KEYS.get, words))  # token_key(word), or "" for None, from a plain dict
    if None in keys:
        if len(_TOKEN_KEYS) >= 1 << 16:
            _TOKEN_KEYS.clear()
        for j, key in enumerate(keys):
            if key is None:
                keys[j] = _TOKEN_KEYS[words[j]] = token_key(words[j]) or ""
    if "" in keys:
        return None
    base = max(1, sum(map(len, keys)))  # type: ignore[arg-type]
    first, last = edited[0][0], edited[-1][0]
    if first == last:
        new = edited[0][2] or token_key(edited[0][1])
        return None if new is None else Levenshtein.distance(keys[first], new) / base
    mid = keys[first:last + 1]
    start, end = spans[first][0], spans[last][1]
    if (end - start != sum(map(len, words[first:last + 1])) + last - first
            or text.count(" ", start, end) != last - first):  # not single spaces between the words
        gaps = [text[e:s] for (_, e), (s, _) in zip(spans[first:last], spans[first + 1:last + 1])]
        gap_keys = [_gap_key(gap) for gap in gaps]
        if None in gap_keys:
            return None
        parts = [""] * (2 * len(mid) - 1)
        parts[0::2], parts[1::2] = mid, gap_keys
        mid, sep = parts, ""
    else:
        sep = " "
    before = sep.join(mid)  # type: ignore[arg-type]
    step = 1 if sep else 2
    for j, new, new_key in edited:
        new_key = new_key or token_key(new)
        if new_key is None:
            return None
        mid[step * (j - first)] = new_key
    return Levenshtein.distance(before, sep.join(mid)) / base  # type: ignore[arg-type]
