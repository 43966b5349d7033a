"""Renderers: exact numbers, worst-first ordering, honest formatting, safe self-contained HTML."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from harness.errors import DataError
from harness.report import (
    console_summary,
    drop_table,
    format_drop,
    format_value,
    render_report_html,
    render_summary_md,
    worst_cells,
    write_reports,
)

KB, SWAP = "char.keyboard.v1", "char.swap.v1"
SEED_OFFSET = 1 / 8192  # seed 1 gets +offset, seed 2 −offset: means stay exact binary fractions
# mean abs_drop per (metric, lang, perturbation, severity); all exact in binary floating point
DROPS = {
    "accuracy": {
        "de": {(KB, 0.1): 1 / 64, (KB, 0.3): 1 / 16, (SWAP, 0.1): -1 / 4096, (SWAP, 0.3): 1 / 32},
        "sw": {(KB, 0.1): 3 / 64, (KB, 0.3): 1 / 8, (SWAP, 0.1): 1 / 64, (SWAP, 0.3): 3 / 32},
    },
    "macro_f1": {
        "de": {(KB, 0.1): 1 / 8, (KB, 0.3): 1 / 2, (SWAP, 0.1): -1 / 512, (SWAP, 0.3): 1 / 4},
        "sw": {(KB, 0.1): 3 / 64, (KB, 0.3): 1 / 8, (SWAP, 0.1): 1 / 64, (SWAP, 0.3): 3 / 32},
    },
}
CLEAN = {"accuracy": {"de": 0.875, "sw": 0.75}, "macro_f1": {"de": 0.8125, "sw": 0.6875}}
LANGS = {"de": ("German", "Germanic", "Latn"), "sw": ("Swahili <b>", "Bantu", "Latn")}
N = 64


def _row(metric: str, lang: str, pert: str, sev: float, seed: int, drop: float) -> dict:
    name, family, script = LANGS[lang]
    clean = CLEAN[metric][lang]
    value = clean - drop
    applied = 0 if pert == "clean" else (48 if seed == 1 else 50)
    return {
        "run_id": "r1", "checkpoint": "ckpt", "task": "xnli", "lang": lang, "lang_name": name,
        "family": family, "script": script, "perturbation": pert, "severity": sev, "seed": seed,
        "metric": metric, "higher_is_better": True, "n": N, "n_applied": applied,
        "applied_rate": applied / N, "value": value, "ci_low": value - 1 / 32,
        "ci_high": value + 1 / 32, "clean_value": clean, "abs_drop": drop, "rel_drop": drop / clean,
        "drop_ci_low": drop - 1 / 64 if drop else 0.0, "drop_ci_high": drop + 1 / 64 if drop else 0.0,
        "flip_rate": abs(drop), "mean_edit_rate": sev / 2,
    }


def make_rows() -> pd.DataFrame:
    """2 languages x (2 perturbations x 2 severities + clean) x 2 seeds x 2 metrics."""
    out = []
    for metric, by_lang in DROPS.items():
        for lang, cells in by_lang.items():
            for seed, sign in ((1, 1), (2, -1)):
                out.append(_row(metric, lang, "clean", 0.0, seed, 0.0))
                for (pert, sev), drop in cells.items():
                    out.append(_row(metric, lang, pert, sev, seed, drop + sign * SEED_OFFSET))
    return pd.DataFrame(out)


def make_manifest(status: str = "complete") -> dict:
    return {
        "run_id": "r1", "suite": "smoke", "checkpoint": "/ckpt/xlmr-tiny",
        "checkpoint_fingerprint": "sha256:0123456789abcdef0123", "versions": {"xrobust": "0.1.0"},
        "seeds": [1, 2], "device": "cpu", "dtype": "float32", "started": "2025-01-01T00:00:00Z",
        "finished": "2025-01-01T00:01:00Z", "status": status, "n_cells": 20, "wall_seconds": 60.0,
    }


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize("x, text", [
    (0.0321, "+3.2"), (-0.0321, "\u22123.2"), (0.0004, "+<0.1"), (-0.0004, "\u2212<0.1"),
    (0.0, "0.0"), (-0.0, "0.0"), (float("nan"), "n/a"), (None, "n/a"), (pd.NA, "n/a"),
    (0.00049, "+<0.1"), (0.1, "+10.0"), (1.0, "+100.0"),
])
def test_format_drop(x, text):
    assert format_drop(x) == text


@pytest.mark.parametrize("x, text", [
    (0.8125, "81.2"), (0.0, "0.0"), (1.0, "100.0"), (0.0002, "<0.1"), (0.9998, ">99.9"),
    (float("nan"), "n/a"),
])
def test_format_value(x, text):
    assert format_value(x) == text


# ---------------------------------------------------------------- tables


def test_drop_table_orders_worst_first_with_exact_means(rows):
    table = drop_table(rows)
    assert list(table.index) == ["sw", "de"]
    assert list(table.columns) == ["clean", f"{KB}@0.3", f"{SWAP}@0.3", f"{KB}@0.1", f"{SWAP}@0.1"]
    assert table.loc["sw"].tolist() == [0.75, 1 / 8, 3 / 32, 3 / 64, 1 / 64]
    assert table.loc["de"].tolist() == [0.875, 1 / 16, 1 / 32, 1 / 64, -1 / 4096]


def test_drop_table_other_metric_reorders_languages(rows):
    table = drop_table(rows, metric="macro_f1", task="xnli")
    assert list(table.index) == ["de", "sw"]
    assert table.loc["de", f"{KB}@0.3"] == 0.5
    assert table.loc["de", "clean"] == 0.8125


def test_drop_table_rejects_unknown_metric_and_mixed_tasks(rows):
    with pytest.raises(DataError, match="no rows for metric 'exact_match'"):
        drop_table(rows, metric="exact_match")
    two_tasks = pd.concat([rows, rows.assign(task="pawsx")], ignore_index=True)
    with pytest.raises(DataError, match="several tasks"):
        drop_table(two_tasks)
    assert list(drop_table(two_tasks, task="pawsx").index) == ["sw", "de"]


def test_worst_cells_order_and_columns(rows):
    worst = worst_cells(rows, k=3)
    assert list(zip(worst["lang"], worst["perturbation"], worst["severity"])) == [
        ("sw", KB, 0.3), ("sw", SWAP, 0.3), ("de", KB, 0.3)]
    assert worst["abs_drop"].tolist() == [1 / 8, 3 / 32, 1 / 16]
    first = worst.iloc[0]
    assert (first["n"], first["n_applied"], first["applied_rate"]) == (64, 49, 49 / 64)
    assert (first["drop_ci_low"], first["drop_ci_high"]) == (1 / 8 - 1 / 64, 1 / 8 + 1 / 64)
    assert first["seeds"] == 2
    for col in ("clean_value", "value", "flip_rate", "mean_edit_rate"):
        assert col in worst.columns
    assert len(worst_cells(rows)) == 8  # clean cells are never "worst"


# ---------------------------------------------------------------- markdown


def test_summary_md_tables(rows):
    md = render_summary_md(rows, make_manifest())
    lines = md.splitlines()
    assert lines[0] == "# xrobust summary: smoke"
    assert "- **fingerprint:** sha256:0123456789ab" in lines
    assert "- **status:** complete" in lines
    assert ("accuracy drop in percentage points vs clean; positive = worse; mean over seeds (2: 1, 2); "
            "n per cell shown in the worst-cells table; non-zero differences below 0.05 pp show as <0.1.") in lines
    assert "## xnli · accuracy" in lines and "## xnli · macro_f1" in lines
    assert ("| language          |   clean % |   char.keyboard.v1@0.3 |   char.swap.v1@0.3 "
            "|   char.keyboard.v1@0.1 |   char.swap.v1@0.1 |") in lines
    assert ("| Swahili \\<b> (sw) |      75.0 |                  +12.5 |               +9.4 "
            "|                   +4.7 |               +1.6 |") in lines
    assert ("| German (de)       |      87.5 |                   +6.2 |               +3.1 "
            "|                   +1.6 |              \u2212<0.1 |") in lines
    # worst cells: CI as "[+a, +b]" with n and applied rate beside it
    assert ("| Swahili \\<b> (sw) | char.keyboard.v1 |        0.3 |  64 |          49 |        76.6 "
            "|     15.0 |      75.0 |      62.5 |  +12.5 | [+10.9, +14.1] |     12.5 |") in lines
    assert ("| German (de)       | char.swap.v1     |        0.1 |  64 |          49 |        76.6 "
            "|      5.0 |      87.5 |      87.5 |  \u2212<0.1 |   [\u22121.6, +1.5] |     <0.1 |") in lines
    # clean scores with CI
    assert "| German (de)       | Germanic | Latn     |  64 |      87.5 | [84.4, 90.6] |" in lines
    assert "WARNING" not in md and "INCOMPLETE" not in md


def test_summary_md_warns_only_when_incomplete(rows):
    md = render_summary_md(rows, {**make_manifest("incomplete"), "n_cells": 24})
    assert md.splitlines()[2] == (
        "> **⚠ WARNING: this run is INCOMPLETE (status: incomplete); 20 of 24 cells were measured, "
        "so tables cover only those cells.**")
    assert "INCOMPLETE" not in render_summary_md(rows, make_manifest("complete"))


def test_summary_is_deterministic_for_any_row_order(rows):
    shuffled = rows.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert render_summary_md(shuffled, make_manifest()) == render_summary_md(rows, make_manifest())
    assert render_report_html(shuffled, make_manifest()) == render_report_html(rows, make_manifest())


# ---------------------------------------------------------------- html


class _StrictParser(HTMLParser):
    """Collects parse problems: unbalanced tags and markup left inside text."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.texts.append(data)


