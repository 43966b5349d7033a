"""Compare checkpoints (`xrobust compare`): N runs of the same suite side by side, each against a reference run
with paired tests on the identical items, robustness numbers per run, and their rank correlation with
checkpoint metadata.

* Comparable runs only: the gate's checks (`gate.compatibility_problems`, `gate.item_problems`) between the
  reference and every other run; every difference is listed (DataError, exit 2).
* Side by side, per (task, language, perturbation, severity, seed, metric): each run's value (rows.csv), its
  difference to the reference (`diff = value − reference value`, raw), and a two-sided paired test on the
  per-example scores of records.parquet with the gate's rule (exact McNemar for 0/1 scores when the metric is
  their mean, else a paired bootstrap of the mean score; corpus-level metrics such as macro-F1 or entity F1 get a
  paired bootstrap of the metric itself, recomputed from the records' summed `stats`, or, for runs written before
  records kept them, of the mean per-example score as a proxy, named "score proxy"). p-values are Holm-adjusted
  across the
  languages of each (run, task, metric, perturbation, severity, seed) comparison; marks `*` p_adj < 0.05,
  `**` p_adj < 0.01.
* Robustness numbers per run, task and metric: `clean` (the clean score), `mean_drop` (mean direction-aware
  drop, rows' abs_drop, over every perturbed cell; positive = worse) and `auc:<perturbation>` (the robustness
  AUC over the suite's severities, `aggregate.robustness_auc`), per language, per family (mean over its
  languages) and `macro` (mean over languages).
* With metadata (one CSV row per checkpoint): Spearman's rho between every numeric metadata column and every
  robustness number at the macro and family scopes, across checkpoints, with a percentile bootstrap CI over
  checkpoints (seeded; at least 3 checkpoints).
"""
from __future__ import annotations

import csv
import html
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .aggregate import robustness_auc
from .baseline import RunData, load_run
from .errors import ConfigError, DataError
from .gate import (ScoreKind, as_bool, cell_name, cell_rows, clean_p, compatibility_problems, item_problems,
                   score_kind, score_matrix, stats_matrices)
from .rng import derive_seed
from .stats import bootstrap_counts, bootstrap_indices, holm, paired_bootstrap_diff
from .types import CLEAN

MARKS = ((0.01, "**"), (0.05, "*"))  # strictest first
MIN_META_RUNS = 3
CELL_COLUMNS = ["run", "is_reference", "task", "lang", "family", "perturbation", "severity", "seed", "metric",
                "higher_is_better", "n", "value", "reference_value", "diff", "test", "p_value", "p_adjusted", "mark"]
ROBUSTNESS_COLUMNS = ["run", "task", "metric", "higher_is_better", "measure", "scope_kind", "scope", "n_languages",
                      "value"]
CORRELATION_COLUMNS = ["column", "task", "metric", "measure", "scope_kind", "scope", "n_checkpoints", "rho",
                       "ci_low", "ci_high", "n_valid_resamples", "p_permutation"]


