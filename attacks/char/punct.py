"""Punctuation noise at word boundaries: insert, delete or substitute a mark, never a new token."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.perturbation import (
    PERTURBATIONS,
    SEVERITY_UNITS,
    Perturbation,
    PerturbResult,
    Span,
    grapheme_word_share,
    splice,
)
from harness.text import dominant_script, grapheme_edit_rate, graphemes, is_mark, nfc, word_spans

from ._rand import pick
from ._unicode import DEPENDENT, LEADING, char_class

_LATIN = (",", ".", ";", "!", "?")
_LATIN_Q = (",", ".", "?", "!")
# Script -> the marks a writer of that script drops, adds or mixes up.
PUNCT_BY_SCRIPT: dict[str, tuple[str, ...]] = {
    "Latn": _LATIN, "Cyrl": _LATIN, "Geor": _LATIN, "Hebr": _LATIN,
    "Grek": (",", ".", "·", ";", "!"),  # ';' is the Greek question mark (U+037E is NFC ';'), '·' ano teleia
    "Armn": ("։", ",", "՝"),  # full stop, comma, but-mark; the question/exclamation marks sit over a vowel
    "Arab": ("،", "؛", "؟", ".", "!"),
    "Thaa": ("،", "؛", "؟", "."),
    "Deva": ("।", "॥", ",", "?", "!"),
    "Beng": ("।", ",", "?", "!"), "Guru": ("।", ",", "?", "!"), "Orya": ("।", ",", "?", "!"),
    "Gujr": _LATIN_Q, "Taml": _LATIN_Q, "Telu": _LATIN_Q, "Knda": _LATIN_Q, "Mlym": _LATIN_Q,
    "Sinh": _LATIN_Q, "Hang": _LATIN_Q,
    # Thai and Lao separate clauses and sentences with spaces; informal text adds ! and ?.
    "Thai": ("!", "?"), "Laoo": ("!", "?"),
    "Mymr": ("၊", "။"), "Khmr": ("។", "៕", "?"), "Tibt": ("།", "༎"), "Ethi": ("።", "፣", "፤", "፧"),
    "Hani": ("，", "。", "、", "！", "？"),
    "Hira": ("、", "。", "！", "？"), "Kana": ("、", "。", "！", "？"),
}
# (language, script) -> marks, where a language differs from its script's default.
PUNCT_BY_LANG: dict[tuple[str, str], tuple[str, ...]] = {
    ("ja", "Hani"): ("、", "。", "！", "？"),
    ("ur", "Arab"): ("،", "؛", "؟", "۔", "!"),  # Urdu full stop U+06D4
    ("mr", "Deva"): (",", ".", "?", "!"),  # Marathi uses the full stop, not the danda
}
SENTENCE_MARKS = frozenset(m for marks in (*PUNCT_BY_SCRIPT.values(), *PUNCT_BY_LANG.values()) for m in marks)
OPS = ("insert", "delete", "substitute")
NO_WORD = "no word in a script with punctuation marks and a boundary to edit"


def punct_marks(script: str, lang: str) -> tuple[str, ...]:
    """The marks for a word in `script` written by a `lang` writer (() when the script has none).

    >>> punct_marks("Hani", "zh"), punct_marks("Hani", "ja"), punct_marks("Arab", "ur-PK")[3]
    (('，', '。', '、', '！', '？'), ('、', '。', '！', '？'), '۔')
    """
    base = lang.replace("_", "-").split("-")[0].lower()
    return PUNCT_BY_LANG.get((base, script), PUNCT_BY_SCRIPT.get(script, ()))


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "P"


def _unit_end(text: str, i: int) -> int:
    """End of the punctuation unit at `i`: the mark plus any combining marks on it."""
    i += 1
    while i < len(text) and is_mark(text[i]):
        i += 1
    return i


def _unit_start_before(text: str, j: int, floor: int = 0) -> int | None:
    """Start of the punctuation unit ending at `j`, or None when text[:j] does not end with one."""
    k = j
    while k > floor and is_mark(text[k - 1]):
        k -= 1
    return k - 1 if k > floor and _is_punct(text[k - 1]) else None


def _clean_deletion(text: str, a: int, b: int) -> bool:
    """Deleting text[a:b] does not make its neighbours compose under NFC (e.g. Hangul jamo)."""
    pair = text[a - 1:a] + text[b:b + 1]
    return nfc(pair) == pair


@dataclass(frozen=True)
class BoundaryWord:
    """A word's letters [start, end), its punctuation units before (only at a token start) and after."""

    start: int
    end: int
    lead: tuple[tuple[int, int], ...]
    trail: tuple[tuple[int, int], ...]
    marks: tuple[str, ...]
    can_insert: bool