def _parse(text: str) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_self_contained_and_parses(rows):
    page = render_report_html(rows, make_manifest())
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page and "<script src" not in page and "<link" not in page
    parser = _parse(page)
    assert parser.errors == [] and parser.stack == []
    tags = [t for t, _ in parser.tags]
    # manifest + overview; accuracy (primary): worst cells, clean, AUC, groups; macro_f1: worst cells, clean
    assert tags.count("table") == 2 + 4 + 2
    classes = [a.get("class") for t, a in parser.tags if t == "svg"]
    assert classes.count("heatmap") == 2 and classes.count("curve") == 2  # one curve panel per perturbation
    assert tags.count("script") == 1


def _heat_cells(page: str) -> list[tuple[str, str, str]]:
    """(tooltip, fill, text) of every SVG heatmap cell."""
    found = re.findall(r'<g class="hm"><title>(.*?)</title><rect [^>]*fill="(#[0-9a-f]{6})"[^>]*/>'
                       r'<text [^>]*>(.*?)</text></g>', page)
    return [(html.unescape(t), f, html.unescape(x)) for t, f, x in found]


def test_html_heatmap_cells(rows):
    cells = _heat_cells(render_report_html(rows, make_manifest()))
    assert len(cells) == 2 * 2 * 5  # 2 metrics x 2 languages x (clean + 4 perturbed columns)
    worst = [c for c in cells if c[0].startswith("Swahili <b> (sw) · char.keyboard.v1@0.3: drop +12.5 pp")
             and "value 62.5%" in c[0]]
    assert len(worst) == 1  # accuracy
    assert worst[0] == ("Swahili <b> (sw) · char.keyboard.v1@0.3: drop +12.5 pp; n=64; drop 95% CI [+10.9, +14.1]; "
                        "applied 76.6% (49); flip 12.5%; edit 15.0%; value 62.5%; seeds 2", "#ffd2d2", "+12.5")
    # one colour scale for the page: the largest drop (macro_f1, de keyboard@0.3: 50 pp); 12.5 pp is a quarter of it
    improved = [c for c in cells if "drop 95% CI [\u22121.6, +1.5]" in c[0]]
    assert improved and improved[0][1].endswith("ff") and improved[0][2] == "\u2212<0.1"  # blue for better
    assert ("clean 75.0%; n=64; 95% CI [71.9, 78.1]", "#f3f3f3", "75.0") in cells


