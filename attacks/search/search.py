"""Searches, written as generators so the engine can score the plans of many examples in one model pass.

A search yields a list of plans (each a set of word edits), gets their evaluations back (fewer than it asked for
when the example's query budget ran out: it then stops) and returns the plan it settles on. Plans are scored by
`Evaluation.progress`; among equals the earlier one wins, so results are deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.attack import Evaluation, Plan, SearchGen, SearchTask


def _rank(ev: Evaluation) -> tuple[bool, float]:
    return ev.reached, ev.progress


@dataclass(frozen=True)
class GreedyWordImportance:
    """Greedy search over words ranked by importance (DeepWordBug, Gao et al. 2018; TextBugger, Li et al. 2019;
    TextAttack's GreedyWordSwapWIR).

    1. Importance: each site's word replaced by the task's probe (the tokenizer's unknown token, or deleted);
       the more a replacement moves the prediction toward the goal, the earlier its word is tried (ties: text
       order).
    2. In that order, every candidate of the word is scored on top of the edits kept so far, all at once; the
       best is kept if it moves the prediction further than the current text does. Stop at the first plan that
       meets the goal (the best-ranked of that batch), after `task.max_edits` kept edits, or when the words run out.
    """

    def search(self, task: SearchTask) -> SearchGen:
        probes: list[Plan] = [((i, task.probe),) for i in range(len(task.sites))]
        got = yield probes
        if len(got) < len(probes):
            return ()
        order = sorted(range(len(got)), key=lambda i: (-got[i].progress, i))
        current: Plan = ()
        best = task.clean
        for i in order:
            if len(current) >= task.max_edits:
                break
            if not task.candidates[i]:
                continue
            plans = [tuple(sorted((*current, (i, new)))) for new in task.candidates[i]]
            got = yield plans
            if got:
                j = max(range(len(got)), key=lambda j: (_rank(got[j]), -j))
                if got[j].reached:
                    return plans[j]
                if got[j].progress > best.progress:
                    current, best = plans[j], got[j]
            if len(got) < len(plans):
                break
        return current


@dataclass(frozen=True)
class BeamSearch:
    """Beam search over single-word edits (TextAttack's BeamSearch; width 1 is its GreedySearch, the search of
    Pruthi et al. 2019's attack in TextAttack).

    Each step extends every plan of the beam by one edit at a word it has not edited yet (every candidate of
    every such word), scores all extensions at once and keeps the `width` best. Stop when an extension meets the
    goal (the best-ranked one), when the beam can grow no further (`task.max_edits` words edited, or no word
    left) or the budget runs out; a failed search returns the most advanced plan seen.
    """

    width: int = 1

    def search(self, task: SearchTask) -> SearchGen:
        beam: list[Plan] = [()]
        best: tuple[Plan, Evaluation] = ((), task.clean)
        while True:
            plans = list(dict.fromkeys(
                tuple(sorted((*plan, (i, new))))
                for plan in beam if len(plan) < task.max_edits
                for i, cands in enumerate(task.candidates) if i not in {s for s, _ in plan}
                for new in cands))
            if not plans:
                return best[0]
            got = yield plans
            order = sorted(range(len(got)), key=lambda j: (-got[j].reached, -got[j].progress, j))
            if order and got[order[0]].reached:
                return plans[order[0]]
            if order and got[order[0]].progress > best[1].progress:
                best = (plans[order[0]], got[order[0]])
            if len(got) < len(plans) or not order:
                return best[0]
            beam = [plans[j] for j in order[:self.width]]
