"""Multiple choice: XCOPA (premise + cause/effect question, two candidate choices); metric accuracy.

Inputs follow XTREME-R's `third_party/run_xcopa.py`: one (first, second) pair per choice, where first is
`"{premise} What was the {question}?"` (the English question, whatever the language: XTREME-R fine-tunes on
English SIQa + COPA and transfers zero-shot) and second is the choice. Each pair is tokenized as a sentence
pair, truncated to the predictor's `max_length`; the multiple-choice head scores every choice and the
highest score wins (ties go to the first choice, as numpy's argmax does).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError, DataError
from ..stats import ratio
from ..types import Cell, Example, Variant
from .base import ADAPTERS, TASKS, ProgressFn, TaskAdapter, TaskRecipe, label_value, text_column
from .classification import split_groups

if TYPE_CHECKING:
    from ..perturbation import Perturbation
    from ..predictor import Predictor

XCOPA_LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
QUESTION_TYPES = ("cause", "effect")
# XTREME-R's run_xcopa.py builds the first segment as f"{premise} What was the {question}?"
QUESTION_TEMPLATE = "{premise} What was the {question}?"

TASKS.register("xcopa", TaskRecipe(
    name="xcopa",
    task_type="multiple_choice",
    fields=("premise", "choice1", "choice2", "question"),
    label_names=("0", "1"),
    languages=XCOPA_LANGS,
    hf_source={"id": "cambridgeltl/xcopa", "config": "{lang}", "split": "test"},
    perturbable=("premise", "choice1", "choice2"),
    fixed_fields=("question",),
    description="XCOPA causal commonsense reasoning (Ponti et al. 2020): premise, question cause/effect, "
                "2 choices; label 0 = choice1, 1 = choice2. The question is a fixed keyword and is never perturbed",
))


def choice_pairs(fields: Mapping[str, str], choices: Sequence[str] = ("choice1", "choice2")) -> list[tuple[str, str]]:
    """One (first, second) text pair per choice, as XTREME-R builds them.

    >>> choice_pairs({"premise": "It rained.", "question": "effect", "choice1": "A", "choice2": "B"})
    [('It rained. What was the effect?', 'A'), ('It rained. What was the effect?', 'B')]
    """
    first = QUESTION_TEMPLATE.format(premise=fields["premise"], question=fields["question"])
    return [(first, fields[c]) for c in choices]


@ADAPTERS.register("multiple_choice")
class MultipleChoiceAdapter(TaskAdapter):
    """Premise + question against each choice -> index of the best-scored choice; metric accuracy."""

    task_type = "multiple_choice"
    head = "multiple_choice"
    metrics = ("accuracy",)
    higher_is_better = {"accuracy": True}
    choice_fields: tuple[str, ...] = ("choice1", "choice2")
    fixed_fields: tuple[str, ...] = ("question",)  # keywords the input template needs verbatim

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        unknown = sorted(set(options) - {"label_map", "protect_answers"})
        if unknown:
            raise ConfigError(f"{where}.options: multiple choice takes no options, got {unknown}")
        if options.get("label_map"):
            raise ConfigError(f"{where}.label_map: multiple-choice labels are choice indices "
                              f"{list(recipe.label_names)}; a label map does not apply")
        if options.get("protect_answers"):
            raise ConfigError(f"{where}.protect_answers: only extractive QA has answer spans to protect")
        if len(recipe.label_names) != len(self.choice_fields):
            raise ConfigError(f"{where}: {recipe.name} has labels {list(recipe.label_names)} for "
                              f"{len(self.choice_fields)} choices")
        self.recipe = recipe
        self.where = where

    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], Any]:
        """Premise and choices as text, the question one of cause/effect, the label a choice index."""
        fields = {f: text_column(row, columns.get(f, f), f, recipe, loc) for f in recipe.fields}
        q = fields["question"]
        if q not in QUESTION_TYPES:
            raise DataError(f"{loc}: question {q!r} in column {columns.get('question', 'question')!r} must be one of "
                            f"{list(QUESTION_TYPES)}")
        return fields, label_value(row, label_col, recipe, loc)

    def perturb(self, example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
        """Refuse to perturb the question keyword (it selects the template); otherwise perturb the text fields."""
        fixed = [f for f in fields if f in self.fixed_fields]
        if fixed:
            raise ConfigError(
                f"{self.where}.perturb_fields: {fixed} cannot be perturbed: the {self.recipe.name} question is the "
                f"keyword cause/effect that picks the input template; perturb {list(self.recipe.default_perturbable)}")
        return super().perturb(example, pert, cell, fields)

    def features(self, predictor: "Predictor", variants: Sequence[Variant]) -> list[tuple[tuple[int, ...], ...]]:
        """Token ids per variant: a tuple of one id tuple per choice (each pair tokenized once)."""
        all_pairs = [choice_pairs(v.fields, self.choice_fields) for v in variants]
        unique = list(dict.fromkeys(p for ps in all_pairs for p in ps))
        if not unique:
            return []
        enc = predictor.tokenizer([a for a, _ in unique], [b for _, b in unique], truncation=True,
                                  max_length=predictor.max_length)
        ids = {p: tuple(x) for p, x in zip(unique, enc["input_ids"])}
        return [tuple(ids[p] for p in ps) for ps in all_pairs]

    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[str]]:
        flat = [v for g in groups for v in g]
        scores = predictor.forward(self.features(predictor, flat), "logits", progress) if flat else []
        n = len(self.choice_fields)
        preds = []
        for s in scores:
            s = np.asarray(s).reshape(-1)
            if s.shape != (n,):
                raise CheckpointError(f"{self.where}: the multiple-choice head returned {s.shape[0]} scores for "
                                      f"{n} choices; load a checkpoint fine-tuned with AutoModelForMultipleChoice")
            preds.append(self.recipe.label_names[int(np.argmax(s))])
        return split_groups(preds, groups)

    def example_stats(self, variants: Sequence[Variant], preds: Sequence[str]) -> np.ndarray:
        """[correct, 1] per example."""
        correct = np.array([p == v.gold for v, p in zip(variants, preds)], dtype=float)
        return np.column_stack([correct, np.ones(len(correct))]) if len(correct) else np.zeros((0, 2))

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        return {"accuracy": ratio(0, 1)(sums)}

    def record_fields(self, variant: Variant, pred: str) -> dict[str, Any]:
        ok = pred == variant.gold
        return {"label": variant.gold, "pred": pred, "score": float(ok), "correct": ok}
