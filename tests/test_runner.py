"""Runner end to end on a tiny local checkpoint: user JSONL, rows, determinism, batch-size invariance, resume."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from _util import run_cli, write_jsonl, xnli_rows

from harness.runner import RECORD_COLUMNS, ROW_COLUMNS

LANGS = ("en", "hi", "zh")


@pytest.fixture
def user_suite(tmp_path):
    """A suite over plain JSONL files a user brings (premise, hypothesis, label)."""
    for lang in LANGS:
        rows = [{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": r["label"]} for r in xnli_rows(lang, 30)]
        write_jsonl(tmp_path / "mydata" / f"{lang}.jsonl", rows)
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent("""\
        name: user
        seed: 5
        seeds: [0, 1]
        tasks:
          - task: xnli
            data: {format: jsonl, path: "mydata/{lang}.jsonl"}
            languages: [en, hi, zh]
        perturbations:
          - id: char.swap.v1
            severities: [0.2, 0.6]
        stats: {bootstrap_samples: 200}
        """), encoding="utf-8")
    return p


def _run(suite, model, out, capsys, *extra):
    # --no-cache: these tests are about computing predictions (batch size, determinism, resume); tests/test_cache.py
    code, stdout, stderr = run_cli(["run", suite, "--model", model, "--out", out, "-q", "--no-cache", *extra], capsys)
    assert code == 0, stderr
    return stdout


def test_run_on_user_jsonl_writes_run_directory(user_suite, tiny_classifier_dir, tmp_path, capsys):
    out = tmp_path / "run"
    stdout = _run(user_suite, tiny_classifier_dir, out, capsys)
    assert {"run.json", "records.parquet", "rows.csv", "summary.md", "report.html"} <= {p.name for p in out.iterdir()}
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_cells"] == 3 * (1 + 2 * 2)
    assert len(manifest["checkpoint"]["fingerprint"]) == 64
    assert manifest["plugins"]["char.swap.v1"]["params"] == {"edits_per_word": 1, "unit": "word"}
    rows = pd.read_csv(out / "rows.csv")
    records = pd.read_parquet(out / "records.parquet")
    assert list(rows.columns) == ROW_COLUMNS and list(records.columns) == RECORD_COLUMNS
    assert len(records) == 3 * 5 * 30
    assert set(rows["metric"]) == {"accuracy", "macro_f1"}
    assert set(rows["family"]) == {"Indo-European", "Sino-Tibetan"} and set(rows["script"]) == {"Latn", "Deva", "Hani"}
    assert "report:" in stdout and "hi" in stdout


def test_rows_agree_exactly_with_records(user_suite, tiny_classifier_dir, tmp_path, capsys):
    out = tmp_path / "run"
    _run(user_suite, tiny_classifier_dir, out, capsys)
    rows = pd.read_csv(out / "rows.csv")
    records = pd.read_parquet(out / "records.parquet")
    acc = rows[rows.metric == "accuracy"].set_index(["lang", "perturbation", "severity", "seed"])
    for (lang, pert, sev, seed), g in records.groupby(["lang", "perturbation", "severity", "seed"]):
        r = acc.loc[(lang, pert, sev, seed)]
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert r["n"] == len(g) == 30
        assert r["value"] == pytest.approx(g["correct"].mean(), abs=1e-12)
        assert r["clean_value"] == pytest.approx(clean["correct"].mean(), abs=1e-12)
        assert r["abs_drop"] == pytest.approx(clean["correct"].mean() - g["correct"].mean(), abs=1e-12)
        assert r["n_applied"] == g["applied"].sum()
        assert r["flip_rate"] == pytest.approx(g["flipped"].mean(), abs=1e-12)
        assert r["mean_edit_rate"] == pytest.approx(g["edit_rate"].mean(), abs=1e-12)
        assert r["ci_low"] <= r["value"] <= r["ci_high"]
        assert r["drop_ci_low"] <= r["drop_ci_high"]
        if pert == "clean":
            assert r["abs_drop"] == 0 and r["drop_ci_low"] == 0 and r["drop_ci_high"] == 0 and r["n_applied"] == 0
    swapped = records[records.perturbation != "clean"]
    assert swapped["applied"].mean() > 0.5
    assert (swapped.loc[~swapped.applied, "perturbed_fields"] == "").all()


def test_same_suite_and_seed_twice_gives_identical_records(user_suite, tiny_classifier_dir, tmp_path, capsys):
    _run(user_suite, tiny_classifier_dir, tmp_path / "a", capsys)
    _run(user_suite, tiny_classifier_dir, tmp_path / "b", capsys)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "records.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "records.parquet"))
    ra = pd.read_csv(tmp_path / "a" / "rows.csv").drop(columns="run_id")
    rb = pd.read_csv(tmp_path / "b" / "rows.csv").drop(columns="run_id")
    pd.testing.assert_frame_equal(ra, rb)


def test_batch_size_1_and_32_give_identical_records(user_suite, tiny_classifier_dir, tmp_path, capsys):
    _run(user_suite, tiny_classifier_dir, tmp_path / "bs1", capsys, "--batch-size", "1")
    _run(user_suite, tiny_classifier_dir, tmp_path / "bs32", capsys, "--batch-size", "32")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "bs1" / "records.parquet"),
                                  pd.read_parquet(tmp_path / "bs32" / "records.parquet"))


def test_interrupted_run_resumes_without_redoing_finished_units(user_suite, tiny_classifier_dir, tmp_path, capsys):
    out = tmp_path / "run"
    _run(user_suite, tiny_classifier_dir, out, capsys)
    full = pd.read_parquet(out / "records.parquet")
    first_calls = json.loads((out / "run.json").read_text())["model_calls"]
    # simulate a run killed while the last unit (zh) was in flight
    for name in ("records.parquet", "rows.csv", "summary.md", "report.html"):
        (out / name).unlink()
    for p in (out / "parts").glob("00-xnli-zh.*"):
        p.unlink()
    manifest = json.loads((out / "run.json").read_text())
    manifest["status"] = "running"
    (out / "run.json").write_text(json.dumps(manifest))
    _run(user_suite, tiny_classifier_dir, out, capsys)
    resumed = json.loads((out / "run.json").read_text())
    pd.testing.assert_frame_equal(full, pd.read_parquet(out / "records.parquet"))
    assert resumed["status"] == "complete" and resumed["run_id"] == manifest["run_id"]
    assert 0 < resumed["model_calls"] < first_calls  # only the zh unit was predicted again


def test_out_dir_of_another_suite_is_refused(user_suite, tiny_classifier_dir, tmp_path, capsys):
    out = tmp_path / "run"
    _run(user_suite, tiny_classifier_dir, out, capsys)
    other = tmp_path / "other.yaml"
    other.write_text(user_suite.read_text().replace("name: user", "name: other"))
    code, _, err = run_cli(["run", other, "--model", tiny_classifier_dir, "--out", out, "-q"], capsys)
    assert code == 2 and "already holds a run of another suite" in err


def test_identical_inputs_are_predicted_once(tiny_classifier_dir):
    from harness.predictor import HFPredictor

    pred = HFPredictor(str(tiny_classifier_dir), batch_size=4)
    inputs = [("a b c", "d"), ("x", "y z"), ("a b c", "d"), ("x", "y z"), ("q", "r")]
    logits = pred.predict(inputs)
    assert pred.calls == 3
    np.testing.assert_array_equal(logits[0], logits[2])
    np.testing.assert_array_equal(logits[1], logits[3])
