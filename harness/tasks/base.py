"""TaskRecipe (what a dataset looks like) and TaskAdapter (how a task type meets a model).

The runner knows nothing about task types. Per (task, language) unit it asks the adapter to
1. perturb each example into a Variant (`perturb`; labels and spans move with the text),
2. predict every variant of every cell at once (`predict`; one deduplicated pass through the model),
3. turn each variant's prediction into per-example statistics (`example_stats`) whose sums give the
   metrics (`metrics_from_sums`), so paired bootstrap resamples are one matrix product (harness.stats),
4. describe each prediction for records.parquet (`record_fields`).
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DataError
from ..registry import Registry
from ..rng import derive_rng
from ..text import grapheme_edit_rate, nfc
from ..types import Cell, Example, Variant

if TYPE_CHECKING:
    from ..perturbation import Perturbation
    from ..predictor import Predictor

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class TaskRecipe:
    """A named dataset recipe: task type, fields, label names, languages, default HF source.

    `hf_source` holds `id`, `config`, `split` with `{lang}` filled in per language; `hf_configs` maps a
    language to its own config where the hub dataset does not follow one pattern (e.g. XQuAD's
    `xquad.{lang}`, TyDiQA's single config filtered by language is expressed as `filter`).
    """

    name: str
    task_type: str
    fields: tuple[str, ...]
    label_names: tuple[str, ...]
    languages: tuple[str, ...]
    hf_source: Mapping[str, str] = field(default_factory=dict)
    perturbable: tuple[str, ...] = ()
    label_field: str = "label"
    description: str = ""
    hf_configs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lang -> overrides of hf_source
    metric_variant: str = ""  # e.g. "mlqa" (language-aware answer normalisation) or "pos" (token accuracy)
    # (row, lang, loc) -> meta computed from each data row at load time, e.g. a code-mixed example's `cmi`
    # from its per-token language tags (harness/tasks/codemixed.py); `meta_fields` columns override it
    example_meta: Callable[[Mapping[str, Any], str, str], Mapping[str, Any]] | None = None
    # the default source's row filter (DataSpec.filter), e.g. TyDiQA's one multilingual config: {"id": "{lang_name}-"}
    hf_filter: Mapping[str, str] = field(default_factory=dict)
    # fields a suite may never perturb (XCOPA's cause/effect keyword picks the input template)
    fixed_fields: tuple[str, ...] = ()
    # languages of the task that its default hub dataset does not hold (they need a `data:` section)
    hf_missing: tuple[str, ...] = ()

    @property
    def default_perturbable(self) -> tuple[str, ...]:
        return self.perturbable or self.fields

    @property
    def hf_languages(self) -> tuple[str, ...]:
        """The languages a suite can load from the default hub source (no `data:` section needed)."""
        return tuple(lang for lang in self.languages if lang not in self.hf_missing) if self.hf_source else ()

    def hf_source_for(self, lang: str) -> dict[str, str]:
        """The Hugging Face `datasets` id/config/split a real user loads for `lang` (placeholders filled)."""
        src = {**self.hf_source, **self.hf_configs.get(lang, {})}
        return {k: str(v).format(lang=lang) for k, v in src.items()}


class TaskAdapter(ABC):
    """One task *type*: examples -> model inputs, outputs -> predictions -> per-example statistics."""

    task_type: ClassVar[str] = ""
    head: ClassVar[str] = ""  # which Auto* head the predictor must load
    metrics: tuple[str, ...] = ()
    higher_is_better: Mapping[str, bool] = {}
    # does this task type need labels carried through word boundaries (token tasks refuse split/merge)?
    needs_token_count: ClassVar[bool] = False
    # options that name a file: a relative path is taken from the suite file's folder, like `data:` paths
    path_options: ClassVar[tuple[str, ...]] = ()

    recipe: TaskRecipe

    @classmethod
    def metrics_for(cls, recipe: TaskRecipe) -> tuple[str, ...]:
        """The metrics (primary first) this task type reports for `recipe`, without a model (`xrobust ls tasks`);
        adapters whose metrics depend on the recipe (e.g. `metric_variant`) override it."""
        return tuple(cls.metrics)

    # --- data ---------------------------------------------------------------------------------------------
    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], Any]:
        """One data row -> (fields, label); DataError naming `loc` on anything malformed.

        Default: text fields and one label among the recipe's label names."""
        fields: dict[str, Any] = {}
        for f in recipe.fields:
            fields[f] = text_column(row, columns.get(f, f), f, recipe, loc)
        return fields, label_value(row, label_col, recipe, loc)

    # --- perturbation -------------------------------------------------------------------------------------
    def check_perturbation(self, pert: "Perturbation", where: str) -> None:
        """Refuse, with a ConfigError, a perturbation this task type cannot keep its labels through."""
        if self.needs_token_count and not pert.keeps_token_count:
            raise ConfigError(
                f"{where}: {pert.id} splits or merges words, so the {self.recipe.name} word labels would no longer "
                "line up with the words; token tasks take only word-local perturbations (see `xrobust ls perturbations`, "
                "column keeps_token_count)")

    def perturb(self, example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
        """Apply `pert` to the chosen text fields with per-example, per-field RNGs (see perturb_text_fields)."""
        return perturb_text_fields(example, pert, cell, fields)

    def clean_variant(self, example: Example) -> Variant:
        return Variant(example, example.fields, False, 0.0, 0)

    # --- prediction and scoring ---------------------------------------------------------------------------
    @abstractmethod
    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[Any]]:
        """Predictions for every variant of every cell (one group per cell, same order)."""

    @abstractmethod
    def example_stats(self, variants: Sequence[Variant], preds: Sequence[Any]) -> np.ndarray:
        """Per-example statistics (n, k) whose column sums determine every metric."""

    def metrics_from_sums(self, sums: np.ndarray) -> dict[str, np.ndarray]:
        """Metric values from summed statistics (..., k), vectorised over leading axes."""
        return type(self).sums_metrics(self.recipe, sums)

    @classmethod
    @abstractmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        """`metrics_from_sums` without an adapter (no model): from the recipe and the statistics alone, so the
        gate and `compare` can recompute corpus-level metrics from the `stats` column of records."""

    @abstractmethod
    def record_fields(self, variant: Variant, pred: Any) -> dict[str, Any]:
        """`label`, `pred` (text), `score` (the example's own primary score) and `correct` for records."""

    def metric_values(self, variants: Sequence[Variant], preds: Sequence[Any]) -> dict[str, float]:
        """Corpus-level metrics of one cell."""
        sums = self.example_stats(variants, preds).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {k: float(v) for k, v in self.metrics_from_sums(sums).items()}


def perturb_text_fields(example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
    """Apply `pert` to the chosen fields of one example with per-example, per-field RNGs.

    The variant's `cmi` is the mean of the fields' code-mixing indices (each field is one utterance)
    when the perturbation reports one for every field (`meta["cmi"]`), NaN otherwise.
    """
    new = dict(example.fields)
    applied = False
    words = 0
    cmis: list[float] = []
    for f in fields:
        rng = derive_rng(cell.seed, pert.id, cell.severity, example.id, f)
        res = pert.perturb(example.fields[f], cell.severity, rng, example.lang)
        if res.applied:
            new[f] = res.text
            applied = True
            words += res.n_edited
        if "cmi" in res.meta:
            cmis.append(float(res.meta["cmi"]))
    rate = 0.0
    if applied:
        before = "\n".join(example.fields[f] for f in fields)
        after = "\n".join(new[f] for f in fields)
        rate = grapheme_edit_rate(before, after)
    cmi = sum(cmis) / len(cmis) if cmis and len(cmis) == len(fields) else float("nan")
    return Variant(example, new, applied, rate, words, cmi)


def text_column(row: Mapping[str, Any], col: str, name: str, recipe: TaskRecipe, loc: str) -> str:
    """The NFC text in column `col` (the recipe field `name`), or a DataError naming the row."""
    value = row.get(col)
    if not isinstance(value, str):
        what = "missing" if value is None else f"not text ({type(value).__name__})"
        raise DataError(f"{loc}: field {col!r} (the {recipe.name} field {name!r}) is {what}; columns: {sorted(row)}")
    return nfc(value)


def label_value(row: Mapping[str, Any], col: str, recipe: TaskRecipe, loc: str) -> str:
    """A label among the recipe's label names (integers become their text), or a DataError."""
    value = row.get(col)
    if value is None:
        raise DataError(f"{loc}: label column {col!r} is missing; columns: {sorted(row)}")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"{loc}: label {value!r} in column {col!r} must be a string or integer")
    label = str(value)
    if label not in recipe.label_names:
        raise DataError(f"{loc}: label {label!r} is not one of {list(recipe.label_names)} ({recipe.name})")
    return label


def as_json(value: Any) -> str:
    """Compact JSON for structured labels/predictions in records (tags, answers)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _package_modules() -> tuple[str, ...]:
    """Every module of harness.tasks: each registers its adapter (one per task type) and/or recipes."""
    import pkgutil
    from pathlib import Path

    here = Path(__file__).parent
    return tuple(f"{__package__}.{m.name}" for m in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name)
                 if m.name != "base")


TASKS: Registry[TaskRecipe] = Registry("task", builtin_modules=_package_modules())
ADAPTERS: Registry[type[TaskAdapter]] = Registry("task type", builtin_modules=_package_modules())


def get_recipe(name: str) -> TaskRecipe:
    """The registered recipe `name` (ConfigError with a suggestion when unknown)."""
    return TASKS.get(name)


def adapter_class(task_type: str) -> type[TaskAdapter]:
    """The adapter class registered for a task type."""
    return ADAPTERS.get(task_type)


def make_adapter(
    recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any] | None = None, where: str = "task"
) -> TaskAdapter:
    """Build the adapter of the recipe's task type for `predictor`'s model, with the suite's task options
    (`label_map`, `protect_answers`, …)."""
    return adapter_class(recipe.task_type)(recipe, predictor, dict(options or {}), where)
