"""Aggregations on hand-made rows and records: exact macro means, transfer gap, worst case, robustness AUC,
Spearman, slices (values, CIs, errors), tokenization diagnostics of the runner, and `xrobust slice`."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from _util import run_cli

from harness.aggregate import (
    degradation_curves,
    group_summary,
    primary_metric,
    quantile_buckets,
    robustness_auc,
    seed_means,
    slice_table,
    spearman,
    tokenization_by_language,
    tokenization_correlation,
    transfer_gap,
    transfer_gap_summary,
    worst_case,
)
from harness.errors import ConfigError, DataError
from harness.runner import cell_token_diagnostics, token_diagnostics
from harness.types import Cell, Example, Variant

A, B = "char.swap.v1", "char.keyboard.v1"
# clean accuracy and the drop per (perturbation, severity); all binary fractions, so means are exact
CLEAN = {"en": 0.875, "de": 0.75, "hi": 0.5}
DROPS = {
    "en": {(A, 0.25): 1 / 8, (A, 0.5): 1 / 4, (B, 0.25): 0.0, (B, 0.5): 1 / 16},
    "de": {(A, 0.25): 1 / 4, (A, 0.5): 3 / 8, (B, 0.25): 1 / 16, (B, 0.5): 1 / 8},
    "hi": {(A, 0.25): 1 / 8, (A, 0.5): 1 / 4, (B, 0.25): -1 / 16, (B, 0.5): 1 / 4},
}
DIAG = {"en": (0.5, 2.0, 0.125, 0.0), "de": (0.75, 4.0, 0.25, 0.0625), "hi": (1.0, 8.0, 0.5, 0.125)}


def _row(lang, pert, sev, seed, value, clean, metric="accuracy", hib=True, task="xnli", diag=(0.0, 0.0, 0.0, 0.0)):
    drop = (clean - value) if hib else (value - clean)
    return {"task": task, "lang": lang, "lang_name": lang, "family": "Indo-European",
            "script": "Deva" if lang == "hi" else "Latn", "perturbation": pert, "severity": sev, "seed": seed,
            "metric": metric, "higher_is_better": hib, "n": 8, "value": value, "clean_value": clean,
            "abs_drop": drop, "n_label_lost": 0, "ids_changed_rate": diag[0], "subtoken_change": diag[1],
            "fertility_change": diag[2], "unk_rate": diag[3]}


def make_rows(seeds=(0, 1)) -> pd.DataFrame:
    """Three languages x (clean + 2 perturbations x 2 severities); seed 1 is 1/32 better and seed 0 1/32
    worse than the mean, so the means over seeds are the DROPS exactly. Diagnostics scale with the severity."""
    out = []
    for lang, cells in DROPS.items():
        out.append(_row(lang, "clean", 0.0, 0, CLEAN[lang], CLEAN[lang], diag=(0.0, 0.0, 0.0, DIAG[lang][3])))
        for (pert, sev), drop in cells.items():
            for seed in seeds:
                jitter = (1 / 32 if seed == 0 else -1 / 32) if len(seeds) == 2 else 0.0
                d = tuple(x * sev * 4 for x in DIAG[lang][:3]) + (DIAG[lang][3] * 2,)
                out.append(_row(lang, pert, sev, seed, CLEAN[lang] - drop - jitter, CLEAN[lang], diag=d))
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


# --- seeds, groups, AUC ----------------------------------------------------------------------------------------


def test_seed_means_average_seeds_and_add_the_tier(rows):
    cells = seed_means(rows)
    de = cells[(cells.lang == "de") & (cells.perturbation == A) & (cells.severity == 0.5)].iloc[0]
    assert (de["abs_drop"], de["value"], de["seeds"], de["tier"]) == (3 / 8, 0.75 - 3 / 8, 2, "tier 5")
    assert set(cells.loc[cells.lang == "hi", "tier"]) == {"tier 4"}
    assert len(cells) == 3 * 5


def test_robustness_auc_is_the_trapezoid_of_the_retained_fraction(rows):
    auc = robustness_auc(rows).set_index(["lang", "perturbation"])
    assert list(robustness_auc(rows).columns[:5]) == ["task", "lang", "perturbation", "metric", "auc"]
    # de under A: retained 1, 1 − 0.25/0.75, 1 − 0.375/0.75 at 0, 0.25, 0.5
    r1, r2 = 1 - 0.25 / 0.75, 1 - 0.375 / 0.75
    assert auc.loc[("de", A), "auc"] == pytest.approx((0.25 * (1 + r1) / 2 + 0.25 * (r1 + r2) / 2) / 0.5, abs=1e-15)
    # hi under B: 1, 1 + 0.0625/0.5 (better than clean), 1 − 0.25/0.5
    r1, r2 = 1 + 0.0625 / 0.5, 1 - 0.25 / 0.5
    assert auc.loc[("hi", B), "auc"] == pytest.approx((0.25 * (1 + r1) / 2 + 0.25 * (r1 + r2) / 2) / 0.5, abs=1e-15)
    assert auc.loc[("en", B), ["max_severity", "n_severities"]].tolist() == [0.5, 2]


def test_robustness_auc_respects_direction_and_undefined_clean():
    rows = pd.DataFrame([
        _row("en", "clean", 0.0, 0, 0.25, 0.25, metric="error", hib=False),
        _row("en", A, 0.5, 0, 0.5, 0.25, metric="error", hib=False),  # error doubled: drop 0.25 = 100 % of clean
        _row("de", "clean", 0.0, 0, 0.0, 0.0),
        _row("de", A, 0.5, 0, 0.0, 0.0),
    ])
    auc = robustness_auc(rows).set_index("lang")["auc"]
    assert auc["en"] == 0.5  # retained 1 -> 0 over [0, 0.5]: mean 0.5
    assert math.isnan(auc["de"])
    curve = degradation_curves(rows)
    assert curve.loc[curve.lang == "en", ["severity", "retained"]].values.tolist() == [[0.0, 1.0], [0.5, 0.0]]


def test_group_summary_macro_means_per_family_script_and_tier(rows):
    macro = group_summary(rows, "all", "xnli", "accuracy").iloc[0]
    assert macro["group"] == "all languages" and macro["n_langs"] == 3 and macro["langs"] == "de, en, hi"
    assert macro["clean_value"] == pytest.approx((0.875 + 0.75 + 0.5) / 3, abs=1e-15)
    per_lang_drop = {lang: sum(c.values()) / 4 for lang, c in DROPS.items()}
    assert macro["mean_drop"] == pytest.approx(sum(per_lang_drop.values()) / 3, abs=1e-15)
    assert (macro["worst_cell"], macro["worst_drop"]) == (f"{A}@0.5", pytest.approx((1 / 4 + 3 / 8 + 1 / 4) / 3))
    script = group_summary(rows, "script", "xnli", "accuracy").set_index("group")
    assert script.loc["Deva", "mean_drop"] == per_lang_drop["hi"] == 9 / 64
    assert script.loc["Latn", "mean_drop"] == (per_lang_drop["en"] + per_lang_drop["de"]) / 2
    assert list(script.index) == ["Latn", "Deva"]  # worst (largest mean drop) first: 10/64 > 9/64
    tier = group_summary(rows, "tier", "xnli", "accuracy").set_index("group")
    assert tier.loc["tier 5", "langs"] == "de, en" and tier.loc["tier 4", "langs"] == "hi"
    auc = robustness_auc(rows).groupby("lang")["auc"].mean()
    assert tier.loc["tier 4", "auc"] == pytest.approx(auc["hi"], abs=1e-15)
    with pytest.raises(ConfigError, match="group by must be one of"):
        group_summary(rows, "genus", "xnli", "accuracy")


# --- transfer gap and worst case -------------------------------------------------------------------------------


def test_transfer_gap_is_english_minus_language_direction_aware(rows):
    gap = transfer_gap(rows).set_index(["lang", "perturbation", "severity"])
    assert "en" not in gap.index.get_level_values(0)
    de = gap.loc[("de", A, 0.5)]
    assert de["clean_gap"] == 0.875 - 0.75
    assert de["gap"] == (0.875 - 1 / 4) - (0.75 - 3 / 8)  # 0.625 − 0.375
    assert de["gap_change"] == 0.125
    summary = transfer_gap_summary(rows, "xnli", "accuracy").set_index("lang")
    assert summary.loc["hi", "clean_gap"] == 0.375
    en_mean = sum(0.875 - d for d in DROPS["en"].values()) / 4
    hi_mean = sum(0.5 - d for d in DROPS["hi"].values()) / 4
    assert summary.loc["hi", "perturbed_gap"] == en_mean - hi_mean
    lower = pd.DataFrame([_row("en", "clean", 0.0, 0, 0.25, 0.25, metric="error", hib=False),
                          _row("de", "clean", 0.0, 0, 0.5, 0.5, metric="error", hib=False)])
    assert transfer_gap(lower)["clean_gap"].tolist() == [0.25]  # more error than English: positive
    assert transfer_gap(rows[rows.lang != "en"]).empty


def _records(scores: dict[str, dict[tuple, list[float]]], task="xnli", labels=None, **extra) -> pd.DataFrame:
    """Records from per-language {(perturbation, severity, seed): [score per example]}."""
    out = []
    for lang, cells in scores.items():
        for (pert, sev, seed), values in cells.items():
            for i, s in enumerate(values):
                label = labels[i] if labels else "a"
                out.append({"task": task, "lang": lang, "perturbation": pert, "severity": sev, "seed": seed,
                            "example_id": f"x{i}", "label": label, "pred": label if s == 1 else "b",
                            "score": float(s), **{k: v[i] if isinstance(v, list) else v for k, v in extra.items()}})
    return pd.DataFrame(out)


def test_worst_case_takes_each_examples_worst_perturbed_score(rows):
    recs = _records({
        "en": {("clean", 0.0, 0): [1, 1, 0, 1], (A, 0.25, 0): [1, 0, 0, 1], (B, 0.5, 1): [1, 1, 1, 0]},
        "de": {("clean", 0.0, 0): [0, 1, 1, 1], (A, 0.25, 0): [1, 1, 1, 1], (B, 0.5, 1): [0, 1, 1, 1]},
    })
    wc = worst_case(recs, rows).set_index("lang")
    assert wc.loc["en"].to_dict() == {"task": "xnli", "metric": "accuracy", "higher_is_better": True, "n": 4,
                                      "clean_score": 0.75, "worst_score": 0.25, "worst_drop": 0.5,
                                      "share_worse": 0.5, "n_cells": 2}
    assert (wc.loc["de", "worst_score"], wc.loc["de", "worst_drop"], wc.loc["de", "share_worse"]) == (0.75, 0.0, 0.0)


# --- Spearman and tokenization diagnostics ---------------------------------------------------------------------


def test_spearman_exact_values():
    assert spearman([1, 2, 3, 4], [10, 20, 15, 40]) == 0.8
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138, abs=1e-12)  # average ranks
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1, 2], [2, 1]))
    assert spearman([1, 2, float("nan"), 3], [1, 2, 9, 3]) == 1.0


def test_tokenization_correlation_and_per_language_means(rows):
    corr = tokenization_correlation(rows).set_index("diagnostic")
    assert corr.loc["ids_changed_rate", "n_cells"] == 12
    # by hand, average ranks over ties: the drops' ranks are en 6, 9.5, 2, 3.5; de 9.5, 12, 3.5, 6; hi 6, 9.5, 1,
    # 9.5 (A@0.25, A@0.5, B@0.25, B@0.5); unk rates rank 2.5 (en), 6.5 (de), 10.5 (hi): covariance sum 20,
    # squares 128 and 135.5; sub-token changes (2, 4 | 4, 8 | 8, 16 per severity) rank 1.5 … 11.5: sum 53, squares 132
    assert corr.loc["unk_rate", "spearman"] == pytest.approx(20 / math.sqrt(128 * 135.5), abs=1e-11)
    assert corr.loc["subtoken_change", "spearman"] == pytest.approx(53 / math.sqrt(132 * 135.5), abs=1e-11)
    by_lang = tokenization_by_language(rows, "xnli", "accuracy").set_index("lang")
    assert list(by_lang.index) == ["hi", "de", "en"]  # most changed token ids first
    assert by_lang.loc["de", "ids_changed_rate"] == 0.75 * (1 + 2) / 2  # severities 0.25, 0.5 -> x1, x2
    assert by_lang.loc["hi", "clean_unk_rate"] == 0.125 and by_lang.loc["hi", "unk_rate"] == 0.25
    assert by_lang.loc["en", "mean_drop"] == sum(DROPS["en"].values()) / 4


class CharTokenizer:
    """One id per character; '?' is the unknown token. Records the texts of each call."""

    unk_token_id = ord("?")

    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts, add_special_tokens=True, verbose=True):
        assert add_special_tokens is False
        self.calls.append(list(texts))
        return {"input_ids": [[ord(c) for c in t] for t in texts]}


def test_runner_token_diagnostics_exact_counts_and_one_tokenization_per_text():
    exs = [Example("a", "en", {"premise": "abc", "hypothesis": "de"}, "x"),
           Example("b", "en", {"premise": "xy", "hypothesis": "z"}, "x")]
    clean = [Variant(e, e.fields, False, 0.0, 0) for e in exs]
    pert = [Variant(exs[0], {"premise": "a?bc", "hypothesis": "de"}, True, 0.1, 1),
            Variant(exs[1], {"premise": "xy", "hypothesis": "z"}, False, 0.0, 0)]
    tok = CharTokenizer()
    diag = token_diagnostics(tok, exs, [clean, pert], ("premise", "hypothesis"))
    assert len(tok.calls) == 1 and sorted(tok.calls[0]) == sorted({"abc", "de", "xy", "z", "a?bc"})
    assert {k: v.tolist() for k, v in diag[0].items()} == {
        "n_subtokens": [5, 3], "n_subtokens_clean": [5, 3], "ids_changed": [False, False], "n_unk": [0, 0]}
    assert {k: v.tolist() for k, v in diag[1].items()} == {
        "n_subtokens": [6, 3], "n_subtokens_clean": [5, 3], "ids_changed": [True, False], "n_unk": [1, 0]}
    recs = [{k: v[i].item() for k, v in diag[1].items()} for i in range(2)]
    assert cell_token_diagnostics(recs) == {"ids_changed_rate": 0.5, "subtoken_change": 0.5,
                                            "fertility_change": 9 / 8 - 1, "unk_rate": 1 / 9}
    words = Example("t", "en", {"tokens": ("ab", "c")}, ("O", "O"))
    d = token_diagnostics(tok, [words], [[Variant(words, {"tokens": ("ab", "d")}, True, 0.5, 1)]], ("tokens",))
    assert tok.calls[-1] == ["ab c", "ab d"]  # a token task's words are joined with spaces
    assert d[0]["n_subtokens"].tolist() == [4] and d[0]["ids_changed"].tolist() == [True]


# --- slices ----------------------------------------------------------------------------------------------------


def _slice_records() -> pd.DataFrame:
    """en: 6 examples with sub-token lengths 10..60; clean all right, swap@0.5 wrong on the three longest."""
    clean = [1, 1, 1, 1, 1, 1]
    return _records({"en": {("clean", 0.0, 0): clean, (A, 0.5, 0): [1, 1, 1, 0, 0, 0],
                            (B, 0.5, 0): [1, 1, 0, 1, 1, 0]}},
                    labels=["p", "q", "p", "q", "p", "q"], n_subtokens_clean=[10, 20, 30, 40, 50, 60],
                    cmi=float("nan"))


def _slice_rows() -> pd.DataFrame:
    return pd.DataFrame([_row("en", "clean", 0.0, 0, 1.0, 1.0), _row("en", A, 0.5, 0, 0.5, 1.0),
                         _row("en", B, 0.5, 0, 4 / 6, 1.0)])


def test_slice_by_length_pools_cells_per_bucket_with_a_paired_ci():
    t = slice_table(_slice_records(), _slice_rows(), "length", bins=2, samples=500)
    assert t["slice"].tolist() == ["10–30", "40–60"]
    assert t["metric"].tolist() == ["accuracy", "accuracy"]  # accuracy equals the mean score in every cell
    assert t["n"].tolist() == [3, 3] and t["n_pairs"].tolist() == [6, 6]
    assert t["clean"].tolist() == [1.0, 1.0]
    assert t["perturbed"].tolist() == [5 / 6, 2 / 6]  # short: A 3/3 + B 2/3; long: A 0/3 + B 2/3
    assert t["drop"].tolist() == pytest.approx([1 / 6, 4 / 6], abs=1e-15)
    assert (t["drop_ci_low"] <= t["drop"]).all() and (t["drop"] <= t["drop_ci_high"]).all()
    only_a = slice_table(_slice_records(), _slice_rows(), "length", bins=2, perturbation=A, samples=500)
    assert only_a["drop"].tolist() == [0.0, 1.0] and only_a["drop_ci_low"].tolist() == [0.0, 1.0]
    again = slice_table(_slice_records(), _slice_rows(), "length", bins=2, samples=500)
    pd.testing.assert_frame_equal(t, again)  # seeded


def test_slice_by_label_and_macro_f1():
    t = slice_table(_slice_records(), _slice_rows(), "label", samples=200)
    assert t["slice"].tolist() == ["p", "q"]
    assert t["perturbed"].tolist() == [4 / 6, 3 / 6]  # p: ex 0, 2, 4 -> A 1,1,0 + B 1,0,1; q: A 1,0,0 + B 1,1,0
    f1 = slice_table(_slice_records(), _slice_rows(), "label", metric="macro_f1", samples=200)
    # slice p: gold p x6, pred p x4 and b x2: F1(p) = 8/10, F1(b) = 0 -> macro 0.4
    assert f1["metric"].tolist() == ["macro_f1"] * 2 and f1["perturbed"].iloc[0] == pytest.approx(0.4, abs=1e-15)
    assert f1["clean"].iloc[0] == 1.0


def test_slice_by_cmi_uses_the_examples_own_index_else_each_perturbed_inputs():
    recs = _slice_records()
    own = recs.assign(cmi=[0.0, 0.0, 10.0, 20.0, 30.0, 40.0] * 3)
    t = slice_table(own, _slice_rows(), "cmi", bins=2, samples=200)
    assert t["slice"].tolist() == ["0.0–10.0", "20.0–40.0"]
    switched = recs.assign(cmi=[np.nan] * 6 + [5.0] * 6 + [50.0] * 6)  # clean: none; each perturbation its own
    t = slice_table(switched, _slice_rows(), "cmi", bins=2, samples=200)
    assert t["slice"].tolist() == ["5.0", "50.0"] and t["perturbed"].tolist() == [0.5, 4 / 6]


def test_slice_errors_say_what_is_missing():
    recs, rows = _slice_records(), _slice_rows()
    with pytest.raises(DataError, match="no code-mixing index"):
        slice_table(recs, rows, "cmi")
    with pytest.raises(DataError, match="older xrobust"):
        slice_table(recs.drop(columns="n_subtokens_clean"), rows, "length")
    tags = recs.assign(label='["O","B-PER"]')
    with pytest.raises(DataError, match="labels are structured"):
        slice_table(tags, rows, "label")
    with pytest.raises(ConfigError, match="choose one of score, accuracy, macro_f1"):
        slice_table(recs, rows, "length", metric="exact_match")
    with pytest.raises(ConfigError, match="--by must be one of"):
        slice_table(recs, rows, "size")
    with pytest.raises(ConfigError, match="no perturbed records match"):
        slice_table(recs, rows, "length", severity=0.9)
    with pytest.raises(ConfigError, match="not a task of this run"):
        slice_table(recs, rows, "length", task="pawsx")


def test_quantile_buckets_keep_ties_together():
    labels, order = quantile_buckets(pd.Series([5, 5, 5, 5, 9]), 4, integer=True)
    assert order == ["5", "9"] and labels.tolist() == ["5", "5", "5", "5", "9"]
    assert primary_metric(make_rows(), "xnli") == "accuracy"


def test_xrobust_slice_cli_formats_and_exit_codes(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    _slice_rows().to_csv(run / "rows.csv", index=False)
    _slice_records().to_parquet(run / "records.parquet", index=False)
    (run / "run.json").write_text(json.dumps({"seed": 3, "status": "complete"}))
    code, out, err = run_cli(["slice", run, "--by", "length", "--bins", "2", "--samples", "200"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Slices by length (pooled over every perturbation, every severity;")
    assert [c.strip() for c in lines[-1].split("|")[1:-1]][:9] == [
        "xnli", "en", "40–60", "accuracy", "3", "6", "100.0", "33.3", "+66.7"]
    code, out, _ = run_cli(["slice", run, "--by", "label", "--format", "json", "--samples", "200"], capsys)
    assert code == 0 and [r["slice"] for r in json.loads(out)] == ["p", "q"]
    code, out, _ = run_cli(["slice", run, "--by", "label", "--format", "csv", "--samples", "200"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("task,lang,by,slice,metric")
    code, _, err = run_cli(["slice", run, "--by", "cmi"], capsys)
    assert code == 2 and "no code-mixing index" in err
    code, _, err = run_cli(["slice", tmp_path / "nothing", "--by", "length"], capsys)
    assert code == 2 and "not a directory" in err
    (run / "records.parquet").unlink()
    code, _, err = run_cli(["slice", run, "--by", "length"], capsys)
    assert code == 2 and "records.parquet: not found" in err
