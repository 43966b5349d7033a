"""Perturbation: a pure, seeded text edit with a severity in [0, 1] (DESIGN.md noun 2).

Plugins subclass `WordEditPerturbation` (word-local edits) or `Perturbation` directly and
register with `@PERTURBATIONS.register("family.name.v1")`. Parameters are dataclass fields;
the id is versioned: if outputs change for the same seed, register `.v2`.
"""
from __future__ import annotations

import dataclasses
import random
import re
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping


from .errors import ConfigError
from .registry import Registry
from .text import (
    cluster_script,
    grapheme_edit_rate,
    graphemes,
    ill_formed,
    is_letter_cluster,
    nfc,
    split_words,
    word_edit_rate,
    word_facts,
)

_word_facts = word_facts.__wrapped__  # uncached

ALL_SCRIPTS = frozenset({"*"})
# Non-space graphemes per whitespace word in English XNLI (test 4.79, train 4.76): the grapheme unit
# gives English the same number of edits as the word unit.
REFERENCE_GRAPHEMES_PER_WORD = 4.75
SEVERITY_UNITS = ("word", "grapheme")
_SPACE = re.compile(r"\s")  # stdlib re: the same whitespace as str.split()
_normalize = unicodedata.normalize


@dataclass(frozen=True, slots=True)
class Span:
    """One edited region: original characters [old_start, old_end) became [new_start, new_end)."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


@dataclass(frozen=True, slots=True)
class PerturbResult:
    """What a perturbation did to one text."""

    text: str
    applied: bool
    n_eligible: int
    n_edited: int
    edit_rate: float
    alignment: tuple[Span, ...] = ()
    reason: str = ""  # why nothing was applied, when applied is False
    # Optional extras a perturbation reports, read-only by convention, e.g. code-switching's
    # `token_langs` (one language tag per whitespace token of `text`) and `cmi` (code-mixing index).
    # Left out of the hash so results stay hashable; values must compare equal when recomputed (no NaN).
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Perturbation(ABC):
    """Base class. Subclasses set the class attributes and implement `perturb`."""

    id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    scripts: ClassVar[frozenset[str]] = ALL_SCRIPTS
    description: ClassVar[str] = ""
    keeps_token_count: ClassVar[bool] = True
    # parameters that name a file (a `{lang}` template): in a suite, a relative path is taken from the suite
    # file's folder
    path_params: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        """Edit `text` at `severity` using only `rng` for randomness."""

    def supports_script(self, script: str) -> bool:
        return self.scripts == ALL_SCRIPTS or script in self.scripts

    def params(self) -> dict[str, object]:
        """The perturbation's parameters (its dataclass fields)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class WordEditPerturbation(Perturbation):
    """Edit a share `severity` of the eligible words, `edits_per_word` grapheme edits each.

    The number of words is `severity * n_eligible`, rounded stochastically with the example's own
    RNG so the expected share equals the severity even for short texts.

    `unit="grapheme"` makes the edit rate independent of word length: a text of G non-space
    graphemes gets `severity * G / REFERENCE_GRAPHEMES_PER_WORD` (4.75, English) edited words
    instead, at most one per eligible word. English then gets what the word unit gives it, and
    Hindi, Thai or Chinese the same grapheme edit rate (`xrobust calibrate` measures it).
    """

    edits_per_word: int = 1
    unit: str = "word"  # what severity is a share of: "word" (eligible words) | "grapheme" (see above)

    def __post_init__(self) -> None:
        if self.edits_per_word < 1:
            raise ConfigError(f"{self.id}: edits_per_word must be >= 1, got {self.edits_per_word}")
        if self.unit not in SEVERITY_UNITS:
            raise ConfigError(f"{self.id}: unit must be one of {list(SEVERITY_UNITS)}, got {self.unit!r}")

    def ineligible_reason(self) -> str:
        """What `reason` says when no word of a text is eligible (subclasses say what they look for)."""
        return "no eligible word"

    def eligible(self, word: str, lang: str) -> bool:
        """A word is eligible when it has a letter cluster in a supported script."""
        return any(is_letter_cluster(g) and self.supports_script(cluster_script(g)) for g in graphemes(word))

    @abstractmethod
    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        """One grapheme-level edit of `word`, or None when this word cannot be edited."""

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if not 0.0 <= severity <= 1.0:
            raise ConfigError(f"{self.id}: severity must be in [0, 1], got {severity}")
        text = nfc(text)
        spans, words, spaced = split_words(text, lang)
        eligible = self._eligible_indices(words, lang)
        if not eligible:
            return PerturbResult(text, False, 0, 0, 0.0, reason=self.ineligible_reason())
        share = severity if self.unit == "word" else grapheme_word_share(text, severity, len(eligible))
        k = _stochastic_round(share * len(eligible), rng)
        if k == 0:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason="severity selected no word")
        edits = []
        edited = []
        own_check = type(self).edit_word_checked is WordEditPerturbation.edit_word_checked
        checked_edit = self._checked_edit if own_check else None
        for i in sorted(rng.sample(eligible, k)):
            if checked_edit is not None:
                edit = checked_edit(words[i], rng, lang)
                if edit is None:
                    continue
                new, key = edit
            else:  # a subclass checks its edits itself
                new, key = self.edit_word_checked(words[i], rng, lang), None
                if new is None:
                    continue
            s, e = spans[i]
            edits.append((s, e, new))
            edited.append((i, new, key))
        out, aligned = splice(text, edits)
        alignment = list(aligned)
        if not alignment:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason="no chosen word could be edited")
        n_edited = len(alignment)
        rate = None
        if spaced and own_check:
            # NFC words put in place of whole whitespace tokens of an NFC text: the output is NFC
            # (whitespace is stable and begins no canonical composition), and the rate comes from
            # per-word clusters
            rate = word_edit_rate(text, spans, words, edited)
        elif nfc(out) != out:  # an edit composed with its neighbour: keep the text honest, coarsen alignment
            out = nfc(out)
            alignment = [Span(alignment[0].old_start, len(text), alignment[0].new_start, len(out))]
        if rate is None:
            rate = grapheme_edit_rate(text, out)
        return PerturbResult(out, True, len(eligible), n_edited, rate, tuple(alignment))

    def _eligible_indices(self, words: list[str], lang: str) -> list[int]:
        """Indices of the eligible words: `eligible` of each, in order (subclasses may do it in bulk)."""
        is_eligible = self.eligible
        return [i for i, word in enumerate(words) if is_eligible(word, lang)]

    def edit_word_checked(self, word: str, rng: random.Random, lang: str) -> str | None:
        """Apply `edits_per_word` edits; reject results that detach a mark or vowel sign, or change nothing.
        Public: the attack engine draws its candidate words through it (attacks/search/candidates.py), and a
        subclass with its own well-formedness rules overrides it (then `perturb` calls it for every word)."""
        edit = self._checked_edit(word, rng, lang)
        return None if edit is None else edit[0]

    def _checked_edit(self, word: str, rng: random.Random, lang: str) -> tuple[str, str | None] | None:
        """`edit_word_checked`, with the new word's cluster key (text.word_facts) for the edit rate."""
        if self.edits_per_word == 1:  # the loop below, unrolled for its usual single edit
            cand = self.edit_word(word, rng, lang)
            if cand is None:
                return None
            cand = _normalize("NFC", cand)  # nfc()
            if _SPACE.search(cand):
                return None
            n_ill, key = _word_facts(cand)  # n_ill == ill_formed(cand); edited words rarely recur: no cache
            if n_ill and n_ill > ill_formed(word):
                return None
            return None if cand == word else (cand, key)
        new, new_key = word, None
        base = ill_formed(word)
        edit_word = self.edit_word
        for _ in range(self.edits_per_word):
            cand = edit_word(new, rng, lang)
            if cand is None:
                break
            cand = _normalize("NFC", cand)  # nfc()
            if _SPACE.search(cand):
                break
            n_ill, key = _word_facts(cand)  # n_ill == ill_formed(cand)
            if n_ill > base:
                break
            new, new_key = cand, key
        return None if new == word else (new, new_key)


