"""Immutable records that flow through a run (DESIGN.md nouns: Example; plus Variant and Cell)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CLEAN = "clean"  # the perturbation id of unperturbed cells


@dataclass(frozen=True)
class Example:
    """One evaluation item: stable `id`, language, named `fields`, gold `label`, free `meta`.

    Fields are text, except a token task's `tokens` (a tuple of words). The label is what the task type
    scores against: a label name (classification, multiple choice: the index of the right choice as text),
    a tuple of tags (token classification), a tuple of `Answer`s (extractive QA), or the target's id
    (retrieval).
    """

    id: str
    lang: str
    fields: Mapping[str, Any]
    label: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One measurement unit of a suite: (task, lang, perturbation, severity, seed)."""

    task: str
    lang: str
    perturbation: str
    severity: float
    seed: int

    @property
    def is_clean(self) -> bool:
        return self.perturbation == CLEAN


@dataclass(frozen=True)
class Variant:
    """An example after a perturbation: its new fields and what the perturbation did.

    `cmi` is the code-mixing index (0–100) of the perturbed fields when the perturbation reports one
    (code-switching), NaN otherwise. `label` is the gold label after the perturbation (QA answers move
    with the context); `label_lost` says the perturbation edited across a label boundary (an answer
    span cut inside an edit), so the label was remapped to the edited region: such variants are counted
    in the report (`n_label_lost`), not dropped.
    """

    example: Example
    fields: Mapping[str, Any]
    applied: bool
    edit_rate: float
    n_edited: int
    cmi: float = float("nan")
    label: Any = None
    label_lost: bool = False

    @property
    def gold(self) -> Any:
        """The label to score this variant against."""
        return self.example.label if self.label is None else self.label


@dataclass(frozen=True)
class Answer:
    """One gold answer of an extractive QA example: its text and character offset in the context."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)
