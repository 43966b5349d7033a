"""kill -9 in the middle of `xrobust run`, then the same command again: exactly the records of an uninterrupted
run, finished units are not redone, and with the prediction cache the killed unit's finished batches are reused."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from _util import REPO, write_jsonl, xnli_rows

from harness.cache import CACHE_FILE, open_cache
from harness.cli import main

pytestmark = pytest.mark.slow  # two subprocess runs (torch import each) and four in-process runs
LANGS = ("en", "hi", "zh")


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    """3 languages (3 units) x 40 XNLI rows x 5 cells: each unit takes long enough to be killed inside."""
    root = tmp_path_factory.mktemp("resume-suite")
    for lang in LANGS:
        write_jsonl(root / "data" / f"{lang}.jsonl", xnli_rows(lang, 40))
    p = root / "suite.yaml"
    p.write_text(textwrap.dedent("""\
        name: resume-test
        tasks:
          - task: xnli
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [en, hi, zh]
        perturbations:
          - id: char.swap.v1
            severities: [0.3, 0.6]
          - id: char.delete.v1
            severities: [0.3, 0.6]
        """), encoding="utf-8")
    return p


def _args(suite: Path, model: Path, out: Path, *extra) -> list[str]:
    return ["run", str(suite), "--model", str(model), "--out", str(out), "-q", "--batch-size", "4", *map(str, extra)]


def _run_in_process(args: list[str]) -> dict:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 0
    return json.loads((Path(args[args.index("--out") + 1]) / "run.json").read_text())


@pytest.fixture(scope="module")
def reference(suite, tiny_classifier_dir, tmp_path_factory) -> tuple[Path, dict]:
    """An uninterrupted run without the cache."""
    out = tmp_path_factory.mktemp("reference") / "run"
    return out, _run_in_process(_args(suite, tiny_classifier_dir, out, "--no-cache"))


def _kill_when(args: list[str], ready, log: Path, timeout: float = 300) -> None:
    """Start `xrobust <args>` in a subprocess and SIGKILL it as soon as `ready()` holds."""
    with log.open("w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=REPO, stdout=f, stderr=f)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}) before it could be killed:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"nothing to kill it on after {timeout} s:\n{log.read_text()}")
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _cache_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM outputs").fetchone()[0]
    except sqlite3.Error:  # created but no table yet
        return 0


def _assert_same_run(out: Path, reference: tuple[Path, dict]) -> dict:
    ref_dir, _ = reference
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete"
    pd.testing.assert_frame_equal(pd.read_parquet(ref_dir / "records.parquet"), pd.read_parquet(out / "records.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(ref_dir / "rows.csv").drop(columns="run_id"),
                                  pd.read_csv(out / "rows.csv").drop(columns="run_id"))
    return manifest


def _snapshot(parts: Path, done: list[Path]) -> dict[Path, tuple[int, int]]:
    files = [p for d in done for p in parts.glob(d.name.removesuffix(".done") + ".*")]
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files}


def test_kill_after_a_unit_then_rerun_gives_the_uninterrupted_records(suite, tiny_classifier_dir, reference, tmp_path):
    out = tmp_path / "run"
    args = _args(suite, tiny_classifier_dir, out, "--no-cache")
    _kill_when(args, lambda: any((out / "parts").glob("*.done")), tmp_path / "killed.log")
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    assert not (out / "records.parquet").exists()
    done = sorted((out / "parts").glob("*.done"))
    assert 1 <= len(done) < len(LANGS)
    before = _snapshot(out / "parts", done)
    manifest = _run_in_process(args)  # the same command again
    _assert_same_run(out, reference)
    assert _snapshot(out / "parts", done) == before  # finished units were read back, not recomputed or rewritten
    assert 0 < manifest["model_calls"] < reference[1]["model_calls"]
    assert manifest["resumed_from"] and manifest["run_id"] == json.loads((out / "run.json").read_text())["run_id"]


def test_kill_mid_unit_reuses_the_cached_batches(suite, tiny_classifier_dir, reference, tmp_path):
    out, cache_dir = tmp_path / "run", tmp_path / "cache"
    args = _args(suite, tiny_classifier_dir, out, "--cache-dir", cache_dir)
    _kill_when(args, lambda: _cache_rows(cache_dir / CACHE_FILE) > 0, tmp_path / "killed.log")  # first batches stored
    rows_at_kill = _cache_rows(cache_dir / CACHE_FILE)
    done = sorted((out / "parts").glob("*.done"))
    assert rows_at_kill > 0 and len(done) < len(LANGS)
    manifest = _run_in_process(args)
    _assert_same_run(out, reference)
    stored = len(open_cache(cache_dir))
    # every model call of the resumed run stored one new output; everything stored before the kill was reused
    assert manifest["model_calls"] == stored - rows_at_kill
    assert stored == reference[1]["model_calls"]  # all outputs of the suite, each computed exactly once overall
    assert manifest["model_calls"] < reference[1]["model_calls"]
    assert _run_in_process(_args(suite, tiny_classifier_dir, tmp_path / "again", "--cache-dir", cache_dir))[
        "model_calls"] == 0


def test_ctrl_c_names_what_is_kept_and_how_to_resume(suite, tiny_classifier_dir, reference, tmp_path, capsys,
                                                      monkeypatch):
    """A KeyboardInterrupt (Ctrl-C) after the first unit: exit 130, one line saying how many units are kept and the
    --out that resumes, no traceback; the same command then completes with the uninterrupted records."""
    import harness.runner
    from harness.executors import LocalExecutor

    class CtrlCAfterOneUnit(LocalExecutor):
        def run(self, *args, **kwargs):
            units = super().run(*args, **kwargs)
            yield next(units)
            raise KeyboardInterrupt

    out = tmp_path / "run"
    args = _args(suite, tiny_classifier_dir, out, "--no-cache")
    with monkeypatch.context() as m:
        m.setattr(harness.runner, "LocalExecutor", CtrlCAfterOneUnit)
        with pytest.raises(SystemExit) as exc:
            main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 130 and "Traceback" not in err and "error" not in err
    assert " ".join(err.split()) == (f"interrupted: 1 of 3 (task, language) units are finished and kept in "
                                     f"{out / 'parts'}; run the same command with --out {out} to resume (only the "
                                     "other units are computed)")
    assert len(list((out / "parts").glob("*.done"))) == 1
    _run_in_process(args)
    _assert_same_run(out, reference)