def test_report_sections_of_the_primary_metric(rows):
    md = render_summary_md(rows, make_manifest())
    lines = md.splitlines()
    assert ("| xnli   | accuracy         |           2 |      81.2 |          76.4 |        +4.9 "
            "| char.keyboard.v1@0.3 |         +9.4 |               95.4 |") in lines
    # AUC by hand: de under keyboard keeps 1, 1 − (1/64)/0.875, 1 − (1/16)/0.875 at 0, 0.1, 0.3 -> 96.7 %
    assert "| German (de)       |   97.8 |               96.7 |           98.8 |" in lines
    assert "| Swahili \\<b> (sw) |   93.1 |               91.3 |           94.8 |" in lines
    assert ("| tier       | tier 2        | sw        |           1 |      75.0 |          68.0 |        +7.0 "
            "| char.keyboard.v1@0.3 |        +12.5 |    93.1 |") in lines
    assert "_No English (en) rows for this task, so no transfer gap._" in lines
    assert "_Needs records.parquet (not given to the renderer)._" in lines
    assert "_These rows carry no tokenization diagnostics (a run made before they existed)._" in lines
    assert md.count("### Robustness AUC") == 1  # the primary metric (accuracy) only, not macro_f1


def _with_english_diagnostics_and_lost_labels(rows: pd.DataFrame) -> pd.DataFrame:
    """sw renamed to en; constant tokenization diagnostics; 2 labels lost in de keyboard@0.3."""
    out = rows.assign(lang=rows["lang"].replace({"sw": "en"}),
                      lang_name=rows["lang_name"].replace({"Swahili <b>": "English"}),
                      ids_changed_rate=[0.0 if p == "clean" else 0.5 for p in rows["perturbation"]],
                      subtoken_change=[0.0 if p == "clean" else 1.5 for p in rows["perturbation"]],
                      fertility_change=[0.0 if p == "clean" else 0.25 for p in rows["perturbation"]],
                      unk_rate=0.125, n_label_lost=0)
    lost = (out["lang"] == "de") & (out["perturbation"] == KB) & (out["severity"] == 0.3)
    out.loc[lost, "n_label_lost"] = 2
    return out


