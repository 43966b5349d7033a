"""Attack: model-in-the-loop search for the smallest word edits that make a prediction fail (DESIGN.md noun 3).

An attack is a goal (when has a prediction failed?), constraints (which words may change, and how), candidate
edits (what a word may become) and a search (which edits to try next), run under a query budget. Unlike a
Perturbation it sees the model: `Attack.run` gets the task adapter and the predictor of a (task, language) unit
and returns one Variant per example, the prediction of that variant, and an AttackOutcome saying what the
search did (skipped / failed / succeeded, queries, edits).

Plugins subclass `Attack` and register with `@ATTACKS.register("attack.name.v1")` (built-ins live in
`attacks/search/`; third parties use the entry point group `xrobust.attacks`). Parameters are dataclass fields,
the id is versioned like a perturbation's. The runner treats an attack as one more kind of cell: the suite's
`attacks:` section lists ids, severities (the largest share of words an attack may edit) and parameters.

The built-in engine (attacks/search/engine.py) composes the pieces declared here: a `Goal`, `Constraint`s,
candidate edits and a `Search` written as a generator that yields plans to score, so the engine can score the
plans of many examples in one model pass per step.
"""
from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generator, Mapping, Protocol, Sequence

from .errors import ConfigError
from .registry import Registry
from .types import Cell, Example, Variant

if TYPE_CHECKING:
    from .predictor import Predictor
    from .tasks.base import TaskAdapter

SKIPPED, FAILED, SUCCEEDED = "skipped", "failed", "succeeded"
OUTCOMES = (SKIPPED, FAILED, SUCCEEDED)
ProgressFn = Callable[[int, int], None]  # (examples finished, examples)


@dataclass(frozen=True)
class Site:
    """One word an attack may edit.

    `text` is one of the texts the adapter's own perturbation path hands a perturbation for `field` (`piece`
    numbers them: usually one per field; QA with protect_answers hands over the stretches between answers);
    `index` is the word's position in `harness.text.split_words(text, lang)` and [start, end) its characters.
    """

    field: str
    piece: int
    text: str
    index: int
    start: int
    end: int
    word: str
    lang: str


@dataclass(frozen=True)
class WordEdit:
    """`site.word` became `new`."""

    site: Site
    new: str


@dataclass(frozen=True)
class Evaluation:
    """What the goal says about one scored input.

    `score` is the adapter's own per-example score (`record_fields(...)["score"]`), `progress` a finer number in
    [0, 1] that grows as the prediction nears failure (1 - probability of the gold class for classifiers, 1 - score
    otherwise); searches rank by it. `reached`: the goal is met (score below the goal's threshold).
    """

    pred: Any
    score: float
    progress: float
    reached: bool


@dataclass(frozen=True)
class AttackOutcome:
    """What an attack did to one example.

    `queries` counts the distinct model inputs evaluated for the example, its clean input included (as
    TextAttack counts them); `n_words` the words of the texts the attack could edit; `edits` the edits of the
    returned variant (for a failed attack: the search's best attempt).
    """

    status: str
    queries: int
    n_words: int
    edits: tuple[WordEdit, ...] = ()
    clean_score: float = float("nan")
    score: float = float("nan")
    reason: str = ""  # why skipped or failed

    @property
    def n_edited(self) -> int:
        return len(self.edits)

    @property
    def word_share(self) -> float:
        """Share of the example's words that the returned variant edits."""
        return self.n_edited / self.n_words if self.n_words else 0.0


@dataclass(frozen=True)
class AttackRun:
    """An attack's result for the examples of one cell: per example the final variant, its prediction (scored
    in the search, so records agree with outcomes) and the outcome; all three in the order of the examples."""

    variants: list[Variant]
    preds: list[Any]
    outcomes: list[AttackOutcome]