def content_graphemes(text: str) -> int:
    """Non-space grapheme clusters: the denominator of the measured edit rate.

    >>> content_graphemes("नमस्ते world")
    8
    """
    return sum(1 for g in graphemes(text) if not g.isspace())


def grapheme_word_share(text: str, severity: float, n_eligible: int) -> float:
    """Share of the `n_eligible` words to edit so that `severity` means
    `severity / REFERENCE_GRAPHEMES_PER_WORD` word edits per non-space grapheme of `text` (capped at 1).

    >>> round(grapheme_word_share("abcd efgh ijkl", 0.5, 3), 4)   # 12 graphemes -> 1.263 words of 3
    0.4211
    >>> grapheme_word_share("我爱北京", 0.3, 0)
    0.0
    """
    if n_eligible <= 0 or severity <= 0.0:
        return 0.0
    return min(1.0, severity * content_graphemes(text) / (REFERENCE_GRAPHEMES_PER_WORD * n_eligible))


def splice(text: str, edits: Iterable[tuple[int, int, str]]) -> tuple[str, tuple[Span, ...]]:
    """Replace sorted, disjoint `(old_start, old_end, new)` regions of `text`; return the new text and
    its exact alignment.

    >>> splice("ab cd", [(0, 2, "xyz")])
    ('xyz cd', (Span(old_start=0, old_end=2, new_start=0, new_end=3),))
    """
    pieces: list[str] = []
    alignment: list[Span] = []
    add_piece, add_span = pieces.append, alignment.append
    cursor = out_len = 0
    for s, e, new in edits:
        add_piece(text[cursor:s])
        out_len += s - cursor
        n = len(new)
        add_span(Span(s, e, out_len, out_len + n))
        add_piece(new)
        out_len += n
        cursor = e
    add_piece(text[cursor:])
    return "".join(pieces), tuple(alignment)


