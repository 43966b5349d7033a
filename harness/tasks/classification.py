"""Sequence (and sentence-pair) classification: XNLI, PAWS-X and any `label`-style dataset."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..stats import classification_stats, macro_f1_from_counts, ratio
from ..types import Variant
from .base import ADAPTERS, ProgressFn, TaskAdapter, TaskRecipe

if TYPE_CHECKING:
    from ..predictor import Predictor

_GENERIC = re.compile(r"^label_\d+$", re.IGNORECASE)


def reconcile_labels(
    dataset_labels: Sequence[str],
    id2label: Mapping[int, str],
    label_map: Mapping[str, Any] | None,
    where: str = "task",
) -> dict[int, str]:
    """Model class id -> dataset label, matched by name (case-insensitive) or through `label_map`.

    >>> reconcile_labels(["yes", "no"], {0: "NO", 1: "Yes"}, None)
    {1: 'yes', 0: 'no'}
    """
    by_name = {str(name).lower(): int(i) for i, name in id2label.items()}
    if len(by_name) != len(id2label):
        raise ConfigError(f"{where}: the checkpoint's id2label has duplicate names (case-insensitive): {dict(id2label)}")
    if label_map:
        return _from_label_map(dataset_labels, id2label, by_name, label_map, where)
    missing = [lab for lab in dataset_labels if lab.lower() not in by_name]
    if not missing:
        return {by_name[lab.lower()]: lab for lab in dataset_labels}
    example = ", ".join(f"{lab}: {i}" for i, lab in enumerate(dataset_labels))
    if all(_GENERIC.match(str(n)) for n in id2label.values()):
        raise ConfigError(
            f"{where}: the checkpoint's labels are generic ({', '.join(str(id2label[i]) for i in sorted(id2label))}), "
            f"so xrobust cannot tell which class is which. Add `label_map: {{{example}}}` to {where} in the suite "
            "(dataset label -> model class id or name; check the checkpoint's model card for the order)."
        )
    raise ConfigError(
        f"{where}: dataset labels {missing} are not among the checkpoint's labels "
        f"{[id2label[i] for i in sorted(id2label)]}; add `label_map: {{{example}}}` to {where} in the suite."
    )


def _from_label_map(dataset_labels, id2label, by_name, label_map, where) -> dict[int, str]:
    mapping: dict[int, str] = {}
    lm = {str(k): v for k, v in label_map.items()}
    for lab in dataset_labels:
        if lab not in lm:
            raise ConfigError(f"{where}.label_map: no entry for dataset label {lab!r} (entries: {sorted(lm)})")
        target = lm[lab]
        if isinstance(target, bool) or not isinstance(target, (int, str)):
            raise ConfigError(f"{where}.label_map.{lab}: expected a class id or label name, got {target!r}")
        if isinstance(target, int) or (isinstance(target, str) and target.isdigit() and target.lower() not in by_name):
            idx = int(target)
            if idx not in id2label:
                raise ConfigError(f"{where}.label_map.{lab}: class id {idx} not in the checkpoint (ids {sorted(id2label)})")
        elif target.lower() in by_name:
            idx = by_name[target.lower()]
        else:
            raise ConfigError(f"{where}.label_map.{lab}: {target!r} is not a checkpoint label {list(id2label.values())}")
        if idx in mapping:
            raise ConfigError(f"{where}.label_map: labels {mapping[idx]!r} and {lab!r} both map to class {idx}")
        mapping[idx] = lab
    return mapping


@ADAPTERS.register("sequence_classification")
class SequenceClassificationAdapter(TaskAdapter):
    """One or two text fields -> one label; metrics accuracy and macro-F1."""

    task_type = "sequence_classification"
    head = "sequence_classification"
    metrics = ("accuracy", "macro_f1")
    higher_is_better = {"accuracy": True, "macro_f1": True}

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        if len(recipe.fields) not in (1, 2):
            raise ConfigError(f"{where}: sequence classification takes 1 or 2 text fields, recipe has {recipe.fields}")
        self.recipe = recipe
        id2label = predictor.id2label
        self.class_to_label = reconcile_labels(recipe.label_names, id2label, options.get("label_map"), where)
        n = max(id2label) + 1 if id2label else 0
        # classes with no dataset label can still be predicted; they are never correct
        self._decode_table = np.array([self.class_to_label.get(i, f"model:{id2label.get(i, i)}") for i in range(n)], dtype=object)
        self._vocab = {lab: i for i, lab in enumerate(dict.fromkeys([*recipe.label_names, *self._decode_table]))}

    def to_inputs(self, fields: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(fields[f] for f in self.recipe.fields)

    def decode(self, outputs: np.ndarray) -> list[str]:
        return list(self._decode_table[np.asarray(outputs).argmax(axis=-1)])

    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[str]]:
        inputs = [self.to_inputs(v.fields) for g in groups for v in g]
        preds = self.decode(predictor.predict(inputs, progress)) if inputs else []
        return split_groups(preds, groups)

    def example_stats(self, variants: Sequence[Variant], preds: Sequence[str]) -> np.ndarray:
        y = np.array([self._vocab[v.gold] for v in variants], dtype=int)
        p = np.array([self._vocab[x] for x in preds], dtype=int)
        return classification_stats(y, p, len(self._vocab))

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        n_classes = (sums.shape[-1] - 2) // 3  # classification_stats: [correct, 1, gold (C), pred (C), tp (C)]
        return {"accuracy": ratio(0, 1)(sums), "macro_f1": macro_f1_from_counts(n_classes)(sums[..., 2:])}

    def record_fields(self, variant: Variant, pred: str) -> dict[str, Any]:
        ok = pred == variant.gold
        return {"label": variant.gold, "pred": pred, "score": float(ok), "correct": ok}


def split_groups(flat: Sequence[Any], groups: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Cut a flat list of predictions back into one list per group (cell)."""
    out, k = [], 0
    for g in groups:
        out.append(list(flat[k:k + len(g)]))
        k += len(g)
    return out
