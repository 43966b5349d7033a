"""Real-world noise from a file of (clean, noisy) pairs: the text is replaced by its human-made noisy version.

`path` is a JSONL file, one object per line, with the clean text in `clean_field` and its noisy version in
`noisy_field`; `{lang}` in `path` is the example's language; in a suite a relative path is taken from the suite
file's folder (`path_params`), on the command line (`xrobust perturb --param path=…`) from the working
directory. The Stickland et al. (EACL 2023) SNIPS test sets are such files
(`../shared/data/noise/realworld_noisy/snips_{es,fr,hi}.jsonl`: `clean`, `noisy`; their English file has
only the noisy side). A text is looked up exactly, after NFC on both sides; texts not in the file are
reported `applied=False` ("no paired noisy version"), never edited some other way. A clean text listed
with several noisy versions gets one of them, chosen with the example's RNG.

Severity: 1.0 replaces every paired text; s < 1 replaces each paired text with probability s, drawn from
the example's own RNG (so about a share s of them, and the same ones for the same seed; the draws at two
severities are independent, not nested).

The file is read on first use and cached per (path, fields). The alignment is one span, from the first to
the last grapheme that differs: real noise is not word-local (words may be split, merged or rewritten), so
`keeps_token_count` is False and token tasks refuse it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from rapidfuzz.distance import Levenshtein

from harness.data import jsonl_rows
from harness.errors import ConfigError, DataError
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, Span
from harness.text import grapheme_edit_rate, graphemes, nfc


@PERTURBATIONS.register("realworld.paired.v1")
@dataclass(frozen=True)
class PairedNoise(Perturbation):
    """Replace a text by its real-world noisy version from a JSONL file of clean/noisy pairs (exact NFC match).

    Without `path` nothing is paired: every text is reported not applied, with the reason.
    `n_edited` is the word-level edit distance between the two versions (at least 1), `n_eligible` the
    words of the longer one.
    """

    id = "realworld.paired.v1"
    family = "realworld"
    description = "replace a text by its real-world noisy version from a JSONL file of clean/noisy pairs"
    keeps_token_count = False
    path_params = ("path",)

    path: str = ""
    clean_field: str = "clean"
    noisy_field: str = "noisy"

    def __post_init__(self) -> None:
        for name in ("path", "clean_field", "noisy_field"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"{self.id}: {name} must be a string, got {getattr(self, name)!r}")
        if not self.clean_field or not self.noisy_field or self.clean_field == self.noisy_field:
            raise ConfigError(f"{self.id}: clean_field and noisy_field must be two different column names, got "
                              f"{self.clean_field!r} and {self.noisy_field!r}")
        try:
            self.path.format(lang="xx")
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"{self.id}: path {self.path!r} may hold only the placeholder {{lang}}") from None

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if not 0.0 <= severity <= 1.0:
            raise ConfigError(f"{self.id}: severity must be in [0, 1], got {severity}")
        text = nfc(text)
        if not self.path:
            return PerturbResult(text, False, 0, 0, 0.0, reason="no paired file: set the `path` parameter")
        versions = self.pairs(lang).get(text)
        if not versions:
            return PerturbResult(text, False, 0, 0, 0.0, reason="no paired noisy version")
        words = len(text.split())
        if rng.random() >= severity:
            return PerturbResult(text, False, words, 0, 0.0, reason="severity selected no text")
        out = versions[0] if len(versions) == 1 else rng.choice(versions)
        if out == text:
            return PerturbResult(text, False, words, 0, 0.0, reason="the paired noisy version equals the text")
        n_edited = max(1, Levenshtein.distance(text.split(), out.split()))
        return PerturbResult(out, True, max(words, len(out.split()), n_edited), n_edited,
                             grapheme_edit_rate(text, out), (changed_span(text, out),))

    def pairs(self, lang: str) -> Mapping[str, tuple[str, ...]]:
        """NFC clean text -> its noisy versions (file order) in the file for `lang`."""
        path = Path(self.path.format(lang=lang)).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"{self.id}: paired-noise file {path} not found (language {lang!r}, path "
                              f"{self.path!r}; in a suite a relative path is taken from the suite file's folder, on the command line "
                              "from the working directory)")
        return _read_pairs(str(path), self.clean_field, self.noisy_field)


@lru_cache(maxsize=32)
def _read_pairs(path: str, clean_field: str, noisy_field: str) -> Mapping[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for loc, _, row in jsonl_rows(Path(path)):
        for col in (clean_field, noisy_field):
            if not isinstance(row.get(col), str):
                raise DataError(f"{loc}: field {col!r} is missing or not text; columns: {sorted(row)}")
        noisy = out.setdefault(nfc(row[clean_field]), [])
        if nfc(row[noisy_field]) not in noisy:
            noisy.append(nfc(row[noisy_field]))
    return MappingProxyType({k: tuple(v) for k, v in out.items()})


def changed_span(old: str, new: str) -> Span:
    """The one region where `old` and `new` differ, in whole grapheme clusters (common prefix and suffix kept).

    >>> changed_span("canción en mi lista", "cancion en mi lista")
    Span(old_start=5, old_end=6, new_start=5, new_end=6)
    >>> changed_span("मैं ठीक", "मै ठीक")     # the anusvara's cluster, not a detached mark
    Span(old_start=0, old_end=3, new_start=0, new_end=2)
    """
    a, b = graphemes(old), graphemes(new)
    limit = min(len(a), len(b))
    p = 0
    while p < limit and a[p] == b[p]:
        p += 1
    s = 0
    while s < limit - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    start = sum(len(g) for g in a[:p])
    return Span(start, len(old) - sum(len(g) for g in a[len(a) - s:]), start, len(new) - sum(len(g) for g in b[len(b) - s:]))
