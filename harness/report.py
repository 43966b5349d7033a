"""Renderers: a run's tidy rows -> `summary.md`, a self-contained `report.html`, a console table.

Every number goes through the same honest formatters: drops are signed percentage points
(`format_drop`), scores and rates are percentages (`format_value`); a non-zero difference is
never shown as "0.0" and a missing one is "n/a". Several seeds per cell are averaged (mean),
and the reports say so. Output is deterministic: the same rows in any order give the same text.
"""
from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from tabulate import tabulate

from .aggregate import (
    GROUPINGS,
    degradation_curves,
    group_summary,
    has_diagnostics,
    primary_metric,
    robustness_auc,
    seed_means,
    tokenization_by_language,
    tokenization_correlation,
    transfer_gap_summary,
    worst_case,
)
from .errors import ConfigError, DataError
from .types import CLEAN

MINUS = "\u2212"  # a real minus sign, so "−3.2" never reads as a hyphen
CLEAN_COLUMN = "clean"
CONSOLE_MAX_COLUMNS = 8
WORST_K = 20

_KEYS = ["task", "lang", "perturbation", "severity"]
_MEAN_COLUMNS = [
    "n", "n_applied", "applied_rate", "value", "ci_low", "ci_high", "clean_value", "abs_drop",
    "rel_drop", "drop_ci_low", "drop_ci_high", "flip_rate", "mean_edit_rate", "n_label_lost",
]
_OPTIONAL_COLUMNS = {"n_label_lost"}  # rows written before the column existed lack it
_FIRST_COLUMNS = ["lang_name", "family", "script", "higher_is_better"]
WORST_COLUMNS = [
    "task", "lang", "lang_name", "perturbation", "severity", "seeds", "n", "n_applied",
    "applied_rate", "clean_value", "value", "abs_drop", "drop_ci_low", "drop_ci_high",
    "flip_rate", "mean_edit_rate", "n_label_lost",
]


# ---------------------------------------------------------------- formatting