@dataclass
class Comparison:
    """Everything `xrobust compare` reports, as tidy tables."""

    names: list[str]
    runs: list[RunData]
    reference: int
    cells: pd.DataFrame  # CELL_COLUMNS, one row per run × cell × metric
    robustness: pd.DataFrame  # ROBUSTNESS_COLUMNS
    correlations: pd.DataFrame | None  # CORRELATION_COLUMNS; None without metadata
    seed: int
    samples: int
    meta_path: str | None = None
    meta_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compare_runs(run_dirs: Sequence[str | Path], *, reference: str | None = None, meta: str | Path | None = None,
                 seed: int = 0, samples: int = 2000) -> Comparison:
    """Load, check and compare runs; `reference` is a run name (directory name, run id, checkpoint source) or a
    1-based position (default: the first run)."""
    if len(run_dirs) < 2:
        raise ConfigError(f"compare needs at least 2 run directories, got {len(run_dirs)}")
    if samples < 100:
        raise ConfigError(f"--samples must be >= 100, got {samples}")
    if meta is not None and len(run_dirs) < MIN_META_RUNS:
        raise ConfigError(f"--meta: a rank correlation across checkpoints needs at least {MIN_META_RUNS} runs, got "
                          f"{len(run_dirs)}; add runs or leave out --meta")
    seen: dict[Path, str] = {}
    for d in run_dirs:
        key = Path(d).resolve()
        if key in seen:
            raise ConfigError(f"run directory {d} is given twice (also as {seen[key]})")
        seen[key] = str(d)
    runs = [load_run(d, "run") for d in run_dirs]
    names = run_names(runs)
    ref = _reference_index(reference, names, runs)
    _check_comparable(runs, names, ref)
    table, columns, notes = read_meta(meta, runs, names) if meta is not None else (None, [], [])
    cells = _cells(runs, names, ref, seed, samples)
    robust = robustness_numbers(runs, names)
    corr = correlations(table, robust, names, seed, samples) if table is not None else None
    return Comparison(names, runs, ref, cells, robust, corr, seed, samples, None if meta is None else str(meta),
                      columns, notes)


# --- runs -------------------------------------------------------------------------------------------------------


def run_names(runs: Sequence[RunData]) -> list[str]:
    """Display names: the run directory names, else the run ids, else `position:directory name` when not unique."""
    for names in ([r.path.name for r in runs], [str(r.manifest.get("run_id")) for r in runs]):
        if len(set(names)) == len(names):
            return names
    return [f"{i + 1}:{r.path.name}" for i, r in enumerate(runs)]


def _aliases(run: RunData, name: str) -> set[str]:
    """The strings that name a run: display name, directory name and path, run id, checkpoint source."""
    ckpt = run.manifest.get("checkpoint") or {}
    return {a for a in (name, run.path.name, str(run.path), run.manifest.get("run_id"), ckpt.get("source")) if a}


