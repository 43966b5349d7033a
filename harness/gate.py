"""Gate: compare a candidate run with a baseline under the suite's `gate:` policy -> pass/fail per cell.

What is compared (per task, on one metric: `gate.tasks.<task>.metric`, default the task's primary metric,
the first one in rows.csv; its direction is the rows' `higher_is_better`). Every difference below is
direction-aware: positive always means the candidate is worse.

* Clean regression, one per (task, language): `delta = baseline clean value − candidate clean value`
  (reversed for lower-is-better metrics), against the tolerance `clean`.
* Degradation regression, one per perturbed cell (task, language, perturbation, severity, seed):
  `delta = candidate abs_drop − baseline abs_drop`, where abs_drop is the cell's drop from its own clean
  value (rows.csv), against the tolerance `degradation`. It asks "does the candidate lose more under this
  perturbation than the baseline did?"; a candidate that is worse on clean and perturbed inputs alike is a
  clean regression, not a degradation regression.

A cell fails only when `delta > tolerance` AND a paired test on the identical items says the difference
is real: its p-value, Holm–Bonferroni-adjusted across the languages of the same comparison (same task,
metric, kind, perturbation, severity, seed) unless `correction: none`, is below `alpha`. Tests are
two-sided (the tolerance condition already fixes the direction), on the per-example `score` of
records.parquet (the example's own primary score), paired by (task, lang, perturbation, severity, seed,
example_id):

* the metric is the mean of binary scores (accuracy): clean — exact McNemar test on the clean outcomes of
  the two runs; degradation — exact sign test on the per-example change of degradation
  `w = (cand clean − cand perturbed) − (base clean − base perturbed)` (positive vs negative w; McNemar's
  test is the special case where the clean outcomes agree); no disagreement gives p = 1;
* the metric is the mean of continuous scores (QA F1, EM): paired bootstrap of the same difference
  (examples resampled once per task and language, the same draws for both runs and all of its cells);
* the metric is corpus-level (macro-F1, entity F1, micro token accuracy): paired bootstrap of the metric itself,
  recomputed in every resample from the summed per-example sufficient statistics in the records' `stats`
  column (the task type's `sums_metrics`; checked to reproduce every cell's value in rows.csv). Runs or
  baselines written before records kept `stats` fall back to the mean per-example score as a proxy (marked
  "score proxy" in the outputs); `delta` and the tolerance always use the metric itself.

Cells with fewer than `min_n` paired examples are "insufficient_n" (reported, not passed silently; a
failure with `fail_on_insufficient_n`); cells whose metric is NaN are "undefined". Baseline and candidate
must have measured the same thing (suite content apart from `gate`, `name`, `description`; perturbation
ids and parameters; `--limit`; word segmenter; max_length; metrics and their direction; the same items
with the same gold labels and perturbed text), or GateError lists every difference (exit 2).
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .baseline import CELL_KEYS, ITEM_KEYS, RunData, load_run
from .errors import GateError
from .rng import derive_seed
from .stats import (SumsMetricFn, bootstrap_counts, bootstrap_indices, holm, mcnemar_exact, paired_bootstrap_diff,
                    ratio, sign_test)
from .suite import GateSpec
from .types import CLEAN

Kind = Literal["clean", "degradation"]
UNMEASURED_SUITE_KEYS = ("gate", "name", "description")  # may differ between baseline and candidate
_EXACT = 1e-9  # |metric − mean score| below this: the metric is the mean of the per-example scores


@dataclass(frozen=True)
class CellVerdict:
    """The gate's decision on one cell (clean: the clean score; degradation: the drop under a perturbation)."""

    task: str
    lang: str
    perturbation: str
    severity: float
    seed: int
    kind: str
    metric: str
    higher_is_better: bool
    n: int
    baseline: float  # clean value (clean) or abs_drop (degradation) of the baseline
    candidate: float
    delta: float  # direction-aware: positive = candidate worse
    tolerance: float
    test: str
    p_value: float
    p_adjusted: float
    status: str  # pass | fail | insufficient_n | undefined
    reason: str

    @property
    def cell(self) -> str:
        """`xnli/en/clean` or `xnli/en/char.swap.v1@0.3/seed0`."""
        if self.kind == "clean":
            return f"{self.task}/{self.lang}/clean"
        return f"{self.task}/{self.lang}/{self.perturbation}@{self.severity:g}/seed{self.seed}"


