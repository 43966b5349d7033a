"""TaskRecipe (what a dataset looks like) and TaskAdapter (how a task type meets a model)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..registry import Registry
from ..types import Example


@dataclass(frozen=True)
class TaskRecipe:
    """A named dataset recipe: task type, text fields, label names, languages, default HF source."""

    name: str
    task_type: str
    fields: tuple[str, ...]
    label_names: tuple[str, ...]
    languages: tuple[str, ...]
    hf_source: Mapping[str, str] = field(default_factory=dict)  # id, config, split; "{lang}" is filled in
    perturbable: tuple[str, ...] = ()
    label_field: str = "label"
    description: str = ""

    @property
    def default_perturbable(self) -> tuple[str, ...]:
        return self.perturbable or self.fields


class TaskAdapter(ABC):
    """Examples -> model inputs, model outputs -> predictions -> per-example scores and metrics."""

    recipe: TaskRecipe
    head: str  # which Auto* head the predictor must load
    metrics: tuple[str, ...]
    higher_is_better: Mapping[str, bool]

    @abstractmethod
    def to_inputs(self, fields: Mapping[str, str]) -> tuple[str, ...]:
        """The model input for one (possibly perturbed) set of fields."""

    @abstractmethod
    def decode(self, outputs: np.ndarray) -> list[str]:
        """Model outputs (one row per input) -> predicted dataset labels."""

    @abstractmethod
    def metric_values(self, labels: Sequence[str], preds: Sequence[str]) -> dict[str, float]:
        """Corpus-level metrics of one cell."""

    def record_fields(self, example: Example, pred: str) -> dict[str, Any]:
        """Per-example score columns for records.parquet."""
        return {"label": example.label, "pred": pred, "correct": pred == example.label}


TASKS: Registry[TaskRecipe] = Registry("task", builtin_modules=("harness.tasks.recipes",))


def get_recipe(name: str) -> TaskRecipe:
    """The registered recipe `name` (ConfigError with a suggestion when unknown)."""
    return TASKS.get(name)


def make_adapter(
    recipe: TaskRecipe, id2label: Mapping[int, str], label_map: Mapping[str, Any] | None, where: str = "task"
) -> TaskAdapter:
    """Build the adapter of the recipe's task type for a model with `id2label`."""
    from .classification import SequenceClassificationAdapter

    adapters = {"sequence_classification": SequenceClassificationAdapter}
    return adapters[recipe.task_type](recipe, id2label, label_map, where)
