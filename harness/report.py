"""Renderers: a run's tidy rows -> `summary.md`, a self-contained `report.html`, a console table.

Every number goes through the same honest formatters: drops are signed percentage points
(`format_drop`), scores and rates are percentages (`format_value`); a non-zero difference is
never shown as "0.0" and a missing one is "n/a". Several seeds per cell are averaged (mean),
and the reports say so. Output is deterministic: the same rows in any order give the same text.
"""
from __future__ import annotations

import re

import html
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from tabulate import tabulate

from .errors import ConfigError, DataError
from .types import CLEAN

MINUS = "\u2212"  # a real minus sign, so "−3.2" never reads as a hyphen
CLEAN_COLUMN = "clean"
CONSOLE_MAX_COLUMNS = 8
WORST_K = 20

_KEYS = ["task", "lang", "perturbation", "severity"]
_MEAN_COLUMNS = [
    "n", "n_applied", "applied_rate", "value", "ci_low", "ci_high", "clean_value", "abs_drop",
    "rel_drop", "drop_ci_low", "drop_ci_high", "flip_rate", "mean_edit_rate",
]
_FIRST_COLUMNS = ["lang_name", "family", "script", "higher_is_better"]
WORST_COLUMNS = [
    "task", "lang", "lang_name", "perturbation", "severity", "seeds", "n", "n_applied",
    "applied_rate", "clean_value", "value", "abs_drop", "drop_ci_low", "drop_ci_high",
    "flip_rate", "mean_edit_rate",
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


# ---------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    """Text safe inside a markdown table cell: no pipes, no newlines, no raw HTML tags."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def _md_table(headers: list[str], body: list[list[str]], fmt: str = "github", n_text: int = 1) -> str:
    """A tabulate table: the first `n_text` columns left-aligned, the (numeric) others right-aligned."""
    align = ("left",) * n_text + ("right",) * (len(headers) - n_text)
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True, colalign=align)


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