def _reference_index(reference: str | None, names: list[str], runs: list[RunData]) -> int:
    if reference is None:
        return 0
    hits = [i for i, (r, n) in enumerate(zip(runs, names)) if reference in _aliases(r, n)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise ConfigError(f"--reference {reference!r} names several runs ({', '.join(names[i] for i in hits)}); "
                          "use a run directory name or a position")
    if reference.isdigit() and 1 <= int(reference) <= len(runs):
        return int(reference) - 1
    raise ConfigError(f"--reference {reference!r}: not a run (runs: {', '.join(names)}) nor a position 1-{len(runs)}")


def _check_comparable(runs: list[RunData], names: list[str], ref: int) -> None:
    """DataError listing every difference between the reference and each other run (the gate's checks)."""
    blocks = []
    for i, run in enumerate(runs):
        if i == ref:
            continue
        problems = compatibility_problems(runs[ref], run) or item_problems(runs[ref], run)
        if problems:
            blocks.append(f"reference {names[ref]} ('baseline' below) and {names[i]} ('candidate') did not measure "
                          "the same thing:\n" + "\n".join(f"  - {p}" for p in problems))
    if blocks:
        raise DataError("runs are not comparable (same suite apart from name/description/gate, same perturbations "
                        "and parameters, same items):\n" + "\n".join(blocks))


# --- side by side -----------------------------------------------------------------------------------------------


def _cells(runs: list[RunData], names: list[str], ref: int, seed: int, samples: int) -> pd.DataFrame:
    """One row per run × cell × metric: value, difference to the reference, paired test, Holm-adjusted p."""
    base = runs[ref]
    out: list[dict[str, Any]] = []
    for task in dict.fromkeys(base.rows["task"]):
        metrics = list(dict.fromkeys(base.rows.loc[base.rows.task == task, "metric"]))
        kinds = {(i, m): score_kind(base, runs[i], task, m) for i in range(len(runs)) if i != ref for m in metrics}
        for lang in dict.fromkeys(base.rows.loc[base.rows.task == task, "lang"]):
            B = score_matrix(base, task, lang)
            counts: list[np.ndarray] = []

            def draws() -> np.ndarray:  # one resample set per (task, language), shared by every run and cell
                if not counts:
                    key = derive_seed(seed, "compare", task, lang)
                    counts.append(bootstrap_counts(bootstrap_indices(len(B), samples, key)))
                return counts[0]

            for metric in metrics:
                out += _unit(runs, names, ref, task, lang, metric, B, kinds, draws)
    cells = pd.DataFrame(out, columns=CELL_COLUMNS[:-2])
    family = list(zip(cells["run"], cells["task"], cells["metric"], cells["perturbation"], cells["severity"],
                      cells["seed"]))
    adjusted = cells["p_value"].to_numpy(dtype=float).copy()
    for key in dict.fromkeys(family):
        idx = [i for i, f in enumerate(family) if f == key]
        adjusted[idx] = holm(adjusted[idx])
    cells["p_adjusted"] = adjusted
    cells["mark"] = [significance_mark(p) for p in adjusted]
    return cells


def _unit(runs: list[RunData], names: list[str], ref: int, task: str, lang: str, metric: str, B: pd.DataFrame,
          kinds: dict, draws) -> list[dict[str, Any]]:
    """Rows of one task, language and metric: the reference's cells, then each other run's."""
    base_rows = cell_rows(runs[ref], task, lang, metric)
    hib = as_bool(base_rows["higher_is_better"].iloc[0])
    family = str(base_rows["family"].iloc[0]) if "family" in base_rows else ""
    out = []
    for i, run in enumerate(runs):
        rows = base_rows if i == ref else cell_rows(run, task, lang, metric)
        C = B if i == ref else score_matrix(run, task, lang).reindex(index=B.index, columns=B.columns)
        kind: ScoreKind = kinds.get((i, metric), ScoreKind(True, True))
        exact, binary, fn = kind.exact, kind.binary, kind.stats_fn
        test = "" if i == ref else kind.test
        SB, SC = (stats_matrices(r, task, lang, B.index) if fn is not None and i != ref else {}
                  for r in (runs[ref], run))
        for key, b in base_rows.iterrows():
            c = rows.loc[key]
            value, ref_value, n = float(c["value"]), float(b["value"]), int(min(b["n"], c["n"]))
            p = float("nan")
            if i != ref and n > 0 and math.isfinite(value) and math.isfinite(ref_value):
                p = (paired_bootstrap_diff(fn, SB[key], SC[key], draws(), higher_is_better=hib).p_value
                     if fn is not None else clean_p(B[key].to_numpy(), C[key].to_numpy(), exact and binary, hib, draws))
            out.append(dict(run=names[i], is_reference=i == ref, task=task, lang=lang, family=family,
                            perturbation=key[0], severity=float(key[1]), seed=int(key[2]), metric=metric,
                            higher_is_better=hib, n=n, value=value, reference_value=ref_value,
                            diff=value - ref_value, test=test, p_value=p))
    return out


def significance_mark(p_adjusted: float) -> str:
    """`**` below 0.01, `*` below 0.05, else empty (also for NaN).

    >>> significance_mark(0.04), significance_mark(0.01), significance_mark(0.009)
    ('*', '*', '**')
    """
    for threshold, mark in MARKS:
        if p_adjusted < threshold:
            return mark
    return ""


# --- robustness numbers -----------------------------------------------------------------------------------------


def robustness_numbers(runs: list[RunData], names: list[str]) -> pd.DataFrame:
    """Per run, task and metric: clean score, mean drop and AUC per perturbation; per language, family, macro."""
    parts = [_scopes(_per_language(run.rows)).assign(run=name) for run, name in zip(runs, names)]
    out = pd.concat(parts, ignore_index=True)
    rows = runs[0].rows
    rank = {c: {v: i for i, v in enumerate(dict.fromkeys(rows[c].astype(str)))}
            for c in ("task", "metric", "lang", "family", "perturbation")}
    measure = [0 if m == "clean" else 1 if m == "mean_drop" else 2 + rank["perturbation"].get(m[4:], 0)
               for m in out["measure"]]
    kind = out["scope_kind"].map({"language": 0, "family": 1, "macro": 2})
    scope = [rank["lang"].get(s, 0) if k == "language" else rank["family"].get(s, 0)
             for k, s in zip(out["scope_kind"], out["scope"])]
    order = pd.DataFrame({"t": out["task"].map(rank["task"]), "m": out["metric"].map(rank["metric"]),
                          "r": [names.index(n) for n in out["run"]], "e": measure, "k": kind, "s": scope})
    return out.loc[order.sort_values(list(order.columns), kind="stable").index, ROBUSTNESS_COLUMNS].reset_index(drop=True)


def _per_language(rows: pd.DataFrame) -> pd.DataFrame:
    """Long table (task, metric, higher_is_better, lang, family, measure, value) for one run."""
    rows = rows.assign(severity=rows["severity"].astype(float), higher_is_better=rows["higher_is_better"].map(as_bool))
    keys = ["task", "metric", "higher_is_better", "lang", "family"]
    clean = rows[rows.perturbation == CLEAN].groupby(keys, sort=False)["value"].mean().rename("clean")
    drop = rows[rows.perturbation != CLEAN].groupby(keys, sort=False)["abs_drop"].mean().rename("mean_drop")
    long = [s.reset_index().rename(columns={s.name: "value"}).assign(measure=s.name) for s in (clean, drop)]
    family = rows.drop_duplicates(["task", "lang"]).set_index(["task", "lang"])["family"]
    auc = robustness_auc(rows)  # one row per (task, lang, perturbation, metric), seeds averaged
    auc = auc.assign(family=family.reindex(pd.MultiIndex.from_frame(auc[["task", "lang"]])).to_numpy(),
                     measure="auc:" + auc["perturbation"], value=auc["auc"])
    long.append(auc)
    return pd.concat(long, ignore_index=True)[keys + ["measure", "value"]]


def _scopes(per_lang: pd.DataFrame) -> pd.DataFrame:
    """Per language, per family (mean over its languages) and macro (mean over languages); NaN propagates."""
    keys = ["task", "metric", "higher_is_better", "measure"]
    lang = per_lang.assign(scope_kind="language", scope=per_lang["lang"], n_languages=1)
    fam = (per_lang.groupby(keys + ["family"], sort=False)["value"].agg([_mean_keep_nan, "size"]).reset_index()
           .rename(columns={"family": "scope", "_mean_keep_nan": "value", "size": "n_languages"})
           .assign(scope_kind="family"))
    macro = (per_lang.groupby(keys, sort=False)["value"].agg([_mean_keep_nan, "size"]).reset_index()
             .rename(columns={"_mean_keep_nan": "value", "size": "n_languages"}).assign(scope_kind="macro", scope="macro"))
    cols = keys + ["scope_kind", "scope", "n_languages", "value"]
    return pd.concat([lang[cols], fam[cols], macro[cols]], ignore_index=True)


def _mean_keep_nan(values: pd.Series) -> float:
    return float(values.mean(skipna=False))


# --- metadata and correlations ----------------------------------------------------------------------------------


def read_meta(path: str | Path, runs: list[RunData], names: list[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read the metadata CSV: one row per run, keyed by a `run` (or `checkpoint`) column matching a run directory
    name, run id or checkpoint source. Returns (numeric columns indexed by run name, their names, notes);
    DataError lists every problem as `file:line: …`."""
    path = Path(path)
    try:
        lines = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except FileNotFoundError:
        raise DataError(f"--meta {path}: not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"--meta {path}: unreadable ({exc})") from None
    if not lines or not any(x.strip() for x in lines[0]):
        raise DataError(f"{path}:1: empty; expected a header with a `run` or `checkpoint` column")
    header = [h.strip() for h in lines[0]]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup or "" in header:
        raise DataError(f"{path}:1: column names must be unique and non-empty (duplicates: {dup}, header: {header})")
    key = "run" if "run" in header else "checkpoint" if "checkpoint" in header else None
    if key is None:
        raise DataError(f"{path}:1: no `run` or `checkpoint` column (columns: {', '.join(header)}); it names each "
                        f"checkpoint's run directory, run id or checkpoint source")
    problems: list[str] = []
    owner: dict[int, int] = {}  # run index -> line
    records: dict[int, dict[str, str]] = {}
    for lineno, raw in enumerate(lines[1:], start=2):
        if not any(x.strip() for x in raw):
            continue
        if len(raw) != len(header):
            problems.append(f"{path}:{lineno}: {len(raw)} fields, the header has {len(header)}")
            continue
        row = dict(zip(header, (x.strip() for x in raw)))
        hits = [i for i, (r, n) in enumerate(zip(runs, names)) if row[key] in _aliases(r, n)]
        if not hits:
            problems.append(f"{path}:{lineno}: {key} {row[key]!r} is not one of the compared runs ({', '.join(names)}; "
                            "a run directory name, run id or checkpoint source)")
        elif len(hits) > 1:
            problems.append(f"{path}:{lineno}: {key} {row[key]!r} matches several runs "
                            f"({', '.join(names[i] for i in hits)}); use the run directory name")
        elif hits[0] in owner:
            problems.append(f"{path}:{lineno}: a second row for run {names[hits[0]]} (first at line {owner[hits[0]]})")
        else:
            owner[hits[0]] = lineno
            records[hits[0]] = row
    missing = [names[i] for i in range(len(runs)) if i not in owner]
    if missing and not problems:
        problems.append(f"{path}: no row for run(s) {', '.join(missing)} (one row per compared run)")
    columns, notes = [], []
    for col in header:
        if col == key:
            continue
        values = {i: records[i][col] for i in sorted(records)}
        numeric = {i: _number(v) for i, v in values.items()}
        if not any(x is not None for x in numeric.values()):
            example = next((v for v in values.values() if v), "")
            notes.append(f"column {col!r} is not numeric (e.g. {example!r}): ignored; encode an order as numbers "
                         "to correlate it")
            continue
        for i, x in numeric.items():
            if x is None:
                problems.append(f"{path}:{owner[i]}: column {col!r}: {values[i]!r} is not a finite number (the "
                                "column's other values are numbers)")
        columns.append(col)
    if not columns and not problems:
        problems.append(f"{path}:1: no numeric metadata column to correlate (columns: {', '.join(header)})")
    if problems:
        raise DataError("invalid metadata CSV:\n" + "\n".join(f"  - {p}" for p in problems))
    table = pd.DataFrame({c: [float(records[i][c]) for i in range(len(runs))] for c in columns}, index=names)
    return table, columns, notes


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _wide(long: pd.DataFrame, keys: list[str], names: list[str]) -> pd.DataFrame:
    """`value` of a long table with one column per run, rows in order of first appearance."""
    order = list(dict.fromkeys(long[keys].itertuples(index=False, name=None)))
    wide = long.set_index([*keys, "run"])["value"].unstack("run")
    return wide.reindex(index=pd.MultiIndex.from_tuples(order, names=keys), columns=names)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair of x and y (B, k): Pearson correlation of average ranks; NaN when a row's
    ranks are constant.

    >>> spearman_rows(np.array([[1.0, 2.0, 3.0]]), np.array([[10.0, 30.0, 20.0]])).tolist()
    [0.5]
    """
    rx = pd.DataFrame(np.atleast_2d(x)).rank(axis=1).to_numpy()
    ry = pd.DataFrame(np.atleast_2d(y)).rank(axis=1).to_numpy()
    rx, ry = rx - rx.mean(axis=1, keepdims=True), ry - ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)


def correlations(meta: pd.DataFrame, robust: pd.DataFrame, names: list[str], seed: int, samples: int,
                 confidence: float = 0.95) -> pd.DataFrame:
    """Spearman's rho between each metadata column and each macro/family robustness number, across checkpoints,
    with a percentile bootstrap CI (checkpoints resampled with replacement; one seeded resample set for all)."""
    k = len(names)
    idx = np.random.Generator(np.random.PCG64(derive_seed(seed, "compare", "spearman"))).integers(0, k, (samples, k))
    keys = ["task", "metric", "measure", "scope_kind", "scope"]
    wide = _wide(robust[robust.scope_kind != "language"], keys, names)
    perms = _permutations(k, seed)
    a = (1.0 - confidence) / 2
    out = []
    for col in meta.columns:
        x = meta.loc[names, col].to_numpy(dtype=float)
        for key, y in zip(wide.index, wide.to_numpy(dtype=float)):
            nan = float("nan")
            rho, lo, hi, p, n_ok = nan, nan, nan, nan, 0
            if np.isfinite(y).all():
                rho = float(spearman_rows(x, y)[0])
                reps = spearman_rows(x[idx], y[idx])
                ok = reps[~np.isnan(reps)]
                n_ok = len(ok)
                if n_ok:
                    lo, hi = (float(q) for q in np.quantile(ok, [a, 1 - a]))
                if not math.isnan(rho):
                    null = np.abs(spearman_rows(np.broadcast_to(x, perms.shape), y[perms]))
                    p = float((null >= abs(rho) - 1e-12).mean())
            out.append(dict(zip(keys, key), column=col, n_checkpoints=k, rho=rho, ci_low=lo, ci_high=hi,
                            n_valid_resamples=n_ok, p_permutation=p))
    return pd.DataFrame(out, columns=CORRELATION_COLUMNS)


# --- outputs ----------------------------------------------------------------------------------------------------


EXACT_PERMUTATIONS_MAX_K = 8  # 8! = 40320 orderings


def _permutations(k: int, seed: int, draws: int = 20000) -> np.ndarray:
    """Every ordering of k checkpoints (k <= 8, exact test), else the identity plus seeded random orderings."""
    if k <= EXACT_PERMUTATIONS_MAX_K:
        return np.array(list(itertools.permutations(range(k))))
    rng = np.random.Generator(np.random.PCG64(derive_seed(seed, "compare", "permutations")))
    return np.vstack([np.arange(k), rng.permuted(np.tile(np.arange(k), (draws, 1)), axis=1)])


def compare_csv(result: Comparison) -> str:
    """One tidy CSV: `table` = cells | robustness | correlation, raw numbers and adjusted p-values."""
    parts = [result.cells.assign(table="cells"), result.robustness.assign(table="robustness")]
    if result.correlations is not None:
        parts.append(result.correlations.assign(table="correlation"))
    table = pd.concat(parts, ignore_index=True)
    for c in ("seed", "n", "n_languages", "n_checkpoints", "n_valid_resamples"):  # ints, not 60.0, beside blanks
        table[c] = table[c].astype("Int64")
    return table[["table", *[c for c in table.columns if c != "table"]]].to_csv(index=False)


@dataclass(frozen=True)
class _Table:
    heading: str
    header: list[str]
    rows: list[list[str]]
    align: str  # one of "l"/"r" per column


def _sections(result: Comparison) -> list[tuple[str, list[str], list[_Table]]]:
    """(heading, paragraphs, tables) shared by the Markdown and HTML renderers."""
    ref = result.names[result.reference]
    intro = [f"{len(result.names)} runs of suite `{(result.runs[0].manifest.get('suite') or {}).get('name')}`; "
             f"reference **{ref}**."]
    runs = _Table("", ["#", "run", "run id", "checkpoint", "directory"],
                  [[str(i + 1) + (" (reference)" if i == result.reference else ""), n, str(r.manifest.get("run_id")),
                    str((r.manifest.get("checkpoint") or {}).get("source")), str(r.path)]
                   for i, (n, r) in enumerate(zip(result.names, result.runs))], "rllll")
    side_text = [f"diff = run − reference (raw difference of the metric; ↓ marks a lower-is-better metric). Paired "
                 f"two-sided tests on the identical items: exact McNemar for 0/1 scores, else a paired bootstrap of the "
                 f"mean per-example score, or of the metric itself recomputed from per-example sufficient statistics for "
                 f"corpus-level metrics such as macro-F1 (B = {result.samples}, seed {result.seed}; \"score proxy\": "
                 "runs without those statistics). p-values are Holm-adjusted across the languages of each (run, task, "
                 "metric, perturbation, severity, seed) comparison: * p_adj < 0.05, ** p_adj < 0.01. compare.csv has "
                 "the raw and adjusted p-values."]
    sections = [("xrobust compare", intro, [runs]), ("Side by side", side_text, _side_tables(result))]
    rob_text = ["clean: the clean score. mean_drop: mean direction-aware drop from clean over every perturbed cell "
                "(positive = worse). auc:P: robustness AUC of perturbation P over the suite's severities. Per "
                "language, per family (mean over its languages) and macro (mean over languages)."]
    sections.append(("Robustness numbers", rob_text, _robustness_tables(result)))
    if result.correlations is not None:
        sections.append(("Rank correlation with checkpoint metadata", _correlation_text(result),
                         [_correlation_table(result)]))
    return sections


def _side_tables(result: Comparison) -> list[_Table]:
    cells, names, ref = result.cells, result.names, result.names[result.reference]
    others = [n for n in names if n != ref]
    tables = []
    for (task, metric), sub in cells.groupby(["task", "metric"], sort=False):
        arrow = "" if sub["higher_is_better"].iloc[0] else " ↓"
        by_run = {n: g.reset_index(drop=True) for n, g in sub.groupby("run", sort=False)}
        base = by_run[ref]
        header = ["lang", "cell", "n", f"{ref} (ref)"] + [h for n in others for h in (n, f"diff {n}")]
        rows = []
        for j, b in base.iterrows():
            row = [b["lang"], _cell_label(b), str(b["n"]), _fmt(b["value"])]
            for n in others:
                c = by_run[n].iloc[j]
                row += [_fmt(c["value"]), _fmt(c["diff"], signed=True) + c["mark"]]
            rows.append(row)
        tables.append(_Table(f"{task} · {metric}{arrow}", header, rows, "llrr" + "rr" * len(others)))
    return tables


def _cell_label(row: pd.Series) -> str:
    return "clean" if row["perturbation"] == CLEAN else cell_name("", "", row["perturbation"], row["severity"],
                                                                   row["seed"]).lstrip("/")


def _robustness_tables(result: Comparison) -> list[_Table]:
    tables = []
    for (task, metric), sub in result.robustness.groupby(["task", "metric"], sort=False):
        wide = _wide(sub, ["measure", "scope_kind", "scope"], result.names)
        rows = [[m, s if kind != "family" else f"{s} (family)"] + [_fmt(v) for v in vals]
                for (m, kind, s), vals in zip(wide.index, wide.to_numpy())]
        arrow = "" if sub["higher_is_better"].iloc[0] else " ↓"
        tables.append(_Table(f"{task} · {metric}{arrow}", ["measure", "scope", *result.names], rows,
                             "ll" + "r" * len(result.names)))
    return tables


def _correlation_text(result: Comparison) -> list[str]:
    k = len(result.names)
    n_perm = math.factorial(k) if k <= EXACT_PERMUTATIONS_MAX_K else None
    p_text = (f"p: exact two-sided permutation p-value over all {n_perm} orderings of the checkpoints (it cannot be "
              f"below {1 / n_perm * (2 if k > 1 else 1):.3g} with {k} checkpoints)" if n_perm else
              "p: two-sided permutation p-value from 20000 seeded random orderings")
    text = [f"Spearman's ρ across the {k} checkpoints between each numeric column of `{result.meta_path}` and each "
            f"macro and family robustness number. 95% CI: percentile bootstrap over checkpoints (B = {result.samples}, "
            f"seed {result.seed}; resamples in which either side is constant are skipped, their count is in "
            f"compare.csv). {p_text}. With few checkpoints the CI is wide and unreliable: a resample holds few "
            "distinct checkpoints, so its ρ is often ±1, and a perfectly monotone relation gives [−1, −1] or [+1, +1] "
            f"however few checkpoints there are. With {k} checkpoints read ρ as a description, not as evidence. "
            f"{len(result.correlations)} correlations, no correction for multiplicity."]
    return text + [f"Note: {n}." for n in result.notes]


def _correlation_table(result: Comparison) -> _Table:
    rows = [[r.column, f"{r.task} · {r.metric}", r.measure, r.scope if r.scope_kind != "family" else f"{r.scope} (family)",
             _fmt(r.rho, signed=True), f"[{_fmt(r.ci_low, signed=True)}, {_fmt(r.ci_high, signed=True)}]",
             "—" if math.isnan(r.p_permutation) else f"{r.p_permutation:.3g}"]
            for r in result.correlations.itertuples()]
    return _Table("", ["metadata", "task · metric", "measure", "scope", "ρ", "95% CI", "p (perm.)"], rows, "llllrrr")


def _fmt(x: float, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.4f}" if signed else f"{x:.4f}"


def compare_markdown(result: Comparison) -> str:
    """The comparison as Markdown."""
    lines: list[str] = []
    for i, (heading, paragraphs, tables) in enumerate(_sections(result)):
        lines += [f"{'#' if i == 0 else '##'} {heading}", ""]
        for p in paragraphs:
            lines += [p, ""]
        for t in tables:
            if t.heading:
                lines += [f"### {t.heading}", ""]
            lines.append("| " + " | ".join(t.header) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else "---" for a in t.align) + "|")
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t.rows]
            lines.append("")
    return "\n".join(lines)


