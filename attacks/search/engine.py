"""The attack engine: goal + constraints + candidate edits + search, under a query budget.

`SearchAttack` runs one search generator per example and advances them together: each step gathers the plans
every active example asks for, builds their variants through the adapter's own perturbation path
(planned.PlannedEdits), and scores all new inputs of all examples in one goal evaluation (one model pass).
Inputs already scored for an example are not scored again; `queries` counts the distinct inputs of an example,
its clean input included, and `max_queries` caps it (plans past the budget are not scored; the search stops).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Hashable, Mapping, Sequence

from harness.attack import (FAILED, SKIPPED, SUCCEEDED, Attack, AttackOutcome, AttackRun, Evaluation, Plan,
                            ProgressFn, SearchGen, SearchTask, Site, WordEdit)
from harness.errors import ConfigError
from harness.types import Cell, Example, Variant

from .candidates import FamilyCandidates, word_families
from .constraints import MaxWordDistance, MinWordLength, ProtectGold, ProtectNumbers, stopword_constraint
from .goals import GOAL_TASK_TYPES, goal_for
from .planned import find_sites, planned
from .search import BeamSearch, GreedyWordImportance

if TYPE_CHECKING:
    from harness.predictor import Predictor
    from harness.tasks.base import TaskAdapter

SEARCHES = ("greedy_wir", "beam")
IMPORTANCE = ("unk", "delete")


@dataclass(frozen=True)
class SearchAttack(Attack):
    """A composed attack; recipes (recipes.py) are subclasses that change the defaults.

    Parameters (suite `params:`):
    families / family_params: the word-edit perturbation families candidates come from, and their parameters;
    candidates: distinct edits drawn per word (K); edits_per_word: grapheme edits in one candidate;
    search: "greedy_wir" (greedy over words ranked by importance) or "beam" (beam_width);
    importance: "unk" (word replaced by the tokenizer's unknown token) or "delete" (word removed; token tasks,
    which cannot lose a word, use "unk");
    max_queries: distinct model inputs per example (None: unlimited); max_words: edited words per example on top
    of the severity's share (None: only the share);
    max_word_distance: grapheme edit distance between a word and its replacement (None: any);
    min_word_length: graphemes a word needs to be edited; stopwords: "builtin" (per-language lists), "none" or a
    list of words; protect_numbers: never edit words with digits;
    threshold: the goal is met when the example's score falls below it (accuracy tasks: any value in (0, 1] is a
    label flip).
    Gold answers (QA) and gold entities (token tasks) are never edited.
    """

    families: tuple[str, ...] = ("char.swap.v1",)
    family_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    candidates: int = 4
    edits_per_word: int = 1
    search: str = "greedy_wir"
    beam_width: int = 1
    importance: str = "unk"
    max_queries: int | None = None
    max_words: int | None = None
    max_word_distance: int | None = 2
    min_word_length: int = 1
    stopwords: str | tuple[str, ...] = "builtin"
    protect_numbers: bool = True
    threshold: float = 0.5

    def __post_init__(self) -> None:
        where = self.id or type(self).__name__
        set_ = object.__setattr__
        set_(self, "families", (self.families,) if isinstance(self.families, str) else tuple(self.families))
        if not isinstance(self.stopwords, str):
            set_(self, "stopwords", tuple(self.stopwords))
        elif self.stopwords not in ("builtin", "none"):
            raise ConfigError(f"{where}: stopwords must be 'builtin', 'none' or a list of words, got {self.stopwords!r}")
        if self.search not in SEARCHES:
            raise ConfigError(f"{where}: search must be one of {list(SEARCHES)}, got {self.search!r}")
        if self.importance not in IMPORTANCE:
            raise ConfigError(f"{where}: importance must be one of {list(IMPORTANCE)}, got {self.importance!r}")
        for name in ("candidates", "edits_per_word", "beam_width", "min_word_length"):
            _check_int(where, name, getattr(self, name), allow_none=False)
        for name in ("max_queries", "max_words", "max_word_distance"):
            _check_int(where, name, getattr(self, name), allow_none=True)
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) \
                or not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"{where}: threshold must be in (0, 1], got {self.threshold!r}")
        if not self.families:
            raise ConfigError(f"{where}: families must name at least one word-edit perturbation family")
        fams = word_families(self.families, self.family_params, self.edits_per_word, where)
        set_(self, "_candidates", FamilyCandidates(fams, self.candidates))
        constraints: list[Any] = [ProtectGold()]
        stop = stopword_constraint(self.stopwords)
        constraints += [c for c in (stop, ProtectNumbers() if self.protect_numbers else None,
                                    MinWordLength(self.min_word_length) if self.min_word_length > 1 else None,
                                    MaxWordDistance(self.max_word_distance) if self.max_word_distance else None) if c]
        set_(self, "_constraints", tuple(constraints))
        set_(self, "_search", GreedyWordImportance() if self.search == "greedy_wir" else BeamSearch(self.beam_width))

    def supports(self, task_type: str, needs_token_count: bool) -> str:
        if task_type not in GOAL_TASK_TYPES:
            return (f"{self.id} has no goal for {task_type} tasks (attacks take {', '.join(GOAL_TASK_TYPES)}): "
                    "a retrieval query cannot be scored on its own")
        return ""

    # --- one cell ---------------------------------------------------------------------------------------------
    def run(self, adapter: "TaskAdapter", predictor: "Predictor", examples: Sequence[Example], cell: Cell,
            fields: tuple[str, ...], progress: ProgressFn | None = None) -> AttackRun:
        """Attack every example of a cell; see the module docstring for how steps are batched."""
        goal = goal_for(adapter, self.threshold)
        probe = self._probe(adapter, predictor) if self.search == "greedy_wir" else ""
        book = _Book(adapter, cell, fields, self.max_queries, len(examples))
        cleans = [adapter.clean_variant(ex) for ex in examples]
        for i, (v, ev) in enumerate(zip(cleans, goal.evaluate(adapter, predictor, cleans))):
            book.remember(i, v, ev)
        outcomes: list[AttackOutcome] = []
        tasks: list[SearchTask] = []
        n_words: list[int] = []
        gens: dict[int, SearchGen] = {}
        for i, ex in enumerate(examples):
            clean = book.evaluation(i, ())
            sites, cands, n = self._sites(adapter, ex, cell, fields, with_candidates=not clean.reached)
            share = math.floor(cell.severity * n + 1e-9)
            task = SearchTask(tuple(sites), tuple(cands), probe, min(share, self.max_words or share), clean)
            tasks.append(task)
            n_words.append(n)
            reason = ("the clean prediction already fails the goal" if clean.reached else
                      "no editable word" if not sites else
                      f"severity {cell.severity} allows no edit of {n} words" if task.max_edits < 1 else "")
            status = SKIPPED if clean.reached else FAILED
            outcomes.append(self._outcome(status, book, i, task, (), n, reason))
            if not reason:
                gens[i] = self._search.search(task)
        finals: list[Plan] = [()] * len(examples)
        pending: dict[int, list[Plan]] = {}
        done = len(examples) - len(gens)

        def advance(i: int, got: list[Evaluation] | None) -> None:
            nonlocal done
            try:
                pending[i] = gens[i].send(got)
                return
            except StopIteration as stop:
                finals[i] = stop.value
            pending.pop(i, None)
            done += 1
            reached = book.evaluation(i, finals[i]).reached
            why = "" if reached else ("query budget exhausted" if book.exhausted[i]
                                      else "no edit within the limits met the goal")
            outcomes[i] = self._outcome(SUCCEEDED if reached else FAILED, book, i, tasks[i], finals[i], n_words[i], why)

        for i in gens:
            advance(i, None)
        while pending:
            if progress:
                progress(done, len(examples))
            asked = {i: book.admit(i, examples[i], tasks[i], plans) for i, plans in pending.items()}
            book.score(goal, predictor)  # every new input of every active example: one model pass
            for i in list(pending):
                advance(i, [book.evaluation(i, p) for p in asked[i]])
        if progress:
            progress(done, len(examples))
        variants = [book.variant(i, p) for i, p in enumerate(finals)]
        preds = [book.evaluation(i, p).pred for i, p in enumerate(finals)]
        return AttackRun(variants, preds, outcomes)

    def _sites(self, adapter: "TaskAdapter", ex: Example, cell: Cell, fields: tuple[str, ...],
               with_candidates: bool) -> tuple[list[Site], list[tuple[str, ...]], int]:
        """The editable sites of an example that have candidates, their candidates, and its number of words."""
        sites, n_words = find_sites(adapter, ex, cell, fields)
        if not with_candidates:
            return [], [], n_words
        keys = (cell.seed, self.id, ex.id)
        constraints = self._constraints  # type: ignore[attr-defined]
        out_sites, out_cands = [], []
        for site in sites:
            if not all(c.allows_site(site, ex, adapter.task_type) for c in constraints):
                continue
            cands = tuple(new for new in self._candidates.for_site(site, keys)  # type: ignore[attr-defined]
                          if all(c.allows_edit(site, new) for c in constraints))
            if cands:
                out_sites.append(site)
                out_cands.append(cands)
        return out_sites, out_cands, n_words

    def _probe(self, adapter: "TaskAdapter", predictor: "Predictor") -> str:
        """What replaces a word when its importance is measured."""
        if self.importance == "delete" and not adapter.needs_token_count:
            return ""
        unk = getattr(predictor.tokenizer, "unk_token", None)
        if not unk:
            raise ConfigError(f"{self.id}: importance 'unk' needs a tokenizer with an unknown token; "
                              "use importance: delete")
        return str(unk)

    @staticmethod
    def _outcome(status: str, book: "_Book", i: int, task: SearchTask, plan: Plan, n_words: int,
                 reason: str) -> AttackOutcome:
        edits = tuple(WordEdit(task.sites[s], new) for s, new in plan)
        return AttackOutcome(status, book.queries(i), n_words, edits, book.evaluation(i, ()).score,
                             book.evaluation(i, plan).score, reason)


class _Book:
    """Per example: every input scored so far (keyed by its fields) and which plan gave which input; the new
    inputs of a step wait in a queue until `score` evaluates them all at once."""

    def __init__(self, adapter: "TaskAdapter", cell: Cell, fields: tuple[str, ...], max_queries: int | None,
                 n: int):
        self.adapter, self.cell, self.fields, self.max_queries = adapter, cell, fields, max_queries
        self.seen: list[dict[Hashable, list[Any]]] = [{} for _ in range(n)]  # input key -> [variant, evaluation]
        self.plans: list[dict[Plan, Hashable]] = [{} for _ in range(n)]
        self.exhausted = [False] * n
        self._queue: list[tuple[int, Hashable]] = []

    def remember(self, i: int, variant: Variant, ev: Evaluation) -> None:
        key = _key(variant)
        self.seen[i][key] = [variant, ev]
        self.plans[i][()] = key

    def admit(self, i: int, example: Example, task: SearchTask, plans: Sequence[Plan]) -> list[Plan]:
        """The leading plans whose inputs fit the query budget (inputs seen before are free); new ones queued."""
        seen = self.seen[i]
        out = []
        for plan in plans:
            if plan not in self.plans[i]:
                edits = [(task.sites[s], new) for s, new in plan]
                v = self.adapter.perturb(example, planned(edits), self.cell, self.fields)
                key = _key(v)
                if key not in seen:
                    if self.max_queries is not None and len(seen) >= self.max_queries:
                        self.exhausted[i] = True
                        break
                    seen[key] = [v, None]
                    self._queue.append((i, key))
                self.plans[i][plan] = key
            out.append(plan)
        return out

    def score(self, goal: Any, predictor: "Predictor") -> None:
        variants = [self.seen[i][k][0] for i, k in self._queue]
        for (i, k), ev in zip(self._queue, goal.evaluate(self.adapter, predictor, variants)):
            self.seen[i][k][1] = ev
        self._queue = []

    def evaluation(self, i: int, plan: Plan) -> Evaluation:
        return self.seen[i][self.plans[i][plan]][1]

    def variant(self, i: int, plan: Plan) -> Variant:
        return self.seen[i][self.plans[i][plan]][0]

    def queries(self, i: int) -> int:
        return len(self.seen[i])


def _key(v: Variant) -> Hashable:
    return tuple(sorted(v.fields.items()))


def _check_int(where: str, name: str, value: Any, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: {name} must be an integer >= 1{' or null' if allow_none else ''}, got {value!r}")