def _stochastic_round(x: float, rng: random.Random) -> int:
    floor = int(x)
    return floor + (1 if rng.random() < x - floor else 0)


PERTURBATIONS: Registry[type[Perturbation]] = Registry(
    "perturbation", builtin_modules=("attacks",), entry_point_group="xrobust.perturbations"
)


def make_perturbation(pid: str, params: dict[str, object] | None = None) -> Perturbation:
    """Instantiate a registered perturbation with its parameters; bad parameters raise ConfigError."""
    cls = PERTURBATIONS.get(pid)
    try:
        return cls(**(params or {}))
    except TypeError as exc:
        fields = [f.name for f in dataclasses.fields(cls)]
        raise ConfigError(f"{pid}: bad parameters {params!r} ({exc}); allowed: {fields}") from None


def map_span(alignment: Iterable[Span], start: int, end: int) -> tuple[int, int, bool]:
    """Where the original characters [start, end) are in the perturbed text, and whether the mapping is exact.

    Text outside the edited regions shifts by the length changes before it. A boundary that falls strictly
    inside an edited region snaps outward to that region's edges and the mapping is not exact (the span was
    cut by an edit). Insertions exactly at a boundary stay outside the span.

    >>> al = (Span(0, 2, 0, 3), Span(6, 8, 7, 7))          # "ab cd ef gh" -> "xyz cd  gh"
    >>> map_span(al, 3, 5), map_span(al, 9, 11), map_span(al, 1, 5)
    ((4, 6, True), (8, 10, True), (0, 6, False))
    """
    spans = sorted(alignment, key=lambda sp: (sp.old_start, sp.old_end))
    new_start, exact_start = _map_start(spans, start)
    new_end, exact_end = _map_end(spans, end)
    return new_start, max(new_start, new_end), exact_start and exact_end


def _map_start(spans: list[Span], pos: int) -> tuple[int, bool]:
    shift = 0
    for sp in spans:
        if sp.old_end <= pos and not (sp.old_start == pos < sp.old_end):
            shift = sp.new_end - sp.old_end  # region entirely before pos (or an insertion at pos)
        elif sp.old_start <= pos < sp.old_end:
            return sp.new_start, sp.old_start == pos
        else:
            break
    return pos + shift, True


def _map_end(spans: list[Span], pos: int) -> tuple[int, bool]:
    shift = 0
    for sp in spans:
        if sp.old_end < pos:
            shift = sp.new_end - sp.old_end
        elif sp.old_start < pos <= sp.old_end:
            return sp.new_end, sp.old_end == pos
        else:
            break  # starts at or after pos: insertions at pos stay outside
    return pos + shift, True
