"""Aggregations of one run: language groups, transfer gap, worst case per example, severity sweeps (robustness
AUC), slices and tokenization diagnostics. Pure functions over the run's rows (rows.csv) and records
(records.parquet) DataFrames; the report and the CLI render them.

Several seeds of a cell are averaged first (`seed_means`); groups are macro means over their languages.
Every difference is direction-aware like rows' `abs_drop`: positive always means worse.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError
from .languages import language_or_unknown
from .rng import derive_seed
from .stats import bootstrap_counts, bootstrap_indices, macro_f1_from_counts, paired_bootstrap_sums, ratio
from .types import CLEAN

DIAGNOSTICS = ("ids_changed_rate", "subtoken_change", "fertility_change", "unk_rate")
GROUPINGS = ("family", "script", "tier")
SLICE_BY = ("length", "label", "cmi")
MACRO = "all languages"
SCORE = "score"  # the per-example primary score of records.parquet, as a metric (its mean)
_CELL = ["task", "metric", "lang", "perturbation", "severity"]
_NUMERIC = ["n", "value", "clean_value", "abs_drop", "n_label_lost", *DIAGNOSTICS]
_EXACT = 1e-9  # tolerance when checking that a metric equals the mean per-example score


def as_bool(value: Any) -> bool:
    """`higher_is_better` as read back from CSV or parquet (bool, numpy bool or "True"/"False")."""
    return bool(value) if isinstance(value, (bool, np.bool_)) else str(value).strip().lower() == "true"


def tier_label(code: str) -> str:
    """Resource tier group of a language: "tier 0" … "tier 5" (Joshi et al. 2020), "unknown" without one."""
    tier = language_or_unknown(code).tier
    return "unknown" if tier is None else f"tier {tier}"


def seed_means(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, metric, lang, perturbation, severity): numeric columns averaged over seeds, with
    `higher_is_better`, `seeds`, `family`, `script` (as the rows recorded them) and `tier` (languages.py).
    Columns a run does not have (older runs: no tokenization diagnostics) are NaN. Frames that already are seed
    means pass through, so callers can average once and hand the result to every function here."""
    if "seeds" in rows.columns and "seed" not in rows.columns:
        return rows
    df = rows[_CELL].astype({"task": str, "metric": str, "lang": str, "perturbation": str}).copy()
    df["severity"] = pd.to_numeric(rows["severity"]).astype("float64")
    for c in _NUMERIC:
        df[c] = pd.to_numeric(rows[c], errors="coerce").astype("float64") if c in rows.columns else np.nan
    df["higher_is_better"] = [as_bool(v) for v in rows["higher_is_better"]]
    df["seed"] = rows["seed"].to_numpy()
    for c in ("family", "script"):
        df[c] = rows[c].astype(str).to_numpy() if c in rows.columns else "unknown"
    g = df.groupby(_CELL, sort=True)
    out = g[_NUMERIC].mean()
    out["seeds"] = g["seed"].nunique()
    out = out.join(g[["higher_is_better", "family", "script"]].first()).reset_index()
    out["tier"] = [tier_label(c) for c in out["lang"]]
    return out


def primary_metric(rows: pd.DataFrame, task: str) -> str:
    """The task's primary metric: the first of its task type's metrics present in the rows, else the
    alphabetically first (a task this xrobust does not know). Independent of the rows' order."""
    present = set(rows.loc[rows["task"].astype(str) == task, "metric"].astype(str))
    if not present:
        raise DataError(f"no rows for task {task!r}")
    try:
        from .tasks import adapter_class, get_recipe

        recipe = get_recipe(task)
        order: Iterable[str] = adapter_class(recipe.task_type).metrics_for(recipe)
    except ConfigError:
        order = ()
    return next((m for m in order if m in present), sorted(present)[0])