def test_report_with_english_records_diagnostics_and_lost_labels(rows):
    rows = _with_english_diagnostics_and_lost_labels(rows)
    records = pd.DataFrame([
        {"task": "xnli", "lang": "de", "perturbation": p, "severity": s, "seed": 1, "example_id": f"x{i}",
         "score": v} for p, s, values in (("clean", 0.0, [1, 1]), (KB, 0.1, [1, 0]), (SWAP, 0.3, [0, 1]))
        for i, v in enumerate(values)])
    md = render_summary_md(rows, make_manifest(), records)
    lines = md.splitlines()
    # en − de: clean 75 − 87.5; perturbed gap = −12.5 pp + mean de drop (447/16384) − mean en drop (18/256)
    assert "| German (de) |       \u221212.5 |                  \u221216.8 |     \u22124.3 |" in lines
    # x0: clean 1, keyboard 1, swap 0; x1: clean 1, keyboard 0, swap 1 -> both worst 0
    assert "| German (de) |   2 |           100.0 |                  0.0 | +100.0 |          100.0 |       2 |" in lines
    assert ("| German (de)  |            50.0 |                    +1.50 |                +25.0 |          12.5 "
            "|              12.5 |        +2.7 |") in lines
    assert "| share of inputs whose token ids changed        |       8 |                    n/a |" in lines
    header = next(line for line in lines if line.startswith("| language") and "label lost" in line)
    assert header.endswith("|   label lost |")
    assert ("| German (de)  | char.keyboard.v1 |        0.3 |  64 |          49 |        76.6 |     15.0 |      87.5 "
            "|      81.2 |   +6.2 |   [+4.7, +7.8] |      6.2 |            2 |") in lines
    page = render_report_html(rows, make_manifest(), records)
    assert "; label lost 2" in page and _parse(page).errors == []
    assert "label lost" not in render_summary_md(make_rows(), make_manifest())  # only where some cell lost labels


def test_html_escapes_language_names(rows):
    page = render_report_html(rows, make_manifest())
    assert "Swahili &lt;b&gt; (sw)" in page
    assert "<b>" not in page
    assert "Swahili <b> (sw)" in _parse(page).texts


def test_html_warning_only_when_incomplete(rows):
    assert 'class="warning"' in render_report_html(rows, make_manifest("incomplete"))
    assert 'class="warning"' not in render_report_html(rows, make_manifest())


# ---------------------------------------------------------------- files and console


def test_write_reports(rows, tmp_path):
    paths = write_reports(rows, make_manifest(), tmp_path / "run")
    assert set(paths) == {"summary", "html"}
    assert paths["summary"].name == "summary.md" and paths["html"].name == "report.html"
    assert paths["summary"].read_text(encoding="utf-8") == render_summary_md(rows, make_manifest())
    assert paths["html"].read_text(encoding="utf-8") == render_report_html(rows, make_manifest())


def test_console_summary(rows):
    text = console_summary(rows)
    lines = text.splitlines()
    assert lines[0] == "xnli · accuracy drop (pp vs clean, positive = worse, mean over seeds)"
    assert lines[3].split() == ["Swahili", "<b>", "(sw)", "75.0", "+12.5", "+9.4", "+4.7", "+1.6"]
    assert "left out" not in text


def test_console_summary_caps_columns(rows):
    extra = [rows[rows["perturbation"] == KB].assign(perturbation=f"char.extra{i}.v1") for i in range(3)]
    wide = pd.concat([rows, *extra], ignore_index=True)  # 5 perturbations x 2 severities = 10 columns
    text = console_summary(wide, width=400)
    header = text.splitlines()[1]
    assert header.count("@") == 8
    assert text.endswith("(worst 8 of 10 perturbation columns shown; all of them, with n and CIs, "
                         "are in summary.md and report.html)")


def test_console_summary_fits_the_terminal_width(rows):
    extra = [rows[rows["perturbation"] == KB].assign(perturbation=f"char.extra{i}.v1") for i in range(3)]
    wide = pd.concat([rows, *extra], ignore_index=True)
    text = console_summary(wide, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines[1:-1]) <= 80
    assert lines[1].split()[3:5] == ["extra0@0.3", "extra1@0.3"]  # short names: no "char." prefix, no version
    assert "worst 3 of 10 perturbation columns shown" in lines[-1]