def _missing(x: Any) -> bool:
    """True for None, NaN and pd.NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def format_drop(x: float | None) -> str:
    """Signed percentage points, one decimal: 0.0321 -> "+3.2", 0.0004 -> "+<0.1", NaN -> "n/a"."""
    if _missing(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0.0"
    sign = "+" if x > 0 else MINUS
    if math.isinf(x):
        return f"{sign}inf"
    text = f"{abs(x) * 100:.1f}"
    return f"{sign}<0.1" if text == "0.0" else f"{sign}{text}"


def format_value(x: float | None) -> str:
    """A fraction as a percentage, one decimal: 0.8125 -> "81.2", 0.0002 -> "<0.1", 0.9998 -> ">99.9"."""
    if _missing(x):
        return "n/a"
    x = float(x)
    if x == 0 or x == 1 or math.isinf(x):
        return f"{x * 100:.1f}"
    text = f"{x * 100:.1f}"
    if text in ("0.0", "-0.0"):
        return "<0.1" if x > 0 else f"{MINUS}<0.1"
    if text == "100.0" and x < 1:
        return ">99.9"
    return text.replace("-", MINUS)


def format_ci(low: float | None, high: float | None, *, signed: bool = True) -> str:
    """A 95% CI as "[+1.2, +4.0]" (drops) or "[80.1, 84.0]" (scores, `signed=False`)."""
    fmt = format_drop if signed else format_value
    if _missing(low) and _missing(high):
        return "n/a"
    return f"[{fmt(low)}, {fmt(high)}]"


def format_count(x: float | None) -> str:
    """An example count; a mean over seeds that is not whole keeps one decimal: 49.5 -> "49.5"."""
    if _missing(x):
        return "n/a"
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.1f}"


def _short(column: str) -> str:
    """Console label: 'char.keyboard.v1@0.3' -> 'keyboard@0.3'."""
    name, _, sev = column.partition("@")
    name = re.sub(r"\.v\d+$", "", name.removeprefix("char."))
    return f"{name}@{sev}" if sev else name


def severity_label(perturbation: str, severity: float) -> str:
    """Column label of a perturbation at a severity: ("char.keyboard.v1", 0.1) -> "char.keyboard.v1@0.1"."""
    return f"{perturbation}@{float(severity):g}"


# ---------------------------------------------------------------- tables


def _select(rows: pd.DataFrame, metric: str, task: str | None) -> pd.DataFrame:
    """Rows of one metric (and task); a typed error when none are left."""
    picked = rows[rows["metric"] == metric]
    if task is not None:
        picked = picked[picked["task"] == task]
    if picked.empty:
        where = f"metric {metric!r}" + ("" if task is None else f" and task {task!r}")
        have = ", ".join(sorted(map(str, rows["metric"].unique())))
        raise DataError(f"no rows for {where} (metrics in rows: {have or 'none'})")
    return picked


def cell_means(rows: pd.DataFrame, metric: str = "accuracy", task: str | None = None) -> pd.DataFrame:
    """One row per (task, lang, perturbation, severity): numeric columns are means over seeds."""
    picked = _select(rows, metric, task)
    numeric = picked[_KEYS].copy()
    for col in _MEAN_COLUMNS:
        if col in _OPTIONAL_COLUMNS and col not in picked.columns:
            numeric[col] = float("nan")
            continue
        numeric[col] = pd.to_numeric(picked[col], errors="coerce").astype("float64")
    numeric["severity"] = numeric["severity"].astype("float64")
    grouped = numeric.groupby(_KEYS, sort=True)
    out = grouped[_MEAN_COLUMNS].mean()
    keyed = picked.assign(severity=numeric["severity"]).groupby(_KEYS, sort=True)
    out["seeds"] = keyed["seed"].nunique()
    out = out.join(keyed[_FIRST_COLUMNS].first())
    return out.reset_index()


def _worst_first(means: pd.Series) -> list[str]:
    """Labels by descending mean (NaN last), ties by label, so the order is deterministic."""
    def key(label: str) -> tuple[bool, float, str]:
        m = means[label]
        return (bool(pd.isna(m)), 0.0 if pd.isna(m) else -float(m), str(label))
    return sorted(means.index, key=key)


def drop_table(rows: pd.DataFrame, metric: str = "accuracy", task: str | None = None) -> pd.DataFrame:
    """Language x perturbation@severity abs_drop (mean over seeds) plus the clean value; worst first."""
    cells = cell_means(rows, metric, task)
    tasks = sorted(map(str, cells["task"].unique()))
    if len(tasks) > 1:
        raise DataError(f"rows hold several tasks ({', '.join(tasks)}); pass task= to drop_table")
    is_clean = cells["perturbation"] == CLEAN
    perturbed = cells[~is_clean]
    perturbed = perturbed.assign(column=[
        severity_label(p, s) for p, s in zip(perturbed["perturbation"], perturbed["severity"])
    ])
    drops = perturbed.pivot(index="lang", columns="column", values="abs_drop")
    clean = cells[is_clean].groupby("lang")["value"].mean()
    fallback = perturbed.groupby("lang")["clean_value"].mean()
    clean = clean.combine_first(fallback)
    langs = sorted(set(map(str, cells["lang"])))
    drops = drops.reindex(index=langs).astype("float64")
    column_order = _worst_first(drops.mean(axis=0)) if len(drops.columns) else []
    lang_order = _worst_first(drops.mean(axis=1)) if len(drops.columns) else langs
    table = drops.reindex(index=lang_order, columns=column_order)
    table.insert(0, CLEAN_COLUMN, clean.reindex(lang_order).astype("float64"))
    table.index.name = "lang"
    table.columns.name = None
    return table


def worst_cells(
    rows: pd.DataFrame, metric: str = "accuracy", k: int = WORST_K, task: str | None = None
) -> pd.DataFrame:
    """The k perturbed cells with the largest abs_drop (mean over seeds), with n, CI and rates."""
    if k < 0:
        raise ConfigError(f"k: must be >= 0, got {k}")
    cells = cell_means(rows, metric, task)
    cells = cells[cells["perturbation"] != CLEAN]
    ordered = cells.sort_values(
        ["abs_drop", *_KEYS], ascending=[False, True, True, True, True],
        na_position="last", kind="mergesort",
    )
    return ordered[WORST_COLUMNS].head(k).reset_index(drop=True)


def clean_scores(rows: pd.DataFrame, metric: str = "accuracy", task: str | None = None) -> pd.DataFrame:
    """Clean score per language with its 95% CI and n (means over seeds), best language first."""
    cells = cell_means(rows, metric, task)
    clean = cells[cells["perturbation"] == CLEAN]
    columns = ["task", "lang", "lang_name", "family", "script", "seeds", "n", "value", "ci_low", "ci_high"]
    ordered = clean.sort_values(["task", "value", "lang"], ascending=[True, False, True],
                                na_position="last", kind="mergesort")
    return ordered[columns].reset_index(drop=True)


# ---------------------------------------------------------------- shared helpers


def _lang_labels(rows: pd.DataFrame) -> dict[str, str]:
    """lang code -> "Name (code)", or the code alone when no name is known."""
    labels: dict[str, str] = {}
    for lang, name in zip(rows["lang"], rows["lang_name"]):
        lang = str(lang)
        if lang in labels:
            continue
        name_text = "" if _missing(name) else str(name).strip()
        labels[lang] = f"{name_text} ({lang})" if name_text and name_text != lang else lang
    return labels


def _sections(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(task, metric) pairs present in the rows, sorted."""
    pairs = rows[["task", "metric"]].drop_duplicates()
    return sorted((str(t), str(m)) for t, m in zip(pairs["task"], pairs["metric"]))


def _seeds(rows: pd.DataFrame) -> list[str]:
    """Seeds present in the rows, sorted numerically where possible."""
    values = pd.unique(rows["seed"])
    try:
        return [str(s) for s in sorted(int(v) for v in values)]
    except (TypeError, ValueError):
        return sorted(str(v) for v in values)


def _cell_count(rows: pd.DataFrame) -> int:
    """Measured cells (task, lang, perturbation, severity, seed) in the rows."""
    return len(rows[[*_KEYS, "seed"]].drop_duplicates())


def _get(manifest: Mapping[str, Any], *keys: str) -> Any:
    """First present, non-empty manifest value among `keys` (dotted keys reach into dicts)."""
    for key in keys:
        value: Any = manifest
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", [], {}):
            return value
    return None


def _short_fingerprint(fp: Any) -> str:
    """First 12 characters of a fingerprint's digest, keeping an "algo:" prefix."""
    if _missing(fp):
        return "n/a"
    algo, sep, digest = str(fp).rpartition(":")
    return f"{algo}{sep}{digest[:12]}"