def boundary_words(text: str, lang: str) -> list[BoundaryWord]:
    """Words whose letters are in a script with punctuation marks, with the units around them.

    >>> [(w.start, w.end, w.lead, w.trail) for w in boundary_words("(Hi) there!", "en")]
    [(1, 3, ((0, 1),), ((3, 4),)), (5, 10, (), ((10, 11),))]
    """
    words = []
    for s, e in word_spans(text, lang):
        cs, ce = s, e
        while cs < ce and _is_punct(text[cs]):
            cs = _unit_end(text, cs)
        while ce > cs and (k := _unit_start_before(text, ce, cs)) is not None:
            ce = k
        if cs >= ce:
            continue
        core = text[cs:ce]
        marks = punct_marks(dominant_script(core), lang)
        if not marks:
            continue
        trail, j = [], ce
        while j < len(text) and _is_punct(text[j]):
            trail.append((j, _unit_end(text, j)))
            j = trail[-1][1]
        lead, j = [], cs
        while (k := _unit_start_before(text, j)) is not None:
            lead.insert(0, (k, j))
            j = k
        if j > 0 and not text[j - 1].isspace():  # only a token's own leading marks: never a neighbour's
            lead = []
        last = graphemes(core)[-1]
        can_insert = (not trail and char_class(last[0]) != LEADING
                      and (ce == len(text) or char_class(text[ce]) != DEPENDENT))
        words.append(BoundaryWord(cs, ce, tuple(lead), tuple(trail), marks, can_insert))
    return words


@PERTURBATIONS.register("char.punct.v1")
@dataclass(frozen=True)
class PunctuationNoise(Perturbation):
    """'Mary said she knew.' -> 'Mary, said she knew'; '北京很大' -> '北京，很大'; 'नमस्ते।' -> 'नमस्ते?'.

    Per chosen word, one of `ops` at its boundary: 'insert' a mark right after its letters (when no
    mark follows yet), 'delete' a punctuation mark attached to it, or 'substitute' an attached
    sentence mark with another. Marks come from the word's script (and language): Latin, Cyrillic,
    Georgian, Hebrew , . ; ! ?; Greek , . · ; !; Armenian ։ , ՝; Arabic ، ؛ ؟ . ! (Urdu ۔);
    Devanagari । ॥ , ? ! (Marathi . instead of the danda); Chinese ，。、！？; Japanese 、。！？;
    Thai/Lao only ! ? (they separate sentences with spaces); Myanmar ၊ ။; ... (PUNCT_BY_SCRIPT).
    A mark is always attached to a word and a word keeps its letters, so the whitespace token count
    never changes; marks before a word are touched only at the start of a token. `unit` means what
    it means for word edits (WordEditPerturbation): severity is a share of the eligible words, or
    with "grapheme" scales with the text's length in graphemes.
    """

    ops: tuple[str, ...] = OPS
    unit: str = "word"

    id = "char.punct.v1"
    family = "punct"
    description = "insert, delete or substitute a script-appropriate punctuation mark at a word boundary"
    scripts = frozenset(PUNCT_BY_SCRIPT)

    def __post_init__(self) -> None:
        ops = (self.ops,) if isinstance(self.ops, str) else tuple(self.ops)
        object.__setattr__(self, "ops", ops)  # a YAML list becomes a tuple: hashable, comparable
        if not ops or any(op not in OPS for op in ops):
            raise ConfigError(f"{self.id}: ops must be a non-empty subset of {list(OPS)}, got {list(ops)}")
        if self.unit not in SEVERITY_UNITS:
            raise ConfigError(f"{self.id}: unit must be one of {list(SEVERITY_UNITS)}, got {self.unit!r}")

    def _choices(self, text: str, w: BoundaryWord) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        if "insert" in self.ops and w.can_insert:
            out.append(("insert", None))
        units = w.lead + w.trail
        gone = [u for u in units if _clean_deletion(text, *u)]
        if "delete" in self.ops and gone:
            out.append(("delete", gone))
        if "substitute" in self.ops:
            subs = [u for u in units if u[1] - u[0] == 1 and text[u[0]] in SENTENCE_MARKS
                    and any(m != text[u[0]] for m in w.marks)]
            if subs:
                out.append(("substitute", subs))
        return out

    def _edit(self, text: str, w: BoundaryWord, rng: random.Random) -> tuple[int, int, str]:
        """(start, end, replacement) of one edit around `w`, covering its letters."""
        op, arg = pick(self._choices(text, w), rng)
        if op == "insert":
            a = b = w.end
            new = pick(w.marks, rng)
        elif op == "delete":
            a, b = pick(arg, rng)  # type: ignore[arg-type]
            new = ""
        else:
            a, b = pick(arg, rng)  # type: ignore[arg-type]
            new = pick([m for m in w.marks if m != text[a]], rng)
        start, end = min(a, w.start), max(b, w.end)
        return start, end, text[start:a] + new + text[b:end]

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if not 0.0 <= severity <= 1.0:
            raise ConfigError(f"{self.id}: severity must be in [0, 1], got {severity}")
        text = nfc(text)
        words = [w for w in boundary_words(text, lang) if self._choices(text, w)]
        if not words:
            return PerturbResult(text, False, 0, 0, 0.0, reason=NO_WORD)
        share = severity if self.unit == "word" else grapheme_word_share(text, severity, len(words))
        x = share * len(words)
        k = int(x) + (1 if rng.random() < x - int(x) else 0)
        if k == 0:
            return PerturbResult(text, False, len(words), 0, 0.0, reason="severity selected no word")
        out, alignment = splice(text, [self._edit(text, words[i], rng) for i in sorted(rng.sample(range(len(words)), k))])
        if nfc(out) != out:  # not expected (deletions that compose are never chosen): stay honest
            out = nfc(out)
            alignment = [Span(0, len(text), 0, len(out))]
        return PerturbResult(out, True, len(words), k, grapheme_edit_rate(text, out), tuple(alignment))