@dataclass
class GateResult:
    """All verdicts of one gate, with the policy and the two runs it compared."""

    verdicts: list[CellVerdict]
    policy: GateSpec
    policy_source: str
    candidate: dict[str, Any]
    baseline: dict[str, Any]
    seed: int
    bootstrap_samples: int
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)

    @property
    def passed(self) -> bool:
        """No regression (and no insufficient n when the policy fails on it)."""
        if self.count("fail"):
            return False
        return not (self.policy.fail_on_insufficient_n and self.count("insufficient_n"))


def run_gate(candidate_dir: str | Path, baseline_dir: str | Path, *, seed: int | None = None,
             bootstrap_samples: int | None = None) -> GateResult:
    """Gate a candidate run against a baseline (run directory or `xrobust baseline update` output)."""
    cand = load_run(candidate_dir, "candidate")
    base = load_run(baseline_dir, "baseline")
    policy, source = policy_of(cand)
    problems = compatibility_problems(base, cand)
    if not problems:
        problems = item_problems(base, cand)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise GateError(f"baseline {base.label} and candidate {cand.label} did not measure the same thing:\n{listing}")
    metrics = gated_metrics(policy, cand)
    seed = policy.seed if seed is None else seed
    samples = policy.bootstrap_samples if bootstrap_samples is None else bootstrap_samples
    if samples < 100:
        raise GateError(f"--samples must be >= 100, got {samples}")
    raw: list[dict[str, Any]] = []
    for task, (metric, hib) in metrics.items():
        kind = score_kind(base, cand, task, metric)
        for lang in dict.fromkeys(cand.rows.loc[cand.rows.task == task, "lang"]):
            raw += _unit(base, cand, task, lang, metric, hib, kind, policy, seed, samples)
    verdicts = _decide(raw, policy)
    return GateResult(verdicts, policy, source, _identity(cand), _identity(base), seed, samples)


# --- policy ---------------------------------------------------------------------------------------------------


