"""Shared parts of the perturbations that change word boundaries (split, merge): they change the token
count, so they subclass `Perturbation` directly and build their own exact alignment.

Scripts written without spaces between words have no word boundary to move: a token that holds a
letter of one of them is never edited, and a text with nothing else is reported as not applicable.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from harness.errors import ConfigError
from harness.perturbation import SEVERITY_UNITS, PerturbResult, grapheme_word_share, splice
from harness.text import SCRIPTS, cluster_script, grapheme_edit_rate, graphemes, is_letter_cluster

# Written without spaces between words (DESIGN.md "unspaced scripts", plus Hiragana/Katakana/Bopomofo).
UNSPACED_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Bopo", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
SPACED_SCRIPTS = frozenset(SCRIPTS) - UNSPACED_SCRIPTS
TOKEN = re.compile(r"\S+")  # stdlib re: the same whitespace as str.split()
LINE_BREAK = re.compile(r"[\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class TokenInfo:
    """What the boundary perturbations need to know about one whitespace token."""

    clusters: tuple[str, ...]
    spaced: tuple[bool, ...]  # per cluster: a letter cluster of a spaced script
    unspaced: frozenset[str]  # unspaced scripts with a letter in the token

    @property
    def usable(self) -> bool:
        """The token has a letter of a spaced script and none of an unspaced one."""
        return not self.unspaced and any(self.spaced)


@lru_cache(maxsize=1 << 16)
def token_info(token: str) -> TokenInfo:
    clusters = tuple(graphemes(token))
    spaced, unspaced = [], set()
    for g in clusters:
        letter = is_letter_cluster(g)
        script = cluster_script(g) if letter else ""
        spaced.append(letter and script in SPACED_SCRIPTS)
        if letter and script in UNSPACED_SCRIPTS:
            unspaced.add(script)
    return TokenInfo(clusters, tuple(spaced), frozenset(unspaced))


def check_unit(pid: str, unit: str) -> None:
    if unit not in SEVERITY_UNITS:
        raise ConfigError(f"{pid}: unit must be one of {list(SEVERITY_UNITS)}, got {unit!r}")


def share(text: str, severity: float, n_sites: int, unit: str) -> float:
    """The share of the `n_sites` places to edit: `severity` itself (unit word), or the grapheme unit's
    `severity / 4.75` edits per non-space grapheme (as WordEditPerturbation), so scripts with short words
    get the same measured edit rate as English."""
    return severity if unit == "word" else grapheme_word_share(text, severity, n_sites)


def check_severity(pid: str, severity: float) -> None:
    if not 0.0 <= severity <= 1.0:
        raise ConfigError(f"{pid}: severity must be in [0, 1], got {severity}")


def stochastic_round(x: float, rng: random.Random) -> int:
    """floor(x) + Bernoulli(frac(x)): the expected value is x (DESIGN.md, severity rounding)."""
    floor = int(x)
    return floor + (1 if rng.random() < x - floor else 0)


def not_applicable(text: str, tokens: list[tuple[int, int]], what: str) -> PerturbResult:
    """applied=False, naming the unspaced scripts when they are why nothing was eligible."""
    found = sorted({s for a, b in tokens for s in token_info(text[a:b]).unspaced})
    if found:
        reason = f"not applicable to scripts written without spaces ({', '.join(found)}); {what}"
    else:
        reason = what
    return PerturbResult(text, False, 0, 0, 0.0, reason=reason)


def rebuild(text: str, edits: list[tuple[int, int, str]], n_eligible: int, n_edited: int) -> PerturbResult:
    """Replace the sorted, disjoint `edits` (old_start, old_end, new) in `text`, with exact alignment."""
    out, alignment = splice(text, edits)
    return PerturbResult(out, True, n_eligible, n_edited, grapheme_edit_rate(text, out), alignment)
