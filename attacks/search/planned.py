"""Attack edits go through the task adapter's own perturbation path, so labels stay aligned.

A candidate variant is built by `adapter.perturb(example, PlannedEdits(...), cell, fields)`: the adapter decides
which texts a perturbation sees (a token task's words joined with spaces, a QA context with its answers carried
through the alignment, or the stretches between protected answers) and maps the result back exactly as it does
for any perturbation. `PlannedEdits` only replaces chosen words of the texts it is handed. Which texts those are
is learnt once per example and field by a `Recorder` that the adapter calls like any perturbation.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from harness.attack import Site
from harness.perturbation import Perturbation, PerturbResult, Span, splice
from harness.text import grapheme_edit_rate, nfc, split_words
from harness.types import Cell, Example

if TYPE_CHECKING:
    from harness.tasks.base import TaskAdapter


@dataclass(frozen=True)
class Recorder(Perturbation):
    """Changes nothing; remembers each (text, lang) it was asked to perturb, in call order."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    id = "attack.record"
    family = "attack"
    description = "records the texts an adapter hands a perturbation (internal to attacks)"

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        self.calls.append((text, lang))
        return PerturbResult(text, False, 0, 0, 0.0, reason="recording")


@dataclass(frozen=True)
class PlannedEdits(Perturbation):
    """Replace planned words: `plan` maps a text to ((word index in split_words(text, lang), new word), ...).

    Texts without a plan come back unchanged (applied=False). The alignment is exact unless an edit composed
    with its neighbour under NFC (then, as in WordEditPerturbation, one coarse region covers the rest).
    """

    plan: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = ()

    id = "attack.planned"
    family = "attack"
    description = "applies the word edits an attack chose (internal to attacks)"

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        edits = next((e for t, e in self.plan if t == text), ())
        if not edits:
            return PerturbResult(text, False, 0, 0, 0.0, reason="no planned edit in this text")
        spans, _, _ = split_words(text, lang)
        out, alignment = splice(text, [(*spans[i], new) for i, new in sorted(edits)])
        if nfc(out) != out:
            out = nfc(out)
            alignment = (Span(alignment[0].old_start, len(text), alignment[0].new_start, len(out)),)
        return PerturbResult(out, True, len(spans), len(edits), grapheme_edit_rate(text, out), alignment)


def planned(edits: Sequence[tuple[Site, str]]) -> PlannedEdits:
    """The PlannedEdits perturbation that puts each `new` word in place of its site's word."""
    by_text: dict[str, list[tuple[int, str]]] = {}
    for site, new in edits:
        by_text.setdefault(site.text, []).append((site.index, new))
    return PlannedEdits(tuple((t, tuple(sorted(e))) for t, e in by_text.items()))


def find_sites(adapter: "TaskAdapter", example: Example, cell: Cell, fields: Sequence[str]) -> tuple[list[Site], int]:
    """Every word of the texts the adapter perturbs for `fields`, and the number of words of those texts.

    A text handed over twice for one example (two fields with the same text) yields no sites: an edit planned by
    text would land in both copies.
    """
    pieces: list[tuple[str, int, str, str]] = []
    for f in fields:
        rec = Recorder()
        adapter.perturb(example, rec, cell, (f,))
        pieces.extend((f, p, text, lang) for p, (text, lang) in enumerate(rec.calls))
    counts: Mapping[str, int] = _count(t for _, _, t, _ in pieces)
    sites: list[Site] = []
    n_words = 0
    for f, p, text, lang in pieces:
        spans, words, _ = split_words(text, lang)
        n_words += len(words)
        if counts[text] > 1:
            continue
        sites.extend(Site(f, p, text, i, s, e, w, lang) for i, ((s, e), w) in enumerate(zip(spans, words)))
    return sites, n_words


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out
