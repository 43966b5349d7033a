"""Split one word into two by inserting a space at a grapheme-cluster boundary between two letters."""
from __future__ import annotations

import random
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult
from harness.text import nfc

from ._rand import pick
from ._spacing import (
    SPACED_SCRIPTS, TOKEN, check_severity, check_unit, not_applicable, rebuild, share, stochastic_round, token_info,
)


@PERTURBATIONS.register("char.whitespace.split.v1")
@dataclass(frozen=True)
class SplitWord(Perturbation):
    """'hello world' -> 'hel lo world'; 'नमस्ते' -> 'नम स्ते' (the cut falls between whole clusters).

    A share `severity` of the eligible words gets one space each, between two letter clusters with at
    least `min_part` letter clusters on either side. Tokens holding a letter of a script written
    without spaces (Thai, Han, Kana, Lao, Khmer, Myanmar, Tibetan) are never cut; a text with
    nothing else is not applicable (applied=False with the scripts named in the reason).

    >>> p = SplitWord()
    >>> import random; p.perturb("hello", 1.0, random.Random(0)).text
    'h ello'
    """

    id = "char.whitespace.split.v1"
    family = "whitespace"
    description = "split a word in two by inserting a space between two of its letter clusters (changes the token count)"
    scripts = SPACED_SCRIPTS
    keeps_token_count = False

    min_part: int = 1
    unit: str = "word"  # severity is a share of eligible words, or "grapheme" (see WordEditPerturbation)

    def __post_init__(self) -> None:
        check_unit(self.id, self.unit)
        if self.min_part < 1:
            raise ConfigError(f"{self.id}: min_part must be >= 1, got {self.min_part}")

    def cut_points(self, token: str) -> list[int]:
        """Character offsets in `token` where a space may go."""
        info = token_info(token)
        if not info.usable:
            return []
        total = sum(info.spaced)
        cuts, offset, letters_before = [], 0, 0
        for i in range(len(info.clusters) - 1):
            offset += len(info.clusters[i])
            letters_before += info.spaced[i]
            if (info.spaced[i] and info.spaced[i + 1]
                    and letters_before >= self.min_part and total - letters_before >= self.min_part):
                cuts.append(offset)
        return cuts

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        check_severity(self.id, severity)
        text = nfc(text)
        tokens = [m.span() for m in TOKEN.finditer(text)]
        sites = [(s, e, cuts) for s, e in tokens if (cuts := self.cut_points(text[s:e]))]
        if not sites:
            return not_applicable(text, tokens, "no word with a cut point")
        k = stochastic_round(share(text, severity, len(sites), self.unit) * len(sites), rng)
        if k == 0:
            return PerturbResult(text, False, len(sites), 0, 0.0, reason="severity selected no word")
        chosen = sorted(rng.sample(range(len(sites)), k))
        edits = []
        for i in chosen:  # the span covers the whole old word, so it always holds a letter of a declared script
            start, end, cuts = sites[i]
            at = pick(cuts, rng)
            word = text[start:end]
            edits.append((start, end, word[:at] + " " + word[at:]))
        return rebuild(text, edits, len(sites), k)
