"""Goals: when has an attack succeeded, and how close is it? Generic over task types through the adapter.

Every goal uses the adapter's own per-example score (`record_fields(variant, pred)["score"]`): the attack
succeeds when it falls below `threshold`. Accuracy-scored tasks (classification, multiple choice) score 0 or 1,
so any threshold in (0, 1] means an untargeted label flip; token tasks score sentence entity F1 (NER) or token
accuracy (POS); extractive QA scores answer F1. Searches rank inputs by `progress`: for classifiers and multiple
choice 1 - the model's probability of the gold answer (read from the same logits that give the prediction, so
still one model pass), for the other tasks 1 - score.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from harness.attack import Evaluation
from harness.types import Variant

if TYPE_CHECKING:
    from harness.predictor import Predictor
    from harness.tasks.base import TaskAdapter

GOAL_TASK_TYPES = ("sequence_classification", "multiple_choice", "token_classification", "extractive_qa")


@dataclass(frozen=True)
class ScoreBelow:
    """Succeed when the adapter's score drops below `threshold`; progress is 1 - score."""

    threshold: float

    def evaluate(self, adapter: "TaskAdapter", predictor: "Predictor", variants: Sequence[Variant]) -> list[Evaluation]:
        preds = adapter.predict(predictor, [list(variants)])[0] if variants else []
        return [self._judge(adapter, v, p, None) for v, p in zip(variants, preds)]

    def _judge(self, adapter: "TaskAdapter", v: Variant, pred: Any, p_gold: float | None) -> Evaluation:
        score = float(adapter.record_fields(v, pred)["score"])
        progress = 1.0 - score if p_gold is None else 1.0 - p_gold
        return Evaluation(pred, score, progress, score < self.threshold)


@dataclass(frozen=True)
class ClassifierScoreBelow(ScoreBelow):
    """Sequence classification: predictions decoded by the adapter from the predictor's logits, progress from
    the softmax probability of the classes that map to the gold label."""

    def evaluate(self, adapter: "TaskAdapter", predictor: "Predictor", variants: Sequence[Variant]) -> list[Evaluation]:
        if not variants:
            return []
        logits = predictor.predict([adapter.to_inputs(v.fields) for v in variants])
        preds = adapter.decode(logits)
        probs = _softmax(logits)
        labels = np.array([adapter.class_to_label.get(i) for i in range(logits.shape[-1])], dtype=object)
        return [self._judge(adapter, v, p, float(probs[i][labels == v.gold].sum()))
                for i, (v, p) in enumerate(zip(variants, preds))]


@dataclass(frozen=True)
class ChoiceScoreBelow(ScoreBelow):
    """Multiple choice: the adapter's features, the highest-scored choice wins (as the adapter decodes it),
    progress from the softmax over the choices' scores."""

    def evaluate(self, adapter: "TaskAdapter", predictor: "Predictor", variants: Sequence[Variant]) -> list[Evaluation]:
        if not variants:
            return []
        scores = np.stack([np.asarray(s).reshape(-1) for s in
                           predictor.forward(adapter.features(predictor, variants), "logits")])
        names = adapter.recipe.label_names
        if scores.shape[1] != len(names):  # the adapter's own predict explains the mismatch
            return super().evaluate(adapter, predictor, variants)
        probs = _softmax(scores)
        out = []
        for v, s, pr in zip(variants, scores, probs):
            out.append(self._judge(adapter, v, names[int(np.argmax(s))], float(pr[names.index(v.gold)])))
        return out


def goal_for(adapter: "TaskAdapter", threshold: float) -> ScoreBelow:
    """The goal of an adapter's task type; adapters without logits access get the plain score goal."""
    if adapter.task_type == "sequence_classification" and all(
            hasattr(adapter, a) for a in ("to_inputs", "decode", "class_to_label")):
        return ClassifierScoreBelow(threshold)
    if adapter.task_type == "multiple_choice" and hasattr(adapter, "features"):
        return ChoiceScoreBelow(threshold)
    return ScoreBelow(threshold)


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.asarray(x, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)
