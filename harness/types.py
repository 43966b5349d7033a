"""Immutable records that flow through a run (DESIGN.md nouns: Example; plus Variant and Cell)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CLEAN = "clean"  # the perturbation id of unperturbed cells


@dataclass(frozen=True)
class Example:
    """One evaluation item: stable `id`, language, named text `fields`, gold `label`, free `meta`."""

    id: str
    lang: str
    fields: Mapping[str, str]
    label: str | None = None
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
    (code-switching), NaN otherwise.
    """

    example: Example
    fields: Mapping[str, str]
    applied: bool
    edit_rate: float
    n_edited: int
    cmi: float = float("nan")