_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px}td.r{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}td.sig{font-weight:bold;background:#fff3cd}p{max-width:60em}"""


def compare_html(result: Comparison) -> str:
    """The comparison as one self-contained HTML page (inline CSS, no scripts, no network)."""
    esc = html.escape
    body = []
    for i, (heading, paragraphs, tables) in enumerate(_sections(result)):
        body.append(f"<h{1 if i == 0 else 2}>{esc(heading)}</h{1 if i == 0 else 2}>")
        for p in paragraphs:  # Markdown emphasis/code marks dropped; the significance stars in the legend stay
            text = esc(p).replace("`", "")
            body.append(f"<p>{text.replace('**', '') if i == 0 else text}</p>")
        for t in tables:
            if t.heading:
                body.append(f"<h3>{esc(t.heading)}</h3>")
            head = "".join(f"<th>{esc(h)}</th>" for h in t.header)
            rows = []
            for row in t.rows:
                tds = []
                for a, c in zip(t.align, row):
                    cls = "r" + (" sig" if c.endswith("*") else "") if a == "r" else ""
                    tds.append(f'<td class="{cls}">{esc(c)}</td>' if cls else f"<td>{esc(c)}</td>")
                rows.append("<tr>" + "".join(tds) + "</tr>")
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>xrobust compare</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


RENDERERS = {"md": compare_markdown, "csv": compare_csv, "html": compare_html}


def write_compare_outputs(result: Comparison, out_dir: str | Path, formats: Sequence[str] = ("md", "csv", "html")
                          ) -> dict[str, Path]:
    """Write compare.md / compare.csv / compare.html into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in formats:
        files[fmt] = out_dir / f"compare.{fmt}"
        files[fmt].write_text(RENDERERS[fmt](result), encoding="utf-8")
    return files