@dataclass(frozen=True)
class Attack(ABC):
    """Base class. Subclasses set the class attributes, take their parameters as dataclass fields and implement
    `run`; `supports` says which task types they can attack."""

    id: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def run(self, adapter: "TaskAdapter", predictor: "Predictor", examples: Sequence[Example], cell: Cell,
            fields: tuple[str, ...], progress: ProgressFn | None = None) -> AttackRun:
        """Attack every example at `cell.severity` (the largest share of words to edit), editing only `fields`."""

    def supports(self, task_type: str, needs_token_count: bool) -> str:
        """Why this attack cannot run on a task type ("" when it can); suites refuse such pairs up front."""
        return ""

    def params(self) -> dict[str, object]:
        """The attack's parameters (its dataclass fields)."""
        return dataclasses.asdict(self)


# --- the pieces the built-in engine composes ------------------------------------------------------------------
Plan = tuple[tuple[int, str], ...]  # (site index, new word) pairs, sorted by site index


class Goal(Protocol):
    """Scores inputs for an attack: all variants of one search step in one model pass."""

    def evaluate(self, adapter: "TaskAdapter", predictor: "Predictor", variants: Sequence[Variant]) -> list[Evaluation]:
        """One Evaluation per variant (same order)."""


class Constraint(Protocol):
    """Limits what an attack may edit: whole words (`allows_site`) and single candidate edits (`allows_edit`)."""

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        """May this word be edited at all?"""

    def allows_edit(self, site: Site, new: str) -> bool:
        """May the word become `new`?"""


@dataclass(frozen=True)
class SearchTask:
    """What a search needs for one example: the editable sites, each site's candidate words, the word that
    stands in for a removed word when ranking importance (tokenizer's unknown token, or "" to delete it), the
    most words it may edit, and the clean input's evaluation."""

    sites: tuple[Site, ...]
    candidates: tuple[tuple[str, ...], ...]
    probe: str
    max_edits: int
    clean: Evaluation


# A search yields lists of plans to score, receives their evaluations (fewer than asked when the query budget
# ran out: then it must stop) and returns its final plan.
SearchGen = Generator[list[Plan], list[Evaluation], Plan]


class Search(Protocol):
    """How an attack walks the space of plans for one example."""

    def search(self, task: SearchTask) -> SearchGen:
        """A generator: yield plans, get their evaluations back, return the best plan found."""


# --- registry and row statistics ------------------------------------------------------------------------------
ATTACKS: Registry[type[Attack]] = Registry("attack", builtin_modules=("attacks",), entry_point_group="xrobust.attacks")


def make_attack(aid: str, params: Mapping[str, Any] | None = None) -> Attack:
    """Instantiate a registered attack with its parameters; bad parameters raise ConfigError."""
    cls = ATTACKS.get(aid)
    try:
        return cls(**dict(params or {}))
    except TypeError as exc:
        fields = [f.name for f in dataclasses.fields(cls)]
        raise ConfigError(f"{aid}: bad parameters {dict(params or {})!r} ({exc}); allowed: {fields}") from None


def outcome_stats(outcomes: Sequence[AttackOutcome] | None) -> dict[str, float]:
    """Row columns of one cell: attack success rate = succeeded / (succeeded + failed), mean queries over the
    attacked (not skipped) examples, mean share of words edited over the succeeded ones (as TextAttack reports
    them); NaN for cells that are not attacks or where nothing was attacked.

    >>> o = [AttackOutcome(SUCCEEDED, 7, 4, (None,)), AttackOutcome(FAILED, 9, 5), AttackOutcome(SKIPPED, 1, 3)]
    >>> outcome_stats(o)
    {'attack_success_rate': 0.5, 'mean_queries': 8.0, 'mean_word_edit_share': 0.25}
    """
    nan = float("nan")
    attacked = [o for o in outcomes or () if o.status != SKIPPED]
    won = [o for o in attacked if o.status == SUCCEEDED]
    return {
        "attack_success_rate": len(won) / len(attacked) if attacked else nan,
        "mean_queries": sum(o.queries for o in attacked) / len(attacked) if attacked else nan,
        "mean_word_edit_share": math.fsum(o.word_share for o in won) / len(won) if won else nan,
    }


__all__ = ["ATTACKS", "Attack", "AttackOutcome", "AttackRun", "Constraint", "Evaluation", "FAILED", "Goal",
           "OUTCOMES", "Plan", "SKIPPED", "SUCCEEDED", "Search", "SearchGen", "SearchTask", "Site", "WordEdit",
           "make_attack", "outcome_stats"]
