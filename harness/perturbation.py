"""Perturbation: a pure, seeded text edit with a severity in [0, 1] (DESIGN.md noun 2).

Plugins subclass `WordEditPerturbation` (word-local edits) or `Perturbation` directly and
register with `@PERTURBATIONS.register("family.name.v1")`. Parameters are dataclass fields;
the id is versioned: if outputs change for the same seed, register `.v2`.
"""
from __future__ import annotations

import dataclasses
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar


from .errors import ConfigError
from .registry import Registry
from .text import (
    cluster_script,
    grapheme_edit_rate,
    graphemes,
    ill_formed,
    is_letter_cluster,
    nfc,
    word_spans,
)

ALL_SCRIPTS = frozenset({"*"})
_SPACE = re.compile(r"\s")  # stdlib re: the same whitespace as str.split()


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


@dataclass(frozen=True)
class Perturbation(ABC):
    """Base class. Subclasses set the class attributes and implement `perturb`."""

    id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    scripts: ClassVar[frozenset[str]] = ALL_SCRIPTS
    description: ClassVar[str] = ""
    keeps_token_count: ClassVar[bool] = True

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
    """

    edits_per_word: int = 1

    def __post_init__(self) -> None:
        if self.edits_per_word < 1:
            raise ConfigError(f"{self.id}: edits_per_word must be >= 1, got {self.edits_per_word}")

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
        spans = word_spans(text, lang)
        eligible = [i for i, (s, e) in enumerate(spans) if self.eligible(text[s:e], lang)]
        if not eligible:
            return PerturbResult(text, False, 0, 0, 0.0, reason="no eligible word")
        k = _stochastic_round(severity * len(eligible), rng)
        if k == 0:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason="severity selected no word")
        chosen = sorted(rng.sample(eligible, k))
        pieces: list[str] = []
        alignment: list[Span] = []
        cursor = 0
        out_len = 0
        for i in chosen:
            s, e = spans[i]
            word = text[s:e]
            new = self._edit_checked(word, rng, lang)
            if new is None:
                continue
            pieces.append(text[cursor:s])
            out_len += s - cursor
            alignment.append(Span(s, e, out_len, out_len + len(new)))
            pieces.append(new)
            out_len += len(new)
            cursor = e
        pieces.append(text[cursor:])
        out = "".join(pieces)
        if not alignment:
            return PerturbResult(text, False, len(eligible), 0, 0.0, reason="no chosen word could be edited")
        n_edited = len(alignment)
        if nfc(out) != out:  # an edit composed with its neighbour: keep the text honest, coarsen alignment
            out = nfc(out)
            alignment = [Span(alignment[0].old_start, alignment[-1].old_end, alignment[0].new_start,
                              len(out) - (len(text) - alignment[-1].old_end))]
        return PerturbResult(out, True, len(eligible), n_edited, grapheme_edit_rate(text, out), tuple(alignment))

    def _edit_checked(self, word: str, rng: random.Random, lang: str) -> str | None:
        """Apply `edits_per_word` edits; reject results that detach a mark or vowel sign, or change nothing."""
        new: str | None = word
        base = ill_formed(word)
        for _ in range(self.edits_per_word):
            cand = self.edit_word(new, rng, lang)
            if cand is None:
                break
            cand = nfc(cand)
            if ill_formed(cand) > base or _SPACE.search(cand):
                break
            new = cand
        return None if new == word else new


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
