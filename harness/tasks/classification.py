"""Sequence (and sentence-pair) classification: XNLI, PAWS-X and any `label`-style dataset."""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..stats import accuracy, macro_f1
from .base import TaskAdapter, TaskRecipe

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


class SequenceClassificationAdapter(TaskAdapter):
    """One or two text fields -> one label; metrics accuracy and macro-F1."""

    head = "sequence_classification"
    metrics = ("accuracy", "macro_f1")
    higher_is_better = {"accuracy": True, "macro_f1": True}

    def __init__(self, recipe: TaskRecipe, id2label: Mapping[int, str], label_map: Mapping[str, Any] | None, where: str = "task"):
        if len(recipe.fields) not in (1, 2):
            raise ConfigError(f"{where}: sequence classification takes 1 or 2 text fields, recipe has {recipe.fields}")
        self.recipe = recipe
        self.class_to_label = reconcile_labels(recipe.label_names, id2label, label_map, where)
        n = max(id2label) + 1 if id2label else 0
        # classes with no dataset label can still be predicted; they are never correct
        self._decode_table = np.array([self.class_to_label.get(i, f"model:{id2label.get(i, i)}") for i in range(n)], dtype=object)

    def to_inputs(self, fields: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(fields[f] for f in self.recipe.fields)

    def decode(self, outputs: np.ndarray) -> list[str]:
        return list(self._decode_table[np.asarray(outputs).argmax(axis=-1)])

    def metric_values(self, labels: Sequence[str], preds: Sequence[str]) -> dict[str, float]:
        y, p = self.encode(labels, preds)
        return {"accuracy": accuracy(y, p), "macro_f1": macro_f1(y, p)}

    def encode(self, labels: Sequence[str], preds: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and predictions as integer arrays over one shared vocabulary."""
        vocab = {lab: i for i, lab in enumerate(self.recipe.label_names)}
        for lab in list(labels) + list(preds):
            vocab.setdefault(lab, len(vocab))
        return np.array([vocab[x] for x in labels]), np.array([vocab[x] for x in preds])
