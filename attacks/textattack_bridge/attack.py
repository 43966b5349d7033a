"""TextAttack's recipes as registered attacks (`textattack.deepwordbug.v1`, …): usable in a suite's `attacks:`
section like the built-in ones, with the same records (attack_outcome, queries) and rows. Nothing here imports
textattack until `run` is called."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from harness.attack import ATTACKS, Attack, AttackOutcome, AttackRun, ProgressFn, WordEdit
from harness.errors import ConfigError
from harness.text import grapheme_edit_rate, split_words
from harness.types import Cell, Example, Variant

from attacks.search.planned import find_sites, planned

from .bridge import RECIPES, TextAttackResult, attack_with_model, unavailable

if TYPE_CHECKING:
    from harness.predictor import Predictor
    from harness.tasks.base import TaskAdapter


@dataclass(frozen=True)
class TextAttackRecipe(Attack):
    """A TextAttack recipe run through its HuggingFaceModelWrapper on the predictor's own model and tokenizer.

    The cell's severity below 1 adds TextAttack's MaxWordsPerturbed(max_percent=severity); at 1 the recipe runs as
    published. The cell's seed seeds TextAttack. Outcomes are TextAttack's; predictions in the records are the
    adapter's own on the returned text (they agree unless truncation differs: TextAttack pads to 512 tokens).
    """

    query_budget: int | None = None

    def supports(self, task_type: str, needs_token_count: bool) -> str:
        if task_type != "sequence_classification":
            return f"{self.id}: TextAttack's recipes attack classifiers only, not {task_type}"
        reason = unavailable(self.id)
        return f"{self.id} is unavailable: {reason}" if reason else ""

    def run(self, adapter: "TaskAdapter", predictor: "Predictor", examples: Sequence[Example], cell: Cell,
            fields: tuple[str, ...], progress: ProgressFn | None = None) -> AttackRun:
        """Attack every example with TextAttack, then rebuild each result as a variant through the adapter."""
        why = self.supports(adapter.recipe.task_type, False)
        if why:
            raise ConfigError(why)
        model = getattr(predictor, "model", None)
        if model is None:
            raise ConfigError(f"{self.id}: needs a Hugging Face predictor (its model and tokenizer)")
        results = attack_with_model(self.id, model, predictor.tokenizer, examples, fields,
                                    query_budget=self.query_budget, seed=cell.seed, max_word_share=cell.severity)
        built = [_variant(adapter, ex, res, cell, fields) for ex, res in zip(examples, results)]
        variants = [v for v, _, _ in built]
        clean, preds = adapter.predict(predictor, [[adapter.clean_variant(ex) for ex in examples], variants])
        outcomes = []
        for ex, res, (v, edits, n_words), cp, p in zip(examples, results, built, clean, preds):
            outcomes.append(AttackOutcome(
                res.outcome, res.queries, n_words, edits,
                adapter.record_fields(adapter.clean_variant(ex), cp)["score"], adapter.record_fields(v, p)["score"],
                "" if res.outcome == "succeeded" else f"TextAttack: {res.outcome}"))
        if progress:
            progress(len(examples), len(examples))
        return AttackRun(variants, preds, outcomes)


def _variant(adapter: "TaskAdapter", ex: Example, res: TextAttackResult, cell: Cell,
             fields: tuple[str, ...]) -> tuple[Variant, tuple[WordEdit, ...], int]:
    """The variant TextAttack returned, made through the adapter's perturbation path when it is word-for-word (the
    usual case for character recipes), its word edits, and the example's editable word count."""
    sites, n_words = find_sites(adapter, ex, cell, fields)
    by_key = {(s.field, s.index): s for s in sites}
    edits: list[WordEdit] = []
    aligned = True
    for f in fields:
        if res.fields[f] == ex.fields[f]:
            continue
        lang = next((s.lang for s in sites if s.field == f), ex.lang)
        old, new = split_words(ex.fields[f], lang)[1], split_words(res.fields[f], lang)[1]
        pairs = [(i, b) for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if len(old) != len(new) or any((f, i) not in by_key for i, _ in pairs):
            aligned = False  # a word vanished or split: not expressible as word-for-word edits
            break
        edits.extend(WordEdit(by_key[(f, i)], b) for i, b in pairs)
    if aligned:
        return adapter.perturb(ex, planned([(e.site, e.new) for e in edits]), cell, fields), tuple(edits), n_words
    new_fields = {**ex.fields, **res.fields}
    rate = grapheme_edit_rate(" ".join(ex.fields[f] for f in fields), " ".join(new_fields[f] for f in fields))
    return Variant(ex, new_fields, True, rate, res.words_changed), (), n_words


for _rid in RECIPES:
    ATTACKS.register(_rid, type(f"TextAttack_{_rid.split('.')[1]}", (TextAttackRecipe,),
                                {"id": _rid, "description": f"TextAttack's {RECIPES[_rid][0]} recipe "
                                 f"({RECIPES[_rid][1]}) through its HuggingFaceModelWrapper (extra xrobust[textattack])",
                                 "__module__": __name__}))