def policy_of(run: RunData) -> tuple[GateSpec, str]:
    """The `gate:` section of the suite recorded in the run's run.json (defaults when it has none)."""
    suite = run.manifest.get("suite") or {}
    content = suite.get("content")
    if not isinstance(content, dict):
        raise GateError(f"candidate {run.path}/run.json: no suite content recorded; re-run with this xrobust version")
    section = content.get("gate")
    if section is None:
        return GateSpec(), f"defaults (suite {suite.get('name')!r} has no gate: section)"
    try:
        return GateSpec.model_validate(section), f"gate: section of suite {suite.get('name')!r} ({suite.get('path')})"
    except ValidationError as exc:
        msgs = "; ".join(f"gate.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise GateError(f"candidate {run.path}/run.json: invalid gate policy: {msgs}") from None


def gated_metrics(policy: GateSpec, run: RunData) -> dict[str, tuple[str, bool]]:
    """task -> (gated metric, higher_is_better); GateError for policy keys that name nothing in the run."""
    rows = run.rows
    tasks = list(dict.fromkeys(rows["task"]))
    langs = set(rows["lang"])
    problems = []
    for lang in policy.languages:
        if lang not in langs:
            problems.append(f"gate.languages.{lang}: not a language of this run ({', '.join(sorted(langs))})")
    for task, spec in policy.tasks.items():
        if task not in tasks:
            problems.append(f"gate.tasks.{task}: not a task of this run ({', '.join(tasks)})")
            continue
        task_langs = set(rows.loc[rows.task == task, "lang"])
        problems += [f"gate.tasks.{task}.languages.{lang}: not a language of task {task} ({', '.join(sorted(task_langs))})"
                     for lang in spec.languages if lang not in task_langs]
    out: dict[str, tuple[str, bool]] = {}
    for task in tasks:
        sub = rows[rows.task == task]
        available = list(dict.fromkeys(sub["metric"]))
        spec = policy.tasks.get(task)
        metric = spec.metric if spec and spec.metric else available[0]
        if metric not in available:
            problems.append(f"gate.tasks.{task}.metric: {metric!r} is not a metric of {task} ({', '.join(available)})")
            continue
        out[task] = (metric, as_bool(sub.loc[sub.metric == metric, "higher_is_better"].iloc[0]))
    if problems:
        raise GateError("invalid gate policy:\n" + "\n".join(f"  - {p}" for p in problems))
    return out


def as_bool(value: Any) -> bool:
    """A rows.csv boolean (bool, numpy bool or the text true/false) as a bool."""
    return bool(value) if isinstance(value, (bool, np.bool_)) else str(value).strip().lower() == "true"


# --- do the two runs measure the same thing? -------------------------------------------------------------------


def compatibility_problems(base: RunData, cand: RunData) -> list[str]:
    """Every difference in what the two runs measured, as readable lines (empty: comparable)."""
    bm, cm = base.manifest, cand.manifest
    out: list[str] = []
    bs, cs = bm.get("suite") or {}, cm.get("suite") or {}
    if bs.get("sha256") != cs.get("sha256"):
        for path, b, c in diff(_measured(bs.get("content")), _measured(cs.get("content"))):
            out.append(f"suite {path}: baseline {_show(b)}, candidate {_show(c)}")
    out += _plugin_problems(bm.get("plugins") or {}, cm.get("plugins") or {})
    for key, what in (("limit", "--limit"), ("segmenter", "word segmenter")):
        if bm.get(key) != cm.get(key):
            out.append(f"{what}: baseline {_show(bm.get(key))}, candidate {_show(cm.get(key))}")
    bl, cl = (m.get("checkpoint", {}).get("max_length") for m in (bm, cm))
    if bl is not None and cl is not None and str(bl) != str(cl):
        out.append(f"max_length (inputs truncated differently): baseline {bl}, candidate {cl}")
    out += _metric_problems(base.rows, cand.rows)
    bcells, ccells = (set(map(tuple, r.rows[CELL_KEYS].drop_duplicates().itertuples(index=False))) for r in (base, cand))
    for cell in sorted(bcells - ccells, key=str)[:5]:
        out.append(f"cell {cell_name(*cell)}: in the baseline only")
    for cell in sorted(ccells - bcells, key=str)[:5]:
        out.append(f"cell {cell_name(*cell)}: in the candidate only")
    return out


def _measured(content: Any) -> Any:
    if not isinstance(content, dict):
        return content
    return {k: v for k, v in content.items() if k not in UNMEASURED_SUITE_KEYS}


def _plugin_problems(bp: dict[str, Any], cp: dict[str, Any]) -> list[str]:
    out = []
    b_by, c_by = _by_family_name(bp), _by_family_name(cp)
    for pid in sorted(set(bp) | set(cp)):
        if pid in bp and pid in cp:
            out += [f"perturbation {pid} {path}: baseline {_show(b)}, candidate {_show(c)}"
                    for path, b, c in diff(bp[pid], cp[pid])]
            continue
        name, _ = _split_version(pid)
        other = (c_by if pid in bp else b_by).get(name)
        if other and pid in bp:
            out.append(f"perturbation {name}: version {pid} in the baseline, {other} in the candidate")
        elif not other:
            side = "baseline" if pid in bp else "candidate"
            out.append(f"perturbation {pid}: in the {side} only")
    return out


def _split_version(pid: str) -> tuple[str, str]:
    name, _, last = pid.rpartition(".")
    return (name, last) if name and last[:1] == "v" and last[1:].isdigit() else (pid, "")


def _by_family_name(plugins: dict[str, Any]) -> dict[str, str]:
    return {_split_version(pid)[0]: pid for pid in plugins}


def _metric_problems(brows: pd.DataFrame, crows: pd.DataFrame) -> list[str]:
    out = []
    for task in sorted(set(brows["task"]) | set(crows["task"])):
        b, c = (dict(zip(r.loc[r.task == task, "metric"], map(as_bool, r.loc[r.task == task, "higher_is_better"])))
                for r in (brows, crows))
        if b != c:
            out.append(f"task {task} metrics (name: higher_is_better): baseline {b}, candidate {c}")
    return out


def diff(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, a value, b value) for every leaf where two JSON-like values differ.

    >>> list(diff({"x": [1, 2], "y": 1}, {"x": [1, 3]}))
    [('x[1]', 2, 3), ('y', 1, None)]
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                yield sub, a.get(k), b.get(k)
            else:
                yield from diff(a[k], b[k], sub)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield path or "(whole)", a, b


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def item_problems(base: RunData, cand: RunData) -> list[str]:
    """Differences in the paired items: examples present in one run only, or the same example id with another
    gold label or perturbed text (the data or the perturbation code changed)."""
    out = []
    for role, run in (("baseline", base), ("candidate", cand)):
        dup = run.records.duplicated(ITEM_KEYS)
        if dup.any():
            r = run.records[dup].iloc[0]
            out.append(f"{role}: {int(dup.sum())} duplicate example ids within a cell, e.g. {r['example_id']!r} in "
                       f"{cell_name(*r[CELL_KEYS])}; pairing needs unique ids (DataSpec id_field)")
    if out:
        return out
    m = base.records.merge(cand.records, on=ITEM_KEYS, how="outer", suffixes=("_b", "_c"), indicator=True)
    for side, role in (("left_only", "baseline"), ("right_only", "candidate")):
        only = m[m["_merge"] == side]
        for cell, g in list(only.groupby(CELL_KEYS, sort=True))[:5]:
            ids = ", ".join(map(repr, g["example_id"].head(3)))
            out.append(f"cell {cell_name(*cell)}: {len(g)} example(s) only in the {role} (e.g. {ids})")
    both = m[m["_merge"] == "both"]
    changed = both[both["item_b"] != both["item_c"]]
    if len(changed):
        r = changed.iloc[0]
        out.append(f"{len(changed)} item(s) have the same example id but another gold label or perturbed text, e.g. "
                   f"{r['example_id']!r} in {cell_name(*r[CELL_KEYS])} (data or perturbation code changed)")
    return out


def cell_name(task: str, lang: str, perturbation: str, severity: float, seed: int) -> str:
    """`task/lang/clean` or `task/lang/perturbation@severity/seed<k>`: how gate and compare name a cell."""
    if perturbation == CLEAN:
        return f"{task}/{lang}/clean"
    return f"{task}/{lang}/{perturbation}@{float(severity):g}/seed{int(seed)}"


# --- the paired tests -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreKind:
    """Which paired test fits a task's metric in two runs."""

    exact: bool  # the metric is the mean per-example score in every cell of both runs
    binary: bool  # every score is 0 or 1
    stats_fn: SumsMetricFn | None = None  # the metric from summed `stats` (corpus-level metrics), when both runs have them

    @property
    def test(self) -> str:
        if self.exact and self.binary:
            return "mcnemar_exact"
        return "paired_bootstrap" if self.exact or self.stats_fn is not None else "paired_bootstrap (score proxy)"


def score_kind(base: RunData, cand: RunData, task: str, metric: str) -> ScoreKind:
    """How to test `metric` of `task` between two runs (see the module docstring)."""
    exact, binary = True, True
    for run in (base, cand):
        rec = run.records[run.records.task == task]
        binary &= bool(rec["score"].isin([0.0, 1.0]).all())
        means = rec.groupby(CELL_KEYS[1:])["score"].mean()
        rows = run.rows[(run.rows.task == task) & (run.rows.metric == metric)].set_index(CELL_KEYS[1:])["value"]
        joined = pd.concat([rows.rename("value"), means.rename("mean")], axis=1, join="inner")
        exact &= bool(np.allclose(joined["value"], joined["mean"], rtol=0.0, atol=_EXACT, equal_nan=True))
    return ScoreKind(exact, binary, None if exact else stats_metric(base, cand, task, metric))


def stats_metric(base: RunData, cand: RunData, task: str, metric: str) -> SumsMetricFn | None:
    """`metric` of `task` as a function of summed per-example statistics, when every record of the task in both
    runs has `stats` of one width and they reproduce every cell's value in rows.csv; else None."""
    from .tasks import TASKS, adapter_class

    if task not in TASKS:
        return None
    recipe = TASKS.get(task)
    sums_metrics = adapter_class(recipe.task_type).sums_metrics

    def fn(sums: np.ndarray) -> np.ndarray:
        return sums_metrics(recipe, sums)[metric]

    widths: set[int] = set()
    for run in (base, cand):
        rec = run.records[run.records.task == task]
        if not len(rec) or not all(isinstance(x, (list, tuple, np.ndarray)) for x in rec["stats"]):
            return None
        widths |= {len(x) for x in rec["stats"]}
        if len(widths) != 1:
            return None
        rows = run.rows[(run.rows.task == task) & (run.rows.metric == metric)]
        values = rows.assign(severity=rows["severity"].astype(float), seed=rows["seed"].astype(int)) \
            .set_index(CELL_KEYS[1:])["value"]
        rec = rec.assign(severity=rec["severity"].astype(float), seed=rec["seed"].astype(int))
        for key, g in rec.groupby(CELL_KEYS[1:], sort=False):
            try:
                with np.errstate(invalid="ignore", divide="ignore"):
                    got = float(fn(np.array(g["stats"].tolist(), dtype=float).sum(axis=0)))
            except KeyError:  # not a metric of this task type
                return None
            want = values.get(key)
            if want is None or not np.isclose(got, float(want), rtol=0.0, atol=_EXACT, equal_nan=True):
                return None
    return fn


def _unit(base: RunData, cand: RunData, task: str, lang: str, metric: str, hib: bool, kind_: ScoreKind,
          policy: GateSpec, seed: int, samples: int) -> list[dict[str, Any]]:
    """Tested (not yet decided) cells of one task and language: the clean cell, then each perturbed cell."""
    brows, crows = (cell_rows(r, task, lang, metric) for r in (base, cand))
    B, C = (score_matrix(r, task, lang) for r in (base, cand))
    C = C.reindex(index=B.index, columns=B.columns)
    clean = (CLEAN, 0.0, 0)
    sign = 1.0 if hib else -1.0
    exact, binary, fn = kind_.exact, kind_.binary, kind_.stats_fn
    test_name = kind_.test
    SB, SC = (stats_matrices(r, task, lang, B.index) if fn is not None else {} for r in (base, cand))
    counts: list[np.ndarray] = []

    def draws() -> np.ndarray:  # one resample set per (task, language), drawn only when a bootstrap needs it
        if not counts:
            counts.append(bootstrap_counts(bootstrap_indices(len(B), samples, derive_seed(seed, "gate", task, lang))))
        return counts[0]

    out = []
    for key in brows.index:
        b, c = brows.loc[key], crows.loc[key]
        kind: Kind = "clean" if key == clean else "degradation"
        base_v, cand_v = (b["value"], c["value"]) if kind == "clean" else (b["abs_drop"], c["abs_drop"])
        delta = sign * (base_v - cand_v) if kind == "clean" else cand_v - base_v
        n = int(min(b["n"], c["n"]))
        p, test = float("nan"), test_name
        if n >= policy.min_n and not math.isnan(delta):
            if kind == "clean" and fn is not None:
                p = paired_bootstrap_diff(fn, SB[clean], SC[clean], draws(), higher_is_better=hib).p_value
            elif kind == "clean":
                p = clean_p(B[clean].to_numpy(), C[clean].to_numpy(), exact and binary, hib, draws)
            elif fn is not None:
                p = _degradation_p_stats(fn, SB[clean], SB[key], SC[clean], SC[key], hib, draws)
            else:
                test = "sign_test_exact" if exact and binary else test_name
                p = _degradation_p(B[clean].to_numpy(), B[key].to_numpy(), C[clean].to_numpy(), C[key].to_numpy(),
                                   exact and binary, hib, draws)
        out.append(dict(task=task, lang=lang, perturbation=key[0], severity=float(key[1]), seed=int(key[2]),
                        kind=kind, metric=metric, higher_is_better=hib, n=n, baseline=float(base_v),
                        candidate=float(cand_v), delta=float(delta),
                        tolerance=policy.tolerance_for(task, lang, kind), test=test, p_value=p))
    return out


def cell_rows(run: RunData, task: str, lang: str, metric: str) -> pd.DataFrame:
    """The rows of one task, language and metric, indexed by (perturbation, severity, seed)."""
    r = run.rows[(run.rows.task == task) & (run.rows.lang == lang) & (run.rows.metric == metric)]
    r = r.assign(severity=r["severity"].astype(float), seed=r["seed"].astype(int))
    return r.set_index(["perturbation", "severity", "seed"])  # rows.csv order: the clean cell first


def score_matrix(run: RunData, task: str, lang: str) -> pd.DataFrame:
    """Per-example scores of one task and language: examples (sorted ids) x cells (perturbation, severity, seed)."""
    rec = run.records[(run.records.task == task) & (run.records.lang == lang)]
    rec = rec.assign(severity=rec["severity"].astype(float), seed=rec["seed"].astype(int))
    return rec.pivot(index="example_id", columns=["perturbation", "severity", "seed"], values="score").sort_index()


def stats_matrices(run: RunData, task: str, lang: str, index: pd.Index) -> dict[tuple, np.ndarray]:
    """Per cell (perturbation, severity, seed) of one task and language: the (examples, k) `stats` of its
    records, rows in the order of `index` (example ids)."""
    rec = run.records[(run.records.task == task) & (run.records.lang == lang)]
    rec = rec.assign(severity=rec["severity"].astype(float), seed=rec["seed"].astype(int))
    out = {}
    for key, g in rec.groupby(["perturbation", "severity", "seed"], sort=False):
        out[key] = np.array(g.set_index("example_id")["stats"].reindex(index).tolist(), dtype=float)
    return out


def _degradation_p_stats(fn: SumsMetricFn, b_clean: np.ndarray, b_pert: np.ndarray, c_clean: np.ndarray,
                         c_pert: np.ndarray, hib: bool, draws) -> float:
    """Paired bootstrap of the change of the metric's direction-aware drop (clean -> perturbed) between the runs,
    the metric recomputed from summed statistics in each resample."""
    sign, k = (1.0 if hib else -1.0), b_clean.shape[1]

    def degradation(sums: np.ndarray) -> np.ndarray:
        return sign * (fn(sums[..., :k]) - fn(sums[..., k:]))

    return paired_bootstrap_diff(degradation, np.hstack([b_clean, b_pert]), np.hstack([c_clean, c_pert]), draws(),
                                 higher_is_better=False).p_value


def _mean_stats(*scores: np.ndarray) -> np.ndarray:
    """Per-example statistics [s_1 … s_k, 1] over examples whose scores are all finite ([0 … 0] otherwise)."""
    s = np.column_stack(scores)
    ok = np.isfinite(s).all(axis=1)
    return np.column_stack([np.where(ok[:, None], s, 0.0), ok.astype(float)])


def clean_p(b: np.ndarray, c: np.ndarray, binary: bool, hib: bool, draws) -> float:
    """Two-sided p of one cell's paired per-example scores: exact McNemar for 0/1 scores, else a paired bootstrap
    of the mean score with the resample counts `draws()`."""
    if binary:
        return mcnemar_exact(b == 1.0, c == 1.0)
    return paired_bootstrap_diff(ratio(0, 1), _mean_stats(b), _mean_stats(c), draws(), higher_is_better=hib).p_value


def _degradation_p(b_clean: np.ndarray, b_pert: np.ndarray, c_clean: np.ndarray, c_pert: np.ndarray,
                   binary: bool, hib: bool, draws) -> float:
    sign = 1.0 if hib else -1.0
    if binary:
        w = (c_clean - c_pert) - (b_clean - b_pert)
        return sign_test(int((w > 0).sum()), int((w < 0).sum()))

    def degradation(sums: np.ndarray) -> np.ndarray:  # direction-aware drop of the mean score
        d = sums[..., 2]
        return np.where(d > 0, sign * (sums[..., 0] - sums[..., 1]) / np.where(d > 0, d, 1.0), np.nan)

    return paired_bootstrap_diff(degradation, _mean_stats(b_clean, b_pert), _mean_stats(c_clean, c_pert), draws(),
                                 higher_is_better=False).p_value


# --- decisions --------------------------------------------------------------------------------------------------


def _decide(raw: list[dict[str, Any]], policy: GateSpec) -> list[CellVerdict]:
    """Holm across the languages of each comparison, then pass/fail per cell."""
    family = [(r["task"], r["metric"], r["kind"], r["perturbation"], r["severity"], r["seed"]) for r in raw]
    adjusted = np.array([r["p_value"] for r in raw], dtype=float)
    if policy.correction == "holm":
        for key in set(family):
            idx = [i for i, f in enumerate(family) if f == key]
            adjusted[idx] = holm(adjusted[idx])
    return [CellVerdict(**r, p_adjusted=float(adjusted[i]), **_status(r, float(adjusted[i]), policy))
            for i, r in enumerate(raw)]


def _status(r: dict[str, Any], p_adj: float, policy: GateSpec) -> dict[str, str]:
    what = f"clean {r['metric']}" if r["kind"] == "clean" else f"{r['metric']} drop under the perturbation"
    if r["n"] < policy.min_n:
        return {"status": "insufficient_n", "reason": f"n = {r['n']} < min_n {policy.min_n}: not tested"}
    if math.isnan(r["delta"]):
        return {"status": "undefined", "reason": f"{what} is undefined (NaN) in the baseline or the candidate"}
    values = f"baseline {r['baseline']:.4f}, candidate {r['candidate']:.4f}"
    p_text = f"{r['test']} p = {r['p_value']:.3g}" + (f", Holm {p_adj:.3g}" if policy.correction == "holm" else "")
    if r["delta"] <= r["tolerance"]:
        return {"status": "pass", "reason": f"{what} worse by {r['delta']:+.4f} ({values}), within tolerance "
                                            f"{r['tolerance']:.4f}"}
    if not p_adj < policy.alpha:
        return {"status": "pass", "reason": f"{what} worse by {r['delta']:.4f} ({values}) > tolerance "
                                            f"{r['tolerance']:.4f}, but not significant ({p_text} >= alpha {policy.alpha})"}
    return {"status": "fail", "reason": f"{what} worse by {r['delta']:.4f} ({values}) > tolerance {r['tolerance']:.4f}; "
                                        f"{p_text} < alpha {policy.alpha}"}


def _identity(run: RunData) -> dict[str, Any]:
    m = run.manifest
    return {"run_id": m.get("run_id"), "path": str(run.path), "suite": (m.get("suite") or {}).get("name"),
            "suite_sha256": (m.get("suite") or {}).get("sha256"),
            "checkpoint": (m.get("checkpoint") or {}).get("source"),
            "fingerprint": (m.get("checkpoint") or {}).get("fingerprint")}


# --- outputs ----------------------------------------------------------------------------------------------------

STATUS_ORDER = {"fail": 0, "insufficient_n": 1, "undefined": 2, "pass": 3}


def write_gate_outputs(result: GateResult, out_dir: str | Path) -> dict[str, Path]:
    """Write gate.json, gate.junit.xml and gate.md into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": out_dir / "gate.json", "junit": out_dir / "gate.junit.xml", "md": out_dir / "gate.md"}
    files["json"].write_text(json.dumps(gate_json(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files["junit"].write_bytes(junit_xml(result))
    files["md"].write_text(gate_markdown(result), encoding="utf-8")
    return files


def _finite(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value


def gate_json(result: GateResult) -> dict[str, Any]:
    """The machine-readable verdict: status, counts, policy, both runs and every cell."""
    return {
        "status": "pass" if result.passed else "fail",
        "counts": {s: result.count(s) for s in STATUS_ORDER},
        "candidate": result.candidate, "baseline": result.baseline,
        "policy": result.policy.model_dump(mode="json"), "policy_source": result.policy_source,
        "seed": result.seed, "bootstrap_samples": result.bootstrap_samples,
        "cells": [{"cell": v.cell, **{k: _finite(x) for k, x in asdict(v).items()}} for v in result.verdicts],
    }


def junit_xml(result: GateResult) -> bytes:
    """JUnit XML: one testcase per cell; regressions are failures, untested cells are skipped (or failures
    under `fail_on_insufficient_n`)."""
    strict = result.policy.fail_on_insufficient_n
    failures = result.count("fail") + (result.count("insufficient_n") if strict else 0)
    skipped = len(result.verdicts) - result.count("pass") - failures
    suites = ET.Element("testsuites", name="xrobust gate", tests=str(len(result.verdicts)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name=f"xrobust gate: {result.candidate['suite']}",
                          tests=str(len(result.verdicts)), failures=str(failures), errors="0", skipped=str(skipped))
    for v in result.verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"xrobust.gate.{v.task}.{v.lang}",
                             name=f"{v.cell} {v.metric} {v.kind}")
        message = f"{v.cell}: {v.reason}"
        if v.status == "fail" or (strict and v.status == "insufficient_n"):
            node = ET.SubElement(case, "failure", message=message, type="regression" if v.status == "fail" else v.status)
            node.text = json.dumps({k: _finite(x) for k, x in asdict(v).items()}, indent=1)
        elif v.status != "pass":
            ET.SubElement(case, "skipped", message=message)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def gate_markdown(result: GateResult) -> str:
    """A Markdown report for a CI job summary: verdict, policy, regressions, untested cells, every cell."""
    p = result.policy
    c, b = result.candidate, result.baseline
    head = "PASS" if result.passed else "FAIL"
    lines = [f"## xrobust gate: {head}", "",
             f"{result.count('fail')} regression(s), {result.count('insufficient_n')} cell(s) with insufficient n, "
             f"{result.count('undefined')} undefined, {result.count('pass')} passed, of {len(result.verdicts)} cells.", "",
             f"- candidate: `{c['run_id']}` · checkpoint `{c['checkpoint']}` (fingerprint `{str(c['fingerprint'])[:12]}`)",
             f"- baseline: `{b['run_id']}` · checkpoint `{b['checkpoint']}` (fingerprint `{str(b['fingerprint'])[:12]}`)",
             f"- policy: {result.policy_source}; alpha {p.alpha}"
             f"{' (Holm across languages)' if p.correction == 'holm' else ''}, min n {p.min_n}, "
             f"bootstrap B {result.bootstrap_samples}, seed {result.seed}",
             "- Δ is how much worse the candidate is (clean: score; degradation: drop under the perturbation); a cell "
             "fails when Δ > tolerance and the paired test is significant.", ""]
    fails = [v for v in result.verdicts if v.status == "fail"]
    untested = [v for v in result.verdicts if v.status in ("insufficient_n", "undefined")]
    if fails:
        lines += ["### Regressions", "", *_table(fails), ""]
    if untested:
        lines += ["### Not tested", "", *_table(untested), ""]
    ordered = sorted(result.verdicts, key=lambda v: (STATUS_ORDER[v.status], -(v.delta - v.tolerance)
                                                      if not math.isnan(v.delta) else 0.0))
    lines += [f"<details><summary>All {len(ordered)} cells</summary>", "", *_table(ordered), "", "</details>", ""]
    return "\n".join(lines)


def _table(verdicts: list[CellVerdict]) -> list[str]:
    out = ["| cell | metric | kind | n | baseline | candidate | Δ | tolerance | test | p | p adj. | status |",
           "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for v in verdicts:
        status = f"**{v.status}**" if v.status == "fail" else v.status
        out.append(f"| `{v.cell}` | {v.metric} | {v.kind} | {v.n} | {_num(v.baseline)} | {_num(v.candidate)} | "
                   f"{_num(v.delta, signed=True)} | {_num(v.tolerance)} | {v.test} | {_p(v.p_value)} | "
                   f"{_p(v.p_adjusted)} | {status} |")
    return out


def _num(x: float, signed: bool = False) -> str:
    return "—" if math.isnan(x) else (f"{x:+.4f}" if signed else f"{x:.4f}")


def _p(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.3g}"