def _manifest_facts(manifest: Mapping[str, Any], rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, text) pairs describing the run, in display order; absent keys read "n/a"."""
    def text(value: Any) -> str:
        return "n/a" if value is None else str(value)

    suite = _get(manifest, "suite.name", "suite_name", "suite")
    checkpoint = _get(manifest, "checkpoint.source", "checkpoint.path", "checkpoint_path", "checkpoint")
    fingerprint = _get(manifest, "checkpoint.fingerprint", "checkpoint_fingerprint", "fingerprint")
    seeds = _get(manifest, "seeds")
    seeds_text = ", ".join(map(str, seeds)) if isinstance(seeds, (list, tuple)) else text(seeds)
    wall = _get(manifest, "wall_seconds")
    versions = _get(manifest, "versions")
    versions_text = (", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
                     if isinstance(versions, Mapping) else text(versions))
    n_cells = _get(manifest, "n_cells")
    return [
        ("suite", text(suite)),
        ("checkpoint", text(checkpoint)),
        ("fingerprint", _short_fingerprint(fingerprint)),
        ("run id", text(_get(manifest, "run_id"))),
        ("status", text(_get(manifest, "status"))),
        ("cells", f"{_cell_count(rows)} measured of {text(n_cells)} planned"),
        ("seeds", seeds_text),
        ("device", f"{text(_get(manifest, 'device'))}, dtype {text(_get(manifest, 'dtype'))}"),
        ("started", text(_get(manifest, "started"))),
        ("finished", text(_get(manifest, "finished"))),
        ("wall time", "n/a" if wall is None else f"{float(wall):.1f} s"),
        ("versions", versions_text),
    ]


def _incomplete_warning(manifest: Mapping[str, Any], rows: pd.DataFrame) -> str | None:
    """The warning sentence for a run whose status is not "complete", else None."""
    status = _get(manifest, "status")
    if status == "complete":
        return None
    n_cells = _get(manifest, "n_cells")
    planned = "an unknown number of" if n_cells is None else str(n_cells)
    return (f"WARNING: this run is INCOMPLETE (status: {status if status is not None else 'missing'}); "
            f"{_cell_count(rows)} of {planned} cells were measured, so tables cover only those cells.")


def _units_line(metric: str | None, seeds: list[str]) -> str:
    """The sentence that says what the numbers in a section (or, with no metric, the page) mean."""
    what = f"{metric} drop" if metric else "drops are"
    return (f"{what} in percentage points vs clean; positive = worse; "
            f"mean over seeds ({len(seeds)}: {', '.join(seeds)}); "
            "n per cell shown in the worst-cells table; non-zero differences below 0.05 pp show as <0.1.")


# ---------------------------------------------------------------- format-neutral tables


@dataclass
class _Table:
    """A rendered-once table: header texts and body texts; the first `n_text` columns are text (left-aligned,
    escaped in markdown; the first is the row header in HTML), the others numbers."""

    headers: list[str]
    body: list[list[str]]
    n_text: int = 1


def format_number(x: float | None, digits: int = 2, signed: bool = True) -> str:
    """A plain number with a real minus sign: 1.5 -> "+1.50", -0.25 -> "−0.25", NaN -> "n/a"."""
    if _missing(x):
        return "n/a"
    text = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    return text.replace("-", MINUS)


def _label_lost_shown(cells: pd.DataFrame) -> bool:
    """Show the n_label_lost column only where some cell lost labels."""
    return bool((pd.to_numeric(cells["n_label_lost"], errors="coerce").fillna(0) > 0).any())


def _worst_table(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> _Table:
    """The worst cells (largest drop first) with n, applied rate, CI, flips; labels lost where any."""
    worst = worst_cells(rows, metric, WORST_K, task)
    lost = _label_lost_shown(worst)
    headers = ["language", "perturbation", "severity", "n", "n applied", "applied %", "edit %",
               "clean %", "value %", "drop", "drop 95% CI", "flip %", *(["label lost"] if lost else [])]
    body = [[
        labels.get(str(r.lang), str(r.lang)), str(r.perturbation), f"{float(r.severity):g}",
        format_count(r.n), format_count(r.n_applied), format_value(r.applied_rate),
        format_value(r.mean_edit_rate), format_value(r.clean_value), format_value(r.value),
        format_drop(r.abs_drop), format_ci(r.drop_ci_low, r.drop_ci_high), format_value(r.flip_rate),
        *([format_count(r.n_label_lost)] if lost else []),
    ] for r in worst.itertuples(index=False)]
    return _Table(headers, body, n_text=2)


def _clean_table(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> _Table:
    """Clean scores per language with their CI."""
    clean = clean_scores(rows, metric, task)
    body = [[
        labels.get(str(r.lang), str(r.lang)), "n/a" if _missing(r.family) else str(r.family),
        "n/a" if _missing(r.script) else str(r.script), format_count(r.n), format_value(r.value),
        format_ci(r.ci_low, r.ci_high, signed=False),
    ] for r in clean.itertuples(index=False)]
    return _Table(["language", "family", "script", "n", "clean %", "95% CI"], body, n_text=3)


def _prepare(rows: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per task: its seed-mean cells and robustness AUCs, computed once for every table of a report."""
    out = {}
    for task in _tasks(rows):
        cells = seed_means(rows[rows["task"] == task])
        out[task] = (cells, robustness_auc(cells))
    return out


def _overview_table(prepared: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]]) -> _Table:
    """One line per task on its primary metric: macro over languages of clean, drop, worst cell, AUC."""
    body = []
    for task, (cells, auc) in prepared.items():
        metric = primary_metric(cells, task)
        g = group_summary(cells, "all", task, metric, auc).iloc[0]
        body.append([task, metric, str(g["n_langs"]), format_value(g["clean_value"]),
                     format_value(g["perturbed_value"]), format_drop(g["mean_drop"]), str(g["worst_cell"]),
                     format_drop(g["worst_drop"]), format_value(g["auc"])])
    return _Table(["task", "primary metric", "languages", "clean %", "perturbed %", "mean drop", "worst cell",
                   "worst drop", "robustness AUC %"], body, n_text=2)


