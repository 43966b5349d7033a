"""Merge adjacent words by deleting the whitespace between them (a missed space bar)."""
from __future__ import annotations

import random
from dataclasses import dataclass

from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult
from harness.text import nfc

from ._spacing import (
    LINE_BREAK, SPACED_SCRIPTS, TOKEN, check_severity, check_unit, not_applicable, rebuild, share, stochastic_round, token_info,
)


@PERTURBATIONS.register("char.whitespace.merge.v1")
@dataclass(frozen=True)
class MergeWords(Perturbation):
    """'see you soon' -> 'seeyou soon'; 'हर छः घंटे' -> 'हरछः घंटे'.

    The eligible places are the gaps between two adjacent words that both hold a letter of a spaced
    script; a share `severity` of them is deleted. Gaps holding a line break are kept, and so are gaps
    whose deletion would let NFC compose across the junction. Two deleted gaps in a row merge three
    words; each run of merged words is one alignment Span covering all of them. Tokens holding a letter
    of a script written without spaces (Thai, Han, Kana, Lao, Khmer, Myanmar, Tibetan) are never merged.

    >>> import random; MergeWords().perturb("see you soon", 0.5, random.Random(1)).text
    'seeyou soon'
    """

    id = "char.whitespace.merge.v1"
    family = "whitespace"
    description = "merge adjacent words by deleting the whitespace between them (changes the token count)"
    scripts = SPACED_SCRIPTS
    keeps_token_count = False

    unit: str = "word"  # severity is a share of eligible gaps, or "grapheme" (see WordEditPerturbation)

    def __post_init__(self) -> None:
        check_unit(self.id, self.unit)

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        check_severity(self.id, severity)
        text = nfc(text)
        tokens = [m.span() for m in TOKEN.finditer(text)]
        usable = [token_info(text[s:e]).usable for s, e in tokens]
        gaps = [i for i in range(len(tokens) - 1) if usable[i] and usable[i + 1] and self._joinable(text, tokens, i)]
        if not gaps:
            return not_applicable(text, tokens, "no two adjacent words to merge")
        k = stochastic_round(share(text, severity, len(gaps), self.unit) * len(gaps), rng)
        if k == 0:
            return PerturbResult(text, False, len(gaps), 0, 0.0, reason="severity selected no word")
        chosen = sorted(rng.sample(gaps, k))
        edits = []
        run = [chosen[0]]
        for i in chosen[1:] + [None]:  # runs of consecutive gaps: one span each
            if i is not None and i == run[-1] + 1:
                run.append(i)
                continue
            first, last = run[0], run[-1] + 1
            edits.append((tokens[first][0], tokens[last][1],
                          "".join(text[s:e] for s, e in tokens[first:last + 1])))
            if i is not None:
                run = [i]
        return rebuild(text, edits, len(gaps), k)

    @staticmethod
    def _joinable(text: str, tokens: list[tuple[int, int]], i: int) -> bool:
        (s1, e1), (s2, e2) = tokens[i], tokens[i + 1]
        if LINE_BREAK.search(text, e1, s2):
            return False
        joined = text[max(s1, e1 - 8):e1] + text[s2:min(e2, s2 + 8)]
        return nfc(joined) == joined
