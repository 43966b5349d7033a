"""Ray executor: a local 2-CPU cluster gives records and rows identical to the local executor; option errors."""
from __future__ import annotations

import json
import sys
import textwrap

import pandas as pd
import pytest
from _util import run_cli, write_jsonl, xnli_rows

from harness.errors import ConfigError
from harness.executors import RayExecutor

LANGS = ("en", "hi", "zh")


@pytest.fixture
def suite(tmp_path):
    """One task, three languages (three units for two workers), two perturbations, two seeds."""
    for lang in LANGS:
        rows = [{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": r["label"]} for r in xnli_rows(lang, 20)]
        write_jsonl(tmp_path / "data" / f"{lang}.jsonl", rows)
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent("""\
        name: ray
        seed: 3
        seeds: [0, 1]
        tasks:
          - task: xnli
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [en, hi, zh]
            limit: 20
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
          - id: char.keyboard.v1
            severities: [0.3]
        stats: {bootstrap_samples: 100}
        """), encoding="utf-8")
    return p


def _run(args, capsys):
    code, stdout, stderr = run_cli(["run", *args, "-q"], capsys)
    assert code == 0, stderr
    return stdout


@pytest.mark.slow  # ~30 s: a local run, a Ray run (cluster start, two workers loading torch) and a cached run
def test_ray_on_a_local_2_cpu_cluster_gives_the_local_executors_records(suite, tiny_classifier_dir, tmp_path, capsys):
    # the local run skips the (per-test, empty) prediction cache; the Ray workers compute every output and fill it
    _run([suite, "--model", tiny_classifier_dir, "--out", tmp_path / "local", "--no-cache"], capsys)
    _run([suite, "--model", tiny_classifier_dir, "--out", tmp_path / "ray", "--executor", "ray", "--workers", "2"], capsys)
    local, ray = tmp_path / "local", tmp_path / "ray"
    records = pd.read_parquet(local / "records.parquet")
    assert len(records) == 3 * 5 * 20
    pd.testing.assert_frame_equal(records, pd.read_parquet(ray / "records.parquet"), check_exact=True)
    pd.testing.assert_frame_equal(pd.read_csv(local / "rows.csv").drop(columns="run_id"),
                                  pd.read_csv(ray / "rows.csv").drop(columns="run_id"), check_exact=True)
    assert sorted(p.name for p in (local / "parts").iterdir()) == sorted(p.name for p in (ray / "parts").iterdir())
    m_local = json.loads((local / "run.json").read_text())
    m_ray = json.loads((ray / "run.json").read_text())
    assert m_local["executor"] == {"name": "local"}
    per_worker = m_ray["executor"].pop("units_per_worker")
    assert m_ray["executor"] == {"name": "ray", "address": None, "workers": 2, "gpus_per_worker": 0.0,
                                 "devices": ["cpu/float32"]}
    assert sum(per_worker) == 3 and min(per_worker) >= 1  # both workers computed units
    assert m_ray["status"] == "complete" and m_ray["model_calls"] == m_local["model_calls"] > 0
    # what the workers wrote to the shared prediction cache serves a later local run entirely
    _run([suite, "--model", tiny_classifier_dir, "--out", tmp_path / "cached"], capsys)
    assert json.loads((tmp_path / "cached" / "run.json").read_text())["model_calls"] == 0
    pd.testing.assert_frame_equal(records, pd.read_parquet(tmp_path / "cached" / "records.parquet"), check_exact=True)


def test_missing_ray_is_a_usage_error_naming_the_extra(suite, tiny_classifier_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code, _, err = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "r", "--executor", "ray"],
                           capsys)
    assert code == 2 and "pip install 'xrobust[ray]'" in err
    assert not (tmp_path / "r").exists()  # refused before any model was loaded or directory written


@pytest.mark.parametrize("args, message", [
    (["--workers", "2"], "--workers: only with --executor ray"),
    (["--address", "auto", "--gpus-per-worker", "1"], "--address, --gpus-per-worker: only with --executor ray"),
    (["--executor", "dask"], "--executor must be local or ray, got 'dask'"),
    (["--executor", "ray", "--device", "cuda"], "--device cuda with --executor ray needs --gpus-per-worker"),
    (["--executor", "ray", "--workers", "0"], "--workers must be >= 1, got 0"),
])
def test_executor_option_errors(suite, tiny_classifier_dir, tmp_path, capsys, args, message):
    code, _, err = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "r", *args], capsys)
    assert code == 2 and message in " ".join(err.split())


def test_workers_fit_the_cluster_or_the_run_stops():
    ex = RayExecutor(dict, workers=None)
    assert ex._n_workers({"CPU": 2.0}, 3) == 2
    assert ex._n_workers({"CPU": 8.0}, 3) == 3  # never more workers than units
    gpu = RayExecutor(dict, gpus_per_worker=0.5)
    assert gpu._n_workers({"CPU": 16.0, "GPU": 2.0}, 10) == 4
    with pytest.raises(ConfigError, match="has 16 CPUs and 0 GPUs; 1 worker"):
        gpu._n_workers({"CPU": 16.0}, 10)
    with pytest.raises(ConfigError, match="has 2 CPUs and 0 GPUs; 3 worker"):
        RayExecutor(dict, workers=3)._n_workers({"CPU": 2.0}, 5)