def _one(cells: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    picked = cells[(cells["task"] == task) & (cells["metric"] == metric)]
    if picked.empty:
        raise DataError(f"no rows for task {task!r} and metric {metric!r}")
    return picked


# --- language groups ------------------------------------------------------------------------------------------


def _group_column(cells: pd.DataFrame, by: str) -> pd.Series:
    if by == "all":
        return pd.Series(MACRO, index=cells.index)
    if by not in GROUPINGS:
        raise ConfigError(f"group by must be one of {', '.join((*GROUPINGS, 'all'))}, got {by!r}")
    return cells[by].astype(str)


def robustness_auc(rows: pd.DataFrame) -> pd.DataFrame:
    """One robustness number per (task, lang, perturbation, metric): the normalised area under the severity sweep.

    With r(s) = 1 − abs_drop(s) / clean_value (the retained fraction of the clean score, direction-aware;
    r(0) = 1 at the clean point) at the suite's severities 0 < s_1 < … < s_k (means over seeds), the AUC is the
    trapezoid area under r over [0, s_k] divided by s_k: the mean retained fraction of the clean score over
    the swept range. 1 = no degradation at any severity, 0.9 = 10 % of the clean score lost on average,
    above 1 = better than clean; NaN when the clean score is 0 or the sweep has no severity above 0.
    Columns: task, lang, perturbation, metric, auc, higher_is_better, max_severity, n_severities.
    """
    keys = ["task", "lang", "perturbation", "metric"]
    c = degradation_curves(rows).sort_values([*keys, "severity"], kind="mergesort").reset_index(drop=True)
    same = (c[keys] == c[keys].shift()).all(axis=1)  # a point continuing the previous point's curve
    c["area"] = np.where(same, (c["severity"] - c["severity"].shift()) * (c["retained"] + c["retained"].shift()) / 2,
                         0.0)
    c["undefined"], c["positive"] = c["area"].isna(), c["severity"] > 0  # a NaN end point (clean 0) undefines it
    out = c.groupby(keys, sort=True).agg(area=("area", "sum"), undefined=("undefined", "any"),
                                         higher_is_better=("higher_is_better", "first"),
                                         max_severity=("severity", "max"), n_severities=("positive", "sum")
                                         ).reset_index()
    ok = (out["max_severity"] > 0) & ~out["undefined"]
    out["auc"] = np.where(ok, out["area"] / out["max_severity"].where(ok, 1.0), np.nan)
    columns = ["task", "lang", "perturbation", "metric", "auc", "higher_is_better", "max_severity", "n_severities"]
    return out[columns].astype({"higher_is_better": bool, "n_severities": int})


def degradation_curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (task, metric, lang, perturbation) the points of its severity sweep, clean first at severity 0:
    severity, value, clean_value, abs_drop, retained (= 1 − abs_drop / clean_value; NaN when clean is 0)."""
    cells = seed_means(rows)
    base = cells[cells["perturbation"] == CLEAN].set_index(["task", "metric", "lang"])["value"]
    pert = cells[cells["perturbation"] != CLEAN]
    keys = ["task", "metric", "lang", "perturbation"]
    starts = pert.assign(zero=pert["severity"] == 0).groupby(keys, sort=True).agg(
        higher_is_better=("higher_is_better", "first"), has_zero=("zero", "any"),
        fallback=("clean_value", "mean")).reset_index()
    starts = starts[~starts["has_zero"]]  # a measured severity-0 cell stands for itself
    clean = base.reindex(pd.MultiIndex.from_frame(starts[["task", "metric", "lang"]])).to_numpy()
    clean = np.where(np.isnan(clean), starts["fallback"].to_numpy(), clean) if len(starts) else clean
    zero = starts[[*keys, "higher_is_better"]].assign(severity=0.0, value=clean, clean_value=clean, abs_drop=0.0)
    columns = [*keys[:3], "perturbation", "severity", "value", "clean_value", "abs_drop", "higher_is_better"]
    df = pd.concat([zero[columns], pert[columns]], ignore_index=True) if len(zero) else pert[columns].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = df["clean_value"] != 0
        df["retained"] = np.where(ok, 1.0 - df["abs_drop"] / df["clean_value"].where(ok, 1.0), np.nan)
    return df.sort_values([*keys, "severity"], kind="mergesort").reset_index(drop=True)


def group_summary(rows: pd.DataFrame, by: str, task: str, metric: str,
                  auc: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per language group (`by`: family | script | tier | all) of one task and metric, macro means over
    the group's languages: n_langs, langs, clean_value, perturbed_value and mean_drop (each language's mean over
    its perturbed cells), worst_cell / worst_drop (the perturbation@severity with the largest macro drop) and
    auc (each language's mean robustness AUC over perturbations; pass `robustness_auc(rows)` when you have it).
    Worst groups (largest mean_drop) first."""
    cells = _one(seed_means(rows), task, metric)
    cells = cells.assign(group=_group_column(cells, by))
    clean = cells[cells["perturbation"] == CLEAN]
    pert = cells[cells["perturbation"] != CLEAN]
    per_lang = pert.groupby(["group", "lang"])[["value", "abs_drop"]].mean()
    auc = robustness_auc(cells) if auc is None else auc
    auc = auc[(auc["task"] == task) & (auc["metric"] == metric)].groupby("lang")["auc"].mean()
    out = []
    for group, g in cells.groupby("group", sort=True):
        langs = sorted(set(g["lang"]))
        pl = per_lang.loc[group] if group in per_lang.index.get_level_values(0) else per_lang.iloc[0:0]
        macro = pert[pert["group"] == group].groupby(["perturbation", "severity"])["abs_drop"].mean()
        worst = _worst_label(macro)
        out.append({
            "group": group, "n_langs": len(langs), "langs": ", ".join(langs),
            "clean_value": float(clean.loc[clean["group"] == group, "value"].mean()),
            "perturbed_value": float(pl["value"].mean()), "mean_drop": float(pl["abs_drop"].mean()),
            "worst_cell": worst[0], "worst_drop": worst[1], "auc": float(auc.reindex(langs).mean()),
        })
    df = pd.DataFrame(out, columns=["group", "n_langs", "langs", "clean_value", "perturbed_value", "mean_drop",
                                    "worst_cell", "worst_drop", "auc"])
    return _worst_first(df, "mean_drop", "group")


def _worst_label(drops: pd.Series) -> tuple[str, float]:
    """(`perturbation@severity`, drop) of the largest drop in a (perturbation, severity)-indexed series."""
    ok = drops.dropna()
    if ok.empty:
        return "n/a", float("nan")
    ranked = sorted((-float(d), f"{p}@{float(s):g}") for (p, s), d in ok.items())  # ties: by label
    return ranked[0][1], -ranked[0][0]


def _worst_first(df: pd.DataFrame, by: str, name: str) -> pd.DataFrame:
    return df.sort_values([by, name], ascending=[False, True], na_position="last", kind="mergesort"
                          ).reset_index(drop=True)


# --- transfer gap ---------------------------------------------------------------------------------------------


def transfer_gap(rows: pd.DataFrame, reference: str = "en") -> pd.DataFrame:
    """Each language's distance to the reference language (English) on the same task, metric, perturbation and
    severity, as XTREME's cross-lingual transfer gap: `clean_gap` = reference clean − language clean, `gap` =
    reference perturbed − language perturbed (reversed for lower-is-better metrics: positive = the language
    is worse than the reference), `gap_change` = gap − clean_gap (how much the perturbation widens the gap).
    One row per non-reference language and cell (clean cells included); tasks without the reference are left out."""
    cells = seed_means(rows)
    ref = cells[cells["lang"] == reference].set_index(["task", "metric", "perturbation", "severity"])
    other = cells[(cells["lang"] != reference) & cells.set_index(["task", "metric", "perturbation", "severity"]
                                                                  ).index.isin(ref.index)]
    keys = list(zip(other["task"], other["metric"], other["perturbation"], other["severity"]))
    sign = np.where(other["higher_is_better"], 1.0, -1.0)
    ref_clean = ref["clean_value"].reindex(keys).to_numpy()
    ref_value = ref["value"].reindex(keys).to_numpy()
    out = other[["task", "metric", "lang", "perturbation", "severity", "higher_is_better", "clean_value",
                 "value"]].copy()
    out["ref_clean"], out["ref_value"] = ref_clean, ref_value
    out["clean_gap"] = sign * (ref_clean - out["clean_value"].to_numpy())
    out["gap"] = sign * (ref_value - out["value"].to_numpy())
    out["gap_change"] = out["gap"] - out["clean_gap"]
    return out.reset_index(drop=True)


def transfer_gap_summary(rows: pd.DataFrame, task: str, metric: str, reference: str = "en") -> pd.DataFrame:
    """Per language of one task and metric: clean_gap, mean gap over the perturbed cells, and its mean change;
    largest perturbed gap first. Empty when the task has no reference language."""
    gaps = transfer_gap(rows, reference)
    gaps = gaps[(gaps["task"] == task) & (gaps["metric"] == metric)]
    pert = gaps[gaps["perturbation"] != CLEAN].groupby("lang")[["gap", "gap_change"]].mean()
    clean = gaps[gaps["perturbation"] == CLEAN].groupby("lang")["clean_gap"].mean()
    df = pd.DataFrame({"clean_gap": clean}).join(pert, how="outer").rename(
        columns={"gap": "perturbed_gap"}).reset_index()
    df = df.reindex(columns=["lang", "clean_gap", "perturbed_gap", "gap_change"])
    return _worst_first(df, "perturbed_gap", "lang")


# --- worst case per example -----------------------------------------------------------------------------------


def worst_case(records: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Worst case over perturbations per example: for each example its worst `score` over every perturbed cell
    (every perturbation, severity and seed; the lowest score, or the highest when the task's primary metric is
    lower-is-better), then per (task, lang): n examples, clean_score and worst_score (means of the per-example
    scores), worst_drop (direction-aware), share_worse (examples some perturbation made worse), n_cells."""
    out = []
    for task in sorted(map(str, records["task"].unique())):
        metric = primary_metric(rows, task)
        hib = as_bool(rows.loc[(rows["task"] == task) & (rows["metric"] == metric), "higher_is_better"].iloc[0])
        rec = records[records["task"] == task]
        clean = rec[rec["perturbation"] == CLEAN].groupby(["lang", "example_id"])["score"].mean()
        pert = rec[rec["perturbation"] != CLEAN]
        if pert.empty:
            continue
        g = pert.groupby(["lang", "example_id"])["score"]
        worst = (g.min() if hib else g.max()).rename("worst")
        joined = pd.concat([clean.rename("clean"), worst], axis=1, join="inner")
        n_cells = pert.groupby("lang")[["perturbation", "severity", "seed"]].apply(lambda d: len(d.drop_duplicates()))
        for lang, j in joined.groupby(level="lang", sort=True):
            c, w = float(j["clean"].mean()), float(j["worst"].mean())
            worse = (j["worst"] < j["clean"]) if hib else (j["worst"] > j["clean"])
            out.append({"task": task, "lang": lang, "metric": metric, "higher_is_better": hib, "n": len(j),
                        "clean_score": c, "worst_score": w, "worst_drop": (c - w) if hib else (w - c),
                        "share_worse": float(worse.mean()), "n_cells": int(n_cells[lang])})
    return pd.DataFrame(out, columns=["task", "lang", "metric", "higher_is_better", "n", "clean_score",
                                      "worst_score", "worst_drop", "share_worse", "n_cells"])


# --- tokenization diagnostics ---------------------------------------------------------------------------------


def spearman(x: Iterable[float], y: Iterable[float]) -> float:
    """Spearman's rank correlation (average ranks for ties) over the pairs where both are present; NaN with
    fewer than 3 pairs or when one side is constant.

    >>> spearman([1, 2, 3, 4], [10, 20, 15, 40])
    0.8
    """
    a, b = pd.Series(list(x), dtype="float64"), pd.Series(list(y), dtype="float64")
    ok = a.notna() & b.notna()
    if ok.sum() < 3:
        return float("nan")
    ra, rb = a[ok].rank(), b[ok].rank()
    if ra.nunique() < 2 or rb.nunique() < 2:
        return float("nan")
    return round(float(np.corrcoef(ra, rb)[0, 1]), 12)


def has_diagnostics(rows: pd.DataFrame) -> bool:
    """True when the rows carry tokenization diagnostics (runs made before them do not)."""
    return all(c in rows.columns for c in DIAGNOSTICS) and bool(rows[list(DIAGNOSTICS)].notna().any().any())


def tokenization_correlation(rows: pd.DataFrame) -> pd.DataFrame:
    """Per task (its primary metric) and diagnostic: Spearman's rho between the diagnostic and abs_drop across
    the task's perturbed cells (language × perturbation × severity, means over seeds), with the number of cells."""
    cells = seed_means(rows)
    out = []
    for task in sorted(set(cells["task"])):
        metric = primary_metric(rows, task)
        pert = cells[(cells["task"] == task) & (cells["metric"] == metric) & (cells["perturbation"] != CLEAN)]
        for d in DIAGNOSTICS:
            ok = pert[d].notna() & pert["abs_drop"].notna()
            out.append({"task": task, "metric": metric, "diagnostic": d, "n_cells": int(ok.sum()),
                        "spearman": spearman(pert[d], pert["abs_drop"])})
    return pd.DataFrame(out, columns=["task", "metric", "diagnostic", "n_cells", "spearman"])


def tokenization_by_language(rows: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """Per language: the diagnostics averaged over its perturbed cells, the clean inputs' unknown-token rate
    (`clean_unk_rate`) and the mean drop; largest share of changed token ids first."""
    cells = _one(seed_means(rows), task, metric)
    pert = cells[cells["perturbation"] != CLEAN].groupby("lang")[[*DIAGNOSTICS, "abs_drop"]].mean()
    clean = cells[cells["perturbation"] == CLEAN].groupby("lang")["unk_rate"].mean().rename("clean_unk_rate")
    df = pert.join(clean, how="left").rename(columns={"abs_drop": "mean_drop"}).reset_index()
    df = df.reindex(columns=["lang", "ids_changed_rate", "subtoken_change", "fertility_change", "clean_unk_rate",
                             "unk_rate", "mean_drop"])
    return _worst_first(df, "ids_changed_rate", "lang")


# --- slices ---------------------------------------------------------------------------------------------------


def slice_table(records: pd.DataFrame, rows: pd.DataFrame, by: str, *, task: str | None = None,
                metric: str | None = None, bins: int = 4, langs: Iterable[str] = (), perturbation: str | None = None,
                severity: float | None = None, seed: int = 0, samples: int = 1000,
                confidence: float = 0.95) -> pd.DataFrame:
    """Clean vs perturbed score per slice of the examples of each (task, language), pooled over the selected
    perturbed cells (default: all of them), with a paired bootstrap CI of the drop.

    `by`: `length` (equal-count buckets of the clean input's sub-token count, `bins` of them; ties share a
    bucket), `label` (gold label; classification-like tasks) or `cmi` (equal-count buckets of the code-mixing
    index: the example's own for code-mixed data, else each perturbed input's from code-switching).
    The metric is computed from per-example statistics pooled over (example, cell) pairs: `score` (mean
    per-example primary score), any metric of the run that equals it in every cell (e.g. accuracy, QA f1), or
    `macro_f1` recomputed from labels and predictions. The CI resamples examples (each with all its pairs in
    the slice) with harness.stats.paired_bootstrap_sums; seeds derive from `seed`, task, language and slice.
    """
    if by not in SLICE_BY:
        raise ConfigError(f"--by must be one of {', '.join(SLICE_BY)}, got {by!r}")
    if bins < 1:
        raise ConfigError(f"--bins must be >= 1, got {bins}")
    all_tasks = sorted(map(str, records["task"].unique()))
    if task is not None and task not in all_tasks:
        raise ConfigError(f"--task {task!r}: not a task of this run ({', '.join(all_tasks)})")
    out = []
    for t in [task] if task is not None else all_tasks:
        out += _slice_task(records[records["task"] == t], rows[rows["task"].astype(str) == t], t, by, metric, bins,
                           list(langs), perturbation, severity, seed, samples, confidence)
    return pd.DataFrame(out, columns=["task", "lang", "by", "slice", "metric", "higher_is_better", "n", "n_pairs",
                                      "clean", "perturbed", "drop", "drop_ci_low", "drop_ci_high"])


def _slice_task(rec: pd.DataFrame, rows: pd.DataFrame, task: str, by: str, metric: str | None, bins: int,
                langs: list[str], perturbation: str | None, severity: float | None, seed: int, samples: int,
                confidence: float) -> list[dict[str, Any]]:
    name, kind, hib = _slice_metric(rec, rows, task, metric)
    rec = rec.astype({"lang": str, "example_id": str})
    present = sorted(set(rec["lang"]))
    unknown = [lang for lang in langs if lang not in present]
    if unknown:
        raise ConfigError(f"--lang {', '.join(unknown)}: not a language of task {task} ({', '.join(present)})")
    clean = rec[rec["perturbation"] == CLEAN].drop_duplicates(["lang", "example_id"]).set_index(["lang", "example_id"])
    pert = rec[rec["perturbation"] != CLEAN]
    if langs:
        pert = pert[pert["lang"].isin(langs)]
    if perturbation is not None:
        pert = pert[pert["perturbation"] == perturbation]
    if severity is not None:
        pert = pert[np.isclose(pert["severity"].astype(float), severity)]
    if pert.empty:
        have = sorted({f"{p}@{float(s):g}" for p, s in zip(rec["perturbation"], rec["severity"]) if p != CLEAN})
        raise ConfigError(f"task {task}: no perturbed records match the selection (cells: {', '.join(have) or 'none'})")
    pert = pert[pd.MultiIndex.from_arrays([pert["lang"], pert["example_id"]]).isin(clean.index)]
    keys, per_example = _slice_values(by, clean, pert, task)
    classes = sorted(set(rec["label"].astype(str)) | set(rec["pred"].astype(str))) if kind == "macro_f1" else []
    fn = macro_f1_from_counts(len(classes)) if kind == "macro_f1" else ratio(0, 1)
    out = []
    for lang in sorted(set(pert["lang"])):
        mask = (pert["lang"] == lang).to_numpy() & keys.notna().to_numpy()
        p = pert[mask]
        k = keys[mask]
        if by == "label":
            labels, order = k.astype(str), sorted(set(k.astype(str)))
        else:
            basis = k.groupby(p["example_id"].to_numpy()).first() if per_example else k
            bucket, order = quantile_buckets(basis, bins, integer=by == "length")
            labels = pd.Series(bucket.reindex(p["example_id"]).to_numpy() if per_example else bucket.to_numpy(),
                               index=p.index)
        for label in order:
            sel = p[(labels == label).to_numpy()]
            ids = sorted(set(sel["example_id"]))
            sp = pd.DataFrame(_stats(sel, kind, classes)).groupby(sel["example_id"].to_numpy()).sum().reindex(ids)
            mult = sel.groupby("example_id").size().reindex(ids).to_numpy()[:, None]
            sc = _stats(clean.loc[[(lang, i) for i in ids]], kind, classes) * mult
            sp = sp.to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                c, v = float(fn(sc.sum(axis=0))), float(fn(sp.sum(axis=0)))
            counts = bootstrap_counts(bootstrap_indices(len(ids), samples, derive_seed(seed, "slice", task, lang,
                                                                                       by, label)))
            ci = paired_bootstrap_sums(fn, sc, sp, counts, higher_is_better=hib, confidence=confidence)
            out.append({"task": task, "lang": lang, "by": by, "slice": label, "metric": name, "higher_is_better": hib,
                        "n": len(ids), "n_pairs": len(sel), "clean": c, "perturbed": v,
                        "drop": (c - v) if hib else (v - c), "drop_ci_low": ci.drop_low, "drop_ci_high": ci.drop_high})
    return out


def _slice_metric(rec: pd.DataFrame, rows: pd.DataFrame, task: str, metric: str | None) -> tuple[str, str, bool]:
    """(metric name, statistics kind "score" | "macro_f1", higher_is_better) for slicing one task."""
    primary = primary_metric(rows, task)
    hib_of = {str(m): as_bool(h) for m, h in zip(rows["metric"], rows["higher_is_better"])}
    plain = not _structured(rec["label"])
    means = rec.groupby(["lang", "perturbation", "severity", "seed"])["score"].mean()
    supported = {SCORE: ("score", hib_of[primary])}
    for m in sorted(hib_of):
        vals = rows[rows["metric"].astype(str) == m].astype({"lang": str, "perturbation": str}).set_index(
            ["lang", "perturbation", "severity", "seed"])["value"]
        joined = pd.concat([vals.rename("v"), means.rename("s")], axis=1, join="inner")
        if len(joined) and np.allclose(joined["v"], joined["s"], rtol=0, atol=_EXACT, equal_nan=True):
            supported[m] = ("score", hib_of[m])
    if plain:  # single labels: macro-F1 from labels and predictions, whether or not the task reports it
        supported["macro_f1"] = ("macro_f1", hib_of.get("macro_f1", True))
    name = metric if metric is not None else (primary if primary in supported else SCORE)
    if name not in supported:
        raise ConfigError(f"--metric {name!r}: cannot be recomputed per slice from the records of task {task} "
                          f"(it is corpus-level or not a metric of the task); choose one of {', '.join(supported)}")
    kind, hib = supported[name]
    return name, kind, hib


def _structured(labels: pd.Series) -> bool:
    """True when labels are JSON lists/objects (tag sequences, answers) rather than single class labels."""
    for value in labels.astype(str).head(50):
        try:
            if isinstance(json.loads(value), (list, dict)):
                return True
        except ValueError:
            continue
    return False


def _slice_values(by: str, clean: pd.DataFrame, pert: pd.DataFrame, task: str) -> tuple[pd.Series, bool]:
    """The slicing value of each perturbed record (NaN: none) and whether it is the example's own (per example)."""
    at = pd.MultiIndex.from_arrays([pert["lang"], pert["example_id"]])
    if by == "length":
        if "n_subtokens_clean" not in clean.columns:
            raise DataError(f"task {task}: the records have no sub-token counts (column n_subtokens_clean); the run "
                            "was made by an older xrobust: re-run it to slice by length")
        return pd.Series(clean["n_subtokens_clean"].reindex(at).to_numpy(dtype=float), index=pert.index), True
    if by == "label":
        if _structured(clean["label"]):
            raise DataError(f"task {task}: labels are structured (tag sequences or answers), so there is no single "
                            "gold label to slice by; --by label needs a classification-like task")
        return pd.Series(clean["label"].reindex(at).to_numpy(), index=pert.index), True
    own = pd.to_numeric(clean["cmi"], errors="coerce") if "cmi" in clean.columns else pd.Series(dtype=float)
    if own.notna().any():
        return pd.Series(own.reindex(at).to_numpy(dtype=float), index=pert.index), True
    mixed = pd.to_numeric(pert["cmi"], errors="coerce") if "cmi" in pert.columns else pd.Series(dtype=float)
    if mixed.notna().any():
        return pd.Series(mixed.to_numpy(dtype=float), index=pert.index), False
    raise DataError(f"task {task}: no code-mixing index in this run's records (CMI comes from code-mixed datasets "
                    "or code-switching perturbations); --by cmi has nothing to slice")


def quantile_buckets(values: pd.Series, bins: int, integer: bool) -> tuple[pd.Series, list[str]]:
    """Equal-count buckets by rank (ties share a bucket, so there may be fewer than `bins`), each labelled by
    its smallest and largest member ("5–12", or "7" when they are equal); (bucket per value, labels ascending).

    >>> quantile_buckets(pd.Series([3, 1, 2, 2, 9, 5]), 3, integer=True)[1]
    ['1–2', '3', '5–9']
    """
    v = values.astype("float64")
    ranks = v.rank(method="min")
    index = ((ranks - 1) * bins // v.notna().sum()).astype("Int64")
    labels: dict[int, str] = {}
    for b, g in v.groupby(index, sort=True):
        lo, hi = float(g.min()), float(g.max())
        text = (lambda x: str(int(x))) if integer else (lambda x: f"{x:.1f}")
        labels[int(b)] = text(lo) if lo == hi else f"{text(lo)}–{text(hi)}"
    return index.map(labels), [labels[b] for b in sorted(labels)]


def _stats(df: pd.DataFrame, kind: str, classes: list[str]) -> np.ndarray:
    """Per-record statistics: [score, 1] (mean score), or [gold | pred | tp] one-hots over `classes` (macro-F1)."""
    if kind == "score":
        s = df["score"].to_numpy(dtype=float)
        return np.column_stack([s, np.ones_like(s)])
    pos = {c: i for i, c in enumerate(classes)}
    eye = np.eye(len(classes))
    gold = eye[[pos[x] for x in df["label"].astype(str)]].reshape(len(df), len(classes))
    pred = eye[[pos[x] for x in df["pred"].astype(str)]].reshape(len(df), len(classes))
    return np.hstack([gold, pred, gold * pred])