def _auc_table(auc: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> _Table:
    """Language x perturbation robustness AUC (%), with each language's mean; least robust language first."""
    auc = auc[(auc["task"] == task) & (auc["metric"] == metric)]
    wide = auc.pivot(index="lang", columns="perturbation", values="auc")
    perts = sorted(map(str, wide.columns))
    mean = wide.mean(axis=1)
    order = sorted(wide.index, key=lambda lang: (bool(pd.isna(mean[lang])), float(mean[lang]) if not
                                                 pd.isna(mean[lang]) else 0.0, str(lang)))
    body = [[labels.get(str(lang), str(lang)), format_value(mean[lang]), *(format_value(wide.loc[lang, p])
                                                                          for p in perts)] for lang in order]
    return _Table(["language", "mean", *perts], body)


def _groups_table(rows: pd.DataFrame, auc: pd.DataFrame, task: str, metric: str) -> _Table:
    """Macro means over all languages, then per family, script and resource tier."""
    body = []
    for by in ("all", *GROUPINGS):
        for g in group_summary(rows, by, task, metric, auc).itertuples(index=False):
            body.append(["" if by == "all" else by, str(g.group), str(g.langs), str(g.n_langs),
                         format_value(g.clean_value), format_value(g.perturbed_value), format_drop(g.mean_drop),
                         str(g.worst_cell), format_drop(g.worst_drop), format_value(g.auc)])
    return _Table(["grouping", "group", "members", "languages", "clean %", "perturbed %", "mean drop",
                   "worst cell", "worst drop", "AUC %"], body, n_text=3)


def _gap_table(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> _Table | None:
    """Transfer gap to English per language; None when the task has no English rows."""
    if "en" not in set(rows["lang"].astype(str)):
        return None
    gap = transfer_gap_summary(rows, task, metric)
    body = [[labels.get(str(r.lang), str(r.lang)), format_drop(r.clean_gap), format_drop(r.perturbed_gap),
             format_drop(r.gap_change)] for r in gap.itertuples(index=False)]
    return _Table(["language", "clean gap", "perturbed gap (mean)", "change"], body)


def _worst_case_table(records: pd.DataFrame | None, rows: pd.DataFrame, task: str,
                      labels: Mapping[str, str]) -> _Table | None:
    """Worst case over perturbations per example, per language; None without records."""
    if records is None or records.empty:
        return None
    wc = worst_case(records[records["task"] == task], rows)
    body = [[labels.get(str(r.lang), str(r.lang)), format_count(r.n), format_value(r.clean_score),
             format_value(r.worst_score), format_drop(r.worst_drop), format_value(r.share_worse), str(r.n_cells)]
            for r in wc.itertuples(index=False)]
    return _Table(["language", "n", "clean score %", "worst-case score %", "drop", "made worse %", "cells"], body)


def _token_table(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> _Table:
    """Per language: share of inputs with changed token ids, sub-token changes, unknown tokens, mean drop."""
    tok = tokenization_by_language(rows, task, metric)
    body = [[labels.get(str(r.lang), str(r.lang)), format_value(r.ids_changed_rate),
             format_number(r.subtoken_change), format_drop(r.fertility_change), format_value(r.clean_unk_rate),
             format_value(r.unk_rate), format_drop(r.mean_drop)] for r in tok.itertuples(index=False)]
    return _Table(["language", "ids changed %", "Δ sub-tokens per input", "fertility change %", "unk % clean",
                   "unk % perturbed", "mean drop"], body)


def _correlation_table(rows: pd.DataFrame, task: str) -> _Table:
    """Spearman's rho of each tokenization diagnostic with the drop across the task's perturbed cells."""
    corr = tokenization_correlation(rows)
    corr = corr[corr["task"] == task]
    body = [[_DIAGNOSTIC_NAMES[str(r.diagnostic)], str(r.n_cells), format_number(r.spearman)]
            for r in corr.itertuples(index=False)]
    return _Table(["diagnostic", "cells", "Spearman ρ with drop"], body)


_DIAGNOSTIC_NAMES = {"ids_changed_rate": "share of inputs whose token ids changed",
                     "subtoken_change": "mean change in sub-tokens per input",
                     "fertility_change": "relative change in sub-token count (fertility)",
                     "unk_rate": "unknown-token rate of the perturbed inputs"}

_AUC_NOTE = ("Robustness AUC: the area under the retained fraction of the clean score (1 − drop / clean) over "
             "severity, clean at 0, divided by the largest severity: the mean share of the clean score kept over "
             "the sweep (100 = no loss; above 100 = better than clean).")
_GAP_NOTE = ("Transfer gap (XTREME): English score minus the language's score on the same cell, positive = the "
             "language is worse than English; perturbed gap is the mean over perturbed cells, change = perturbed "
             "gap − clean gap (how much noise widens the gap).")
_WORST_CASE_NOTE = ("Each example's worst score over every perturbed cell (all perturbations, severities and "
                    "seeds), averaged: the score an adversary choosing among this suite's perturbations would "
                    "leave; made worse = share of examples some perturbation made worse than clean.")
_TOKEN_NOTE = ("Sub-tokens of the perturbed fields without special tokens or truncation, means over the perturbed "
               "cells; fertility change = sub-tokens of the perturbed inputs / sub-tokens of the clean ones − 1.")


def _extras(rows: pd.DataFrame, auc: pd.DataFrame, records: pd.DataFrame | None, task: str, metric: str,
            labels: Mapping[str, str]) -> list[tuple[str, str, _Table | None, str]]:
    """The primary metric's analysis blocks from one task's seed-mean cells and AUCs: (heading, note, table or
    None, text shown when None)."""
    blocks: list[tuple[str, str, _Table | None, str]] = [
        ("Robustness AUC over the severity sweep (%)", _AUC_NOTE, _auc_table(auc, task, metric, labels), ""),
        ("Language groups (macro over languages)", "Family and genus from WALS/Glottolog, script ISO 15924, "
         "resource tier from Joshi et al. 2020; means over each group's languages.",
         _groups_table(rows, auc, task, metric), ""),
        ("Transfer gap vs English (en)", _GAP_NOTE, _gap_table(rows, task, metric, labels),
         "No English (en) rows for this task, so no transfer gap."),
        ("Worst case over perturbations (per example)", _WORST_CASE_NOTE,
         _worst_case_table(records, rows, task, labels), "Needs records.parquet (not given to the renderer)."),
    ]
    if has_diagnostics(rows):
        blocks += [("Tokenization diagnostics", _TOKEN_NOTE, _token_table(rows, task, metric, labels), ""),
                   ("Tokenization diagnostics vs drop", "Across perturbed cells (language × perturbation × "
                    "severity).", _correlation_table(rows, task), "")]
    else:
        blocks.append(("Tokenization diagnostics", "", None,
                       "These rows carry no tokenization diagnostics (a run made before they existed)."))
    return blocks


def _tasks(rows: pd.DataFrame) -> list[str]:
    return sorted(map(str, rows["task"].unique()))


# ---------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    """Text safe inside a markdown table cell: no pipes, no newlines, no raw HTML tags."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def _md_table(headers: list[str], body: list[list[str]], fmt: str = "github", n_text: int = 1) -> str:
    """A tabulate table: the first `n_text` columns left-aligned, the (numeric) others right-aligned."""
    align = ("left",) * n_text + ("right",) * (len(headers) - n_text)
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True, colalign=align)


def _md_of(table: _Table | None, empty: str = "_no rows_") -> str:
    """A _Table in github markdown (text columns escaped)."""
    if table is None or not table.body:
        return empty
    body = [[_md(c) if i < table.n_text else c for i, c in enumerate(r)] for r in table.body]
    return _md_table([_md(h) for h in table.headers], body, n_text=table.n_text)


def _drop_body(table: pd.DataFrame, labels: Mapping[str, str], escape: bool) -> list[list[str]]:
    """Drop table rows as strings: language label, clean %, then formatted drops."""
    esc = _md if escape else str
    body = []
    for lang, row in table.iterrows():
        cells = [esc(labels.get(str(lang), str(lang))), format_value(row[CLEAN_COLUMN])]
        cells += [format_drop(row[col]) for col in table.columns if col != CLEAN_COLUMN]
        body.append(cells)
    return body


def _md_drop_table(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """The language x perturbation drop table in github markdown."""
    table = drop_table(rows, metric, task)
    headers = ["language", "clean %", *(_md(c) for c in table.columns if c != CLEAN_COLUMN)]
    return _md_table(headers, _drop_body(table, labels, escape=True))


def render_summary_md(rows: pd.DataFrame, manifest: Mapping[str, Any], records: pd.DataFrame | None = None) -> str:
    """summary.md: run header, an overview per task, then per task and metric the drop, worst-cells and clean
    tables, and for the primary metric the AUC, language-group, transfer-gap, worst-case and tokenization tables."""
    facts = dict(_manifest_facts(manifest, rows))
    labels = _lang_labels(rows)
    seeds = _seeds(rows)
    prepared = _prepare(rows)
    lines = [f"# xrobust summary: {_md(facts['suite'])}", ""]
    warning = _incomplete_warning(manifest, rows)
    if warning:
        lines += [f"> **⚠ {_md(warning)}**", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in _manifest_facts(manifest, rows)]
    lines += ["", f"Units: {_units_line(None, seeds)} Scores, rates and CIs of scores are percentages.", "",
              "## Overview (primary metric, macro over languages)", "", _md_of(_overview_table(prepared)), ""]
    for task, metric in _sections(rows):
        lines += [f"## {_md(task)} · {_md(metric)}", "", _units_line(metric, seeds), "",
                  "### Drop vs clean (languages and perturbations worst first)", "",
                  _md_drop_table(rows, task, metric, labels), "",
                  f"### Worst cells (top {WORST_K})", "",
                  _md_of(_worst_table(rows, task, metric, labels), "_no perturbed cells_"), "",
                  "### Clean scores", "",
                  _md_of(_clean_table(rows, task, metric, labels), "_no clean cells_"), ""]
        if metric != primary_metric(rows, task):
            continue
        for heading, note, table, empty in _extras(*prepared[task], records, task, metric, labels):
            lines += [f"### {heading}", ""] + ([_md(note), ""] if note else []) + [_md_of(table, f"_{empty}_"), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;max-width:110rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem}
th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.na{background:#eeeeee;color:#777}
table.kv th{width:9rem}
.warning{background:#fff0c2;border:2px solid #c98a00;padding:.75rem 1rem;font-weight:bold}
.units,.note{color:#444}
.legend span{display:inline-block;min-width:3.5rem;text-align:center;border:1px solid #d0d0d0;padding:.15rem .3rem;margin-right:.2rem}
.scroll{overflow-x:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;fill:#1b1b1b}
svg.heatmap text{font-size:12px}
svg.heatmap rect{stroke:#ffffff}
svg.heatmap g.hm text{text-anchor:middle}
.panels{display:flex;flex-wrap:wrap;gap:.5rem}
svg.curve text{font-size:10px}
svg.curve .axis{stroke:#888;stroke-width:1}
svg.curve .grid{stroke:#e4e4e4;stroke-width:1}
.lines-legend{display:flex;flex-wrap:wrap;gap:.25rem .9rem;font-size:.85rem;margin:.4rem 0}
.lines-legend span{white-space:nowrap}
.js .lines-legend span{cursor:pointer}
.dim{opacity:.12}
""".strip()

# Click a language in a curves legend to fade every other language's lines (click again to show all).
_JS = """
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var item = event.target.closest("[data-pick]");
  if (!item) { return; }
  var figure = item.closest(".curves");
  var lang = item.getAttribute("data-pick");
  var focus = figure.getAttribute("data-focus") === lang ? "" : lang;
  figure.setAttribute("data-focus", focus);
  figure.querySelectorAll("[data-lang]").forEach(function (el) {
    el.classList.toggle("dim", focus !== "" && el.getAttribute("data-lang") !== focus);
  });
});
""".strip()

# Tableau 10: distinguishable line colours; languages beyond ten repeat them with a dash pattern
_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
            "#bab0ac")
_DASHES = ("", "6 3", "2 2", "8 3 2 3", "1 3")


def _e(text: Any) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def _heat_colour(drop: float, scale: float) -> str:
    """Background colour: white at 0, red for positive drops, blue for negative, saturating at `scale`."""
    t = min(1.0, abs(drop) / scale) if scale > 0 else 0.0
    fade = round(255 * (1 - 0.7 * t))
    return f"#ff{fade:02x}{fade:02x}" if drop > 0 else f"#{fade:02x}{fade:02x}ff"


def _html_table(headers: list[str], body: list[str], cls: str = "") -> str:
    """A table from escaped header texts and pre-rendered <tr> rows."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def _td(text: str, title: str | None = None, style: str | None = None, cls: str = "num") -> str:
    """One escaped table cell with an optional tooltip and inline style."""
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' style="{_e(style)}"' if style else ""
    attrs += f' title="{_e(title)}"' if title else ""
    return f"<td{attrs}>{_e(text)}</td>"


def _html_of(table: _Table | None, empty: str = "No rows.") -> str:
    """A _Table in HTML: the first column a row header, the other text columns plain, the rest numeric."""
    if table is None or not table.body:
        return f'<p class="note">{_e(empty)}</p>'
    body = ["<tr>" + f"<th>{_e(r[0])}</th>" + "".join(_td(c, cls="" if i < table.n_text else "num")
                                                      for i, c in enumerate(r) if i > 0) + "</tr>"
            for r in table.body]
    return _html_table(table.headers, body)


def _cell_tooltip(cell: Any) -> str:
    """Tooltip text of one heatmap cell: n, drop CI, applied rate, flips, edit rate, seeds, labels lost."""
    lost = "" if _missing(cell.n_label_lost) or not cell.n_label_lost else f"; label lost {format_count(cell.n_label_lost)}"
    return (f"n={format_count(cell.n)}; drop 95% CI {format_ci(cell.drop_ci_low, cell.drop_ci_high)}; "
            f"applied {format_value(cell.applied_rate)}% ({format_count(cell.n_applied)}); "
            f"flip {format_value(cell.flip_rate)}%; edit {format_value(cell.mean_edit_rate)}%; "
            f"value {format_value(cell.value)}%; seeds {cell.seeds}{lost}")


def _text_width(text: str, px: float = 7.2) -> float:
    """Rough rendered width of `text` at 12 px (no font metrics offline; generous so nothing is clipped)."""
    return len(text) * px


def _svg_heatmap(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str], scale: float) -> str:
    """The language x perturbation@severity drop table as an SVG heatmap: coloured cells with their value,
    a clean % column, rotated column labels and a tooltip (<title>) per cell."""
    table = drop_table(rows, metric, task)
    cells = cell_means(rows, metric, task)
    by_key = {(str(c.lang), CLEAN_COLUMN if c.perturbation == CLEAN else severity_label(c.perturbation, c.severity)): c
              for c in cells.itertuples(index=False)}
    columns = [c for c in table.columns if c != CLEAN_COLUMN]
    names = [labels.get(str(lang), str(lang)) for lang in table.index]
    cw, ch = 58, 24
    left = round(max((_text_width(n) for n in names), default=40) + 12)
    head = round(max((_text_width(c) for c in [CLEAN_COLUMN + " %", *columns]), default=40) * 0.71 + 14)
    width = round(left + cw * (len(columns) + 1) + head)
    height = round(head + ch * len(names) + 4)
    out = [f'<svg class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_e(f"{task} {metric} drop heatmap")}">']
    for j, col in enumerate([CLEAN_COLUMN + " %", *columns]):
        x, y = left + cw * j + cw / 2, head - 6
        out.append(f'<text transform="translate({x:.1f},{y:.1f}) rotate(-45)">{_e(col)}</text>')
    for i, (lang, row) in enumerate(table.iterrows()):
        y = head + ch * i
        out.append(f'<text x="{left - 6:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="end">{_e(names[i])}</text>')
        clean = by_key.get((str(lang), CLEAN_COLUMN))
        tip = ("clean: no measurement" if clean is None else
               f"clean {format_value(clean.value)}%; n={format_count(clean.n)}; "
               f"95% CI {format_ci(clean.ci_low, clean.ci_high, signed=False)}")
        out.append(_svg_cell(left, y, cw, ch, "#f3f3f3", format_value(row[CLEAN_COLUMN]), tip))
        for j, col in enumerate(columns, start=1):
            drop, cell = row[col], by_key.get((str(lang), col))
            if _missing(drop):
                out.append(_svg_cell(left + cw * j, y, cw, ch, "#eeeeee", "n/a", f"{col}: no measurement"))
                continue
            tip = f"{labels.get(str(lang), str(lang))} · {col}: drop {format_drop(drop)} pp; " + (
                "" if cell is None else _cell_tooltip(cell))
            ink = "#ffffff" if abs(float(drop)) > 0.6 * scale else ""  # white on the most saturated cells
            out.append(_svg_cell(left + cw * j, y, cw, ch, _heat_colour(float(drop), scale), format_drop(drop), tip,
                                 ink))
    out.append("</svg>")
    return '<div class="scroll">' + "\n".join(out) + "</div>"


def _svg_cell(x: float, y: float, w: float, h: float, fill: str, text: str, tip: str, ink: str = "") -> str:
    """One heatmap cell: tooltip, coloured rectangle with a white border, centred value (in `ink` if given)."""
    colour = f' style="fill:{ink}"' if ink else ""
    return (f'<g class="hm"><title>{_e(tip)}</title><rect x="{x:g}" y="{y:g}" width="{w}" height="{h}" '
            f'fill="{fill}"/><text x="{x + w / 2:g}" y="{y + h / 2 + 4:g}"{colour}>{_e(text)}</text></g>')


def _nice_range(lo: float, hi: float) -> tuple[float, float, float]:
    """Axis bounds in percent and a tick step: 5/10/20-point steps around the data."""
    lo, hi = 100 * lo, 100 * hi
    span = max(hi - lo, 1.0)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50) if span / s <= 6)
    return math.floor(lo / step) * step, max(math.ceil(hi / step) * step, math.floor(lo / step) * step + step), step


def _svg_curves(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """Degradation curves: one small SVG per perturbation (score % over severity, clean at 0), one line per
    language; shared axes so panels compare; a legend whose entries focus a language (small inline script)."""
    curves = degradation_curves(rows)
    curves = curves[(curves["task"] == task) & (curves["metric"] == metric) & curves["value"].notna()]
    if curves.empty:
        return '<p class="note">No perturbed cells, so no curves.</p>'
    langs = sorted(set(curves["lang"]))
    style = {lang: (_PALETTE[i % len(_PALETTE)], _DASHES[(i // len(_PALETTE)) % len(_DASHES)])
             for i, lang in enumerate(langs)}
    y0, y1, step = _nice_range(float(curves["value"].min()), float(curves["value"].max()))
    xmax = float(curves["severity"].max()) or 1.0
    sevs = sorted(set(curves["severity"]))
    w, h, ml, mr, mt, mb = 300, 200, 42, 12, 22, 32
    px = lambda s: ml + (w - ml - mr) * s / xmax  # noqa: E731
    py = lambda v: mt + (h - mt - mb) * (1 - (100 * v - y0) / (y1 - y0))  # noqa: E731
    panels = []
    for pert, g in curves.groupby("perturbation", sort=True):
        parts = [f'<svg class="curve" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
                 f'aria-label="{_e(f"{task} {metric} under {pert}")}">',
                 f'<text x="{ml}" y="14" font-weight="bold">{_e(pert)}</text>']
        tick = y0
        while tick <= y1 + 1e-9:
            y = py(tick / 100)
            parts.append(f'<line class="grid" x1="{ml}" x2="{w - mr}" y1="{y:.1f}" y2="{y:.1f}"/>'
                         f'<text x="{ml - 4}" y="{y + 3:.1f}" text-anchor="end">{tick:g}</text>')
            tick += step
        for s in sevs:
            parts.append(f'<text x="{px(s):.1f}" y="{h - mb + 13}" text-anchor="middle">{s:g}</text>')
        parts.append(f'<line class="axis" x1="{ml}" x2="{w - mr}" y1="{h - mb}" y2="{h - mb}"/>'
                     f'<line class="axis" x1="{ml}" x2="{ml}" y1="{mt}" y2="{h - mb}"/>'
                     f'<text x="{(ml + w - mr) / 2:.1f}" y="{h - 4}" text-anchor="middle">severity</text>')
        lines: dict[str, list[tuple[float, float]]] = {}
        for lang, sev, value in zip(g["lang"].tolist(), g["severity"].tolist(), g["value"].tolist()):
            lines.setdefault(lang, []).append((float(sev), float(value)))  # sorted by severity already
        for lang, pts in sorted(lines.items()):
            colour, dash = style[lang]
            name = labels.get(str(lang), str(lang))
            tip = f"{name}: " + ", ".join(f"{s:g} → {format_value(v)}%" for s, v in pts)
            coords = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in pts)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<g data-lang="{_e(lang)}"><title>{_e(tip)}</title><polyline points="{coords}" '
                         f'fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
                         + "".join(f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="2.5" fill="{colour}"/>'
                                   for s, v in pts) + "</g>")
        parts.append("</svg>")
        panels.append("".join(parts))
    legend = "".join(
        f'<span data-pick="{_e(lang)}" data-lang="{_e(lang)}"><svg width="26" height="10" aria-hidden="true">'
        f'<line x1="1" x2="25" y1="5" y2="5" stroke="{style[lang][0]}" stroke-width="2"'
        + (f' stroke-dasharray="{style[lang][1]}"' if style[lang][1] else "") + "/></svg> "
        + f"{_e(labels.get(str(lang), str(lang)))}</span>" for lang in langs)
    return (f'<div class="curves"><p class="note">{_e(metric)} (%) over severity, clean at 0; one panel per '
            "perturbation, one line per language; hover a line for its values, click a language to focus it.</p>"
            f'<div class="lines-legend">{legend}</div><div class="panels">' + "\n".join(panels) + "</div></div>")


def _heat_scale(rows: pd.DataFrame) -> float:
    """One colour scale for the whole report: the largest |drop| of any cell mean, at least 1 pp."""
    biggest = 0.0
    for task, metric in _sections(rows):
        cells = cell_means(rows, metric, task)
        drops = cells.loc[cells["perturbation"] != CLEAN, "abs_drop"].abs()
        if drops.notna().any():
            biggest = max(biggest, float(drops.max()))
    return max(biggest, 0.01)


def _html_legend(scale: float) -> str:
    """Colour swatches from −scale (improvement, blue) through 0 (white) to +scale (worse, red)."""
    stops = [-scale, -scale / 2, 0.0, scale / 2, scale]
    swatches = "".join(
        f'<span style="background:{"#ffffff" if s == 0 else _heat_colour(s, scale)}">{_e(format_drop(s))}</span>'
        for s in stops) + '<span style="background:#eeeeee">n/a</span>'
    return ('<p class="legend"><strong>Heatmap legend:</strong> ' + swatches
            + " red = worse than clean, blue = better than clean, grey = not measured; "
            "hover a cell for n, drop 95% CI, applied rate, flip rate, edit rate.</p>")


def render_report_html(rows: pd.DataFrame, manifest: Mapping[str, Any], records: pd.DataFrame | None = None) -> str:
    """report.html: one self-contained HTML5 page (inline CSS, inline SVG, one small inline script; no
    external resources): overview, then per task and metric the drop heatmap, worst cells and clean scores,
    and for the primary metric degradation curves, robustness AUC, language groups, transfer gap, worst case
    and tokenization diagnostics."""
    facts = _manifest_facts(manifest, rows)
    labels = _lang_labels(rows)
    seeds = _seeds(rows)
    scale = _heat_scale(rows)
    prepared = _prepare(rows)
    title = f"xrobust report: {dict(facts)['suite']} ({dict(facts)['run id']})"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>",
             f"<h1>{_e(title)}</h1>"]
    warning = _incomplete_warning(manifest, rows)
    if warning:
        parts.append(f'<p class="warning" role="alert">⚠ {_e(warning)}</p>')
    kv = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    parts += ["<h2>Run</h2>", f'<table class="kv"><tbody>{kv}</tbody></table>',
              "<h2>Overview (primary metric, macro over languages)</h2>", _html_of(_overview_table(prepared)),
              _html_legend(scale)]
    for task, metric in _sections(rows):
        parts += [f"<h2>{_e(task)} · {_e(metric)}</h2>",
                  f'<p class="units">{_e(_units_line(metric, seeds))}</p>',
                  "<h3>Drop vs clean (languages and perturbations worst first)</h3>",
                  _svg_heatmap(rows, task, metric, labels, scale),
                  f"<h3>Worst cells (top {WORST_K})</h3>",
                  _html_of(_worst_table(rows, task, metric, labels), "No perturbed cells."),
                  "<h3>Clean scores</h3>", _html_of(_clean_table(rows, task, metric, labels), "No clean cells.")]
        if metric != primary_metric(rows, task):
            continue
        parts += ["<h3>Degradation curves</h3>", _svg_curves(prepared[task][0], task, metric, labels)]
        for heading, note, table, empty in _extras(*prepared[task], records, task, metric, labels):
            parts += [f"<h3>{_e(heading)}</h3>"] + ([f'<p class="note">{_e(note)}</p>'] if note else [])
            parts.append(_html_of(table, empty))
    parts += [f"<script>\n{_JS}\n</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- files and console


def write_reports(rows: pd.DataFrame, manifest: Mapping[str, Any], run_dir: str | Path,
                  records: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write summary.md and report.html (UTF-8) into `run_dir`; return {"summary": path, "html": path}.
    `records` (records.parquet) adds the per-example worst case; without them that table says so."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = {"summary": run_dir / "summary.md", "html": run_dir / "report.html"}
    paths["summary"].write_text(render_summary_md(rows, manifest, records), encoding="utf-8")
    paths["html"].write_text(render_report_html(rows, manifest, records), encoding="utf-8")
    return paths


def read_run(run_dir: str | Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(run.json, rows.csv, records.parquet) of a run directory; DataError naming the missing or broken file."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: not a directory (expected a run directory from `xrobust run`)")
    out: list[Any] = []
    for name, reader in (("run.json", lambda p: json.loads(p.read_text(encoding="utf-8"))),
                         ("rows.csv", pd.read_csv), ("records.parquet", pd.read_parquet)):
        path = run_dir / name
        if not path.exists():
            raise DataError(f"{path}: not found (is {run_dir} a finished run directory?)")
        try:
            out.append(reader(path))
        except Exception as exc:  # json/pandas/pyarrow raise many types for a damaged file
            raise DataError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    return out[0], out[1], out[2]


def console_summary(rows: pd.DataFrame, metric: str | None = None, width: int = 100) -> str:
    """Compact per-task language x perturbation drop tables for the CLI: the worst columns that fit `width`.

    Column names drop the `char.` prefix and the version (`char.keyboard.v1@0.3` -> `keyboard@0.3`);
    summary.md and report.html keep the full ids.
    """
    if rows.empty:
        return "no rows to summarise"
    labels = _lang_labels(rows)
    blocks = []
    for task in sorted(map(str, rows["task"].unique())):
        present = list(dict.fromkeys(map(str, rows.loc[rows["task"] == task, "metric"])))  # adapter's order
        used = metric if metric in present else present[0]  # default: the task type's primary metric
        table = drop_table(rows, used, task)
        columns = [c for c in table.columns if c != CLEAN_COLUMN]
        # tabulate "simple" pads every column by 2 and separates columns by 2 spaces
        budget = width - (max((len(v) for v in labels.values()), default=10) + 2) - (len("clean %") + 4)
        fit = 0
        for c in columns[:CONSOLE_MAX_COLUMNS]:
            budget -= max(len(_short(c)), 5) + 4
            if budget < 0:
                break
            fit += 1
        fit = max(fit, 1)
        shown = table[[CLEAN_COLUMN, *columns[:fit]]]
        header = f"{task} · {used} drop (pp vs clean, positive = worse, mean over seeds)"
        if metric is not None and used != metric:
            header += f" [no {metric} rows for this task]"
        body = _drop_body(shown, labels, escape=False)
        text = _md_table(["language", "clean %", *[_short(c) for c in shown.columns[1:]]], body, fmt="simple")
        left_out = len(columns) - fit
        note = (f"\n(worst {fit} of {len(columns)} perturbation columns shown; all of them, with n and CIs, "
                "are in summary.md and report.html)" if left_out > 0 else "")
        blocks.append(f"{header}\n{text}{note}")
    return "\n\n".join(blocks)
