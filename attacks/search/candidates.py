"""Candidate edits of a word, drawn from the perturbation library's word-edit families.

Each family's own `edit_word` makes the edit, through the same check the library applies to every word edit
(`WordEditPerturbation.edit_word_checked`: NFC, no whitespace, never a detached combining mark or a dangling Thai/Lao
vowel, never a no-op), so an attack is exactly as script-safe as the perturbations. Draws use private RNGs
derived from (seed, attack id, example id, field, piece, word index, family id, attempt): the candidates of a
word do not depend on the severity, the batch or the other examples.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from harness.attack import Site
from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, WordEditPerturbation, make_perturbation
from harness.rng import derive_rng

ATTEMPTS_PER_CANDIDATE = 4  # draws allowed per wanted candidate before giving up on a word (repeats, refusals)


def word_families(ids: Sequence[str], params: Mapping[str, Mapping[str, object]], edits_per_word: int,
                  where: str) -> tuple[WordEditPerturbation, ...]:
    """Instantiate the word-edit families an attack draws from (ConfigError for anything else)."""
    out = []
    for fid in ids:
        cls = PERTURBATIONS.get(fid)
        if not issubclass(cls, WordEditPerturbation):
            raise ConfigError(f"{where}: {fid} is not a word-edit family (a WordEditPerturbation); attacks edit one "
                              "word at a time and take only those")
        fam = make_perturbation(fid, {"edits_per_word": edits_per_word, **dict(params.get(fid, {}))})
        out.append(fam)
    unknown = sorted(set(params) - set(ids))
    if unknown:
        raise ConfigError(f"{where}: family_params for {unknown}, which are not among the families {list(ids)}")
    return tuple(out)


@dataclass(frozen=True)
class FamilyCandidates:
    """Up to `k` distinct edits of a word, the families taking turns (round robin over attempts)."""

    families: tuple[WordEditPerturbation, ...]
    k: int

    def for_site(self, site: Site, keys: tuple[object, ...]) -> tuple[str, ...]:
        """Candidate words for `site`, in draw order; `keys` (seed, attack id, example id) make the RNGs."""
        families = [f for f in self.families if f.eligible(site.word, site.lang)]
        if not families or self.k < 1:
            return ()
        out: list[str] = []
        seen = {site.word}
        for attempt in range(ATTEMPTS_PER_CANDIDATE * self.k):
            fam = families[attempt % len(families)]
            rng = derive_rng(*keys, site.field, site.piece, site.index, fam.id, attempt)
            new = fam.edit_word_checked(site.word, rng, site.lang)
            if new is None or new in seen:
                continue
            seen.add(new)
            out.append(new)
            if len(out) == self.k:
                break
        return tuple(out)