def _md_worst(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """The worst-cells table in github markdown."""
    worst = worst_cells(rows, metric, WORST_K, task)
    headers = ["language", "perturbation", "severity", "n", "n applied", "applied %", "edit %",
               "clean %", "value %", "drop", "drop 95% CI", "flip %"]
    body = [[
        _md(labels.get(str(r.lang), str(r.lang))), _md(r.perturbation), f"{float(r.severity):g}",
        format_count(r.n), format_count(r.n_applied), format_value(r.applied_rate),
        format_value(r.mean_edit_rate), format_value(r.clean_value), format_value(r.value),
        format_drop(r.abs_drop), format_ci(r.drop_ci_low, r.drop_ci_high), format_value(r.flip_rate),
    ] for r in worst.itertuples(index=False)]
    return _md_table(headers, body, n_text=2) if body else "_no perturbed cells_"


def _md_clean(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """Clean scores per language with their CI in github markdown."""
    clean = clean_scores(rows, metric, task)
    headers = ["language", "family", "script", "n", "clean %", "95% CI"]
    body = [[
        _md(labels.get(str(r.lang), str(r.lang))), _md("n/a" if _missing(r.family) else r.family),
        _md("n/a" if _missing(r.script) else r.script), format_count(r.n), format_value(r.value),
        format_ci(r.ci_low, r.ci_high, signed=False),
    ] for r in clean.itertuples(index=False)]
    return _md_table(headers, body, n_text=3) if body else "_no clean cells_"


def render_summary_md(rows: pd.DataFrame, manifest: Mapping[str, Any]) -> str:
    """summary.md: run header, units, then per task and metric the drop, worst-cells and clean tables."""
    facts = dict(_manifest_facts(manifest, rows))
    labels = _lang_labels(rows)
    seeds = _seeds(rows)
    lines = [f"# xrobust summary: {_md(facts['suite'])}", ""]
    warning = _incomplete_warning(manifest, rows)
    if warning:
        lines += [f"> **⚠ {_md(warning)}**", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in _manifest_facts(manifest, rows)]
    lines += ["", f"Units: {_units_line(None, seeds)} Scores, rates and CIs of scores are percentages.", ""]
    for task, metric in _sections(rows):
        lines += [f"## {_md(task)} · {_md(metric)}", "", _units_line(metric, seeds), "",
                  "### Drop vs clean (languages and perturbations worst first)", "",
                  _md_drop_table(rows, task, metric, labels), "",
                  f"### Worst cells (top {WORST_K})", "",
                  _md_worst(rows, task, metric, labels), "",
                  "### Clean scores", "",
                  _md_clean(rows, task, metric, labels), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;max-width:90rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem}
th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.na{background:#eeeeee;color:#777}
table.kv th{width:9rem}
.warning{background:#fff0c2;border:2px solid #c98a00;padding:.75rem 1rem;font-weight:bold}
.units{color:#444}
.legend span{display:inline-block;min-width:3.5rem;text-align:center;border:1px solid #d0d0d0;padding:.15rem .3rem;margin-right:.2rem}
""".strip()


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


def _cell_tooltip(cell: Any) -> str:
    """Tooltip text of one heatmap cell: n, drop CI, applied rate, flips, edit rate, seeds."""
    return (f"n={format_count(cell.n)}; drop 95% CI {format_ci(cell.drop_ci_low, cell.drop_ci_high)}; "
            f"applied {format_value(cell.applied_rate)}% ({format_count(cell.n_applied)}); "
            f"flip {format_value(cell.flip_rate)}%; edit {format_value(cell.mean_edit_rate)}%; "
            f"value {format_value(cell.value)}%; seeds {cell.seeds}")


def _html_heatmap(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str], scale: float) -> str:
    """The drop table as a coloured heatmap with per-cell tooltips."""
    table = drop_table(rows, metric, task)
    cells = cell_means(rows, metric, task)
    by_key = {(str(c.lang), CLEAN_COLUMN if c.perturbation == CLEAN else severity_label(c.perturbation, c.severity)): c
              for c in cells.itertuples(index=False)}
    columns = [c for c in table.columns if c != CLEAN_COLUMN]
    body = []
    for lang, row in table.iterrows():
        lang = str(lang)
        parts = [f"<th>{_e(labels.get(lang, lang))}</th>"]
        clean = by_key.get((lang, CLEAN_COLUMN))
        clean_tip = (None if clean is None else
                     f"n={format_count(clean.n)}; 95% CI {format_ci(clean.ci_low, clean.ci_high, signed=False)}")
        parts.append(_td(format_value(row[CLEAN_COLUMN]), clean_tip))
        for col in columns:
            drop, cell = row[col], by_key.get((lang, col))
            if _missing(drop):
                parts.append(_td("n/a", "no measurement", cls="num na"))
                continue
            tip = None if cell is None else _cell_tooltip(cell)
            parts.append(_td(format_drop(drop), tip, f"background:{_heat_colour(float(drop), scale)}"))
        body.append("<tr>" + "".join(parts) + "</tr>")
    return _html_table(["language", "clean %", *columns], body, "heat")


def _html_worst(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """The worst-cells table in HTML."""
    worst = worst_cells(rows, metric, WORST_K, task)
    if worst.empty:
        return "<p>No perturbed cells.</p>"
    headers = ["language", "perturbation", "severity", "n", "n applied", "applied %", "edit %",
               "clean %", "value %", "drop", "drop 95% CI", "flip %"]
    body = ["<tr>" + f"<th>{_e(labels.get(str(r.lang), str(r.lang)))}</th>" + _td(str(r.perturbation), cls="")
            + "".join(_td(t) for t in (
                f"{float(r.severity):g}", format_count(r.n), format_count(r.n_applied),
                format_value(r.applied_rate), format_value(r.mean_edit_rate), format_value(r.clean_value),
                format_value(r.value), format_drop(r.abs_drop), format_ci(r.drop_ci_low, r.drop_ci_high),
                format_value(r.flip_rate)))
            + "</tr>" for r in worst.itertuples(index=False)]
    return _html_table(headers, body)


def _html_clean(rows: pd.DataFrame, task: str, metric: str, labels: Mapping[str, str]) -> str:
    """Clean scores per language with CI in HTML."""
    clean = clean_scores(rows, metric, task)
    if clean.empty:
        return "<p>No clean cells.</p>"
    body = ["<tr>" + f"<th>{_e(labels.get(str(r.lang), str(r.lang)))}</th>"
            + _td("n/a" if _missing(r.family) else str(r.family), cls="")
            + _td("n/a" if _missing(r.script) else str(r.script), cls="")
            + _td(format_count(r.n)) + _td(format_value(r.value))
            + _td(format_ci(r.ci_low, r.ci_high, signed=False)) + "</tr>"
            for r in clean.itertuples(index=False)]
    return _html_table(["language", "family", "script", "n", "clean %", "95% CI"], body)


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
    return ('<p class="legend"><strong>Legend:</strong> ' + swatches
            + " red = worse than clean, blue = better than clean, grey = not measured; "
            "hover a cell for n, drop 95% CI, applied rate, flip rate, edit rate.</p>")


def render_report_html(rows: pd.DataFrame, manifest: Mapping[str, Any]) -> str:
    """report.html: one self-contained HTML5 page (inline CSS, no scripts, no external links)."""
    facts = _manifest_facts(manifest, rows)
    labels = _lang_labels(rows)
    seeds = _seeds(rows)
    scale = _heat_scale(rows)
    title = f"xrobust report: {dict(facts)['suite']} ({dict(facts)['run id']})"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>",
             f"<h1>{_e(title)}</h1>"]
    warning = _incomplete_warning(manifest, rows)
    if warning:
        parts.append(f'<p class="warning" role="alert">⚠ {_e(warning)}</p>')
    kv = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    parts += ["<h2>Run</h2>", f'<table class="kv"><tbody>{kv}</tbody></table>', _html_legend(scale)]
    for task, metric in _sections(rows):
        parts += [f"<h2>{_e(task)} · {_e(metric)}</h2>",
                  f'<p class="units">{_e(_units_line(metric, seeds))}</p>',
                  "<h3>Drop vs clean (languages and perturbations worst first)</h3>",
                  _html_heatmap(rows, task, metric, labels, scale),
                  f"<h3>Worst cells (top {WORST_K})</h3>", _html_worst(rows, task, metric, labels),
                  "<h3>Clean scores</h3>", _html_clean(rows, task, metric, labels)]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- files and console


def write_reports(rows: pd.DataFrame, manifest: Mapping[str, Any], run_dir: str | Path) -> dict[str, Path]:
    """Write summary.md and report.html (UTF-8) into `run_dir`; return {"summary": path, "html": path}."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = {"summary": run_dir / "summary.md", "html": run_dir / "report.html"}
    paths["summary"].write_text(render_summary_md(rows, manifest), encoding="utf-8")
    paths["html"].write_text(render_report_html(rows, manifest), encoding="utf-8")
    return paths


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
