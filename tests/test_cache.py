"""Prediction cache: a re-run makes no model calls and gives identical records; keys separate checkpoints,
dtypes and output kinds; a broken, locked or shared cache database never breaks a run."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _util import REPO, run_cli, write_jsonl, xnli_rows

from harness.cache import CACHE_FILE, CacheWarning, PredictionCache, feature_key, namespace, open_cache
from harness.errors import CheckpointError, ConfigError
from harness.predictor import HFPredictor

LANGS = ("en", "hi", "zh")
TEXTS = ["The cat sat on the mat.", "Der Hund schläft.", "यह एक परीक्षण है।", "这是一个测试。", "The cat sat on the mat."]


@pytest.fixture
def suite(tmp_path):
    """3 languages x 40 XNLI rows, clean + two swap severities."""
    for lang in LANGS:
        write_jsonl(tmp_path / "data" / f"{lang}.jsonl", xnli_rows(lang, 40))
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent("""\
        name: cache-test
        tasks:
          - task: xnli
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [en, hi, zh]
        perturbations:
          - id: char.swap.v1
            severities: [0.3, 0.6]
        stats: {bootstrap_samples: 100}
        """), encoding="utf-8")
    return p


def _run(suite, model, out, capsys, *extra) -> dict:
    code, _, stderr = run_cli(["run", suite, "--model", model, "--out", out, "-q", *extra], capsys)
    assert code == 0, stderr
    return json.loads((out / "run.json").read_text())


def _features(pred: HFPredictor, texts=TEXTS) -> list[tuple]:
    return [tuple(ids) for ids in pred.tokenizer(list(texts), truncation=True, max_length=pred.max_length)["input_ids"]]


def test_rerun_makes_no_model_calls_and_gives_identical_records(suite, tiny_classifier_dir, tmp_path, capsys):
    cache_dir = tmp_path / "cache"
    first = _run(suite, tiny_classifier_dir, tmp_path / "a", capsys, "--cache-dir", cache_dir)
    again = _run(suite, tiny_classifier_dir, tmp_path / "b", capsys, "--cache-dir", cache_dir)
    uncached = _run(suite, tiny_classifier_dir, tmp_path / "c", capsys, "--no-cache")
    assert first["model_calls"] > 0 and again["model_calls"] == 0
    assert uncached["model_calls"] == first["model_calls"]  # a cold cache computes exactly what no cache does
    assert len(open_cache(cache_dir)) == first["model_calls"]  # every computed output stored once
    records = [pd.read_parquet(tmp_path / d / "records.parquet") for d in "abc"]
    pd.testing.assert_frame_equal(records[0], records[1])
    pd.testing.assert_frame_equal(records[0], records[2])
    rows = [pd.read_csv(tmp_path / d / "rows.csv").drop(columns="run_id") for d in "ab"]
    pd.testing.assert_frame_equal(rows[0], rows[1])
    assert not (Path(os.environ["XROBUST_PREDICTION_CACHE_DIR"]) / CACHE_FILE).exists()  # --no-cache opened none


def test_default_location_follows_the_environment(suite, tiny_classifier_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XROBUST_PREDICTION_CACHE_DIR", str(tmp_path / "env-cache"))
    first = _run(suite, tiny_classifier_dir, tmp_path / "a", capsys)
    assert len(open_cache(tmp_path / "env-cache")) == first["model_calls"] > 0
    assert _run(suite, tiny_classifier_dir, tmp_path / "b", capsys)["model_calls"] == 0


def test_checkpoint_dtype_and_kind_are_part_of_the_key(tiny_classifier_dir, tiny_tokenizer_dir, tmp_path):
    from conftest import TINY_LABELS

    from harness.modelbuild import build_tiny_model

    cache = open_cache(tmp_path / "cache")
    p1 = HFPredictor(str(tiny_classifier_dir), cache=cache)
    feats = _features(p1)
    out1 = p1.forward(feats)
    assert (p1.calls, p1.cache_hits) == (4, 0)  # 5 texts, one repeated
    p2 = HFPredictor(str(tiny_classifier_dir), cache=cache, batch_size=1)
    seen = []
    out2 = p2.forward(list(reversed(feats)), progress=lambda done, total: seen.append((done, total)))
    assert (p2.calls, p2.cache_hits, seen) == (0, 4, [(4, 4)])
    for a, b in zip(out1, reversed(out2)):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    bf16 = HFPredictor(str(tiny_classifier_dir), cache=cache, dtype="bfloat16")
    bf16.forward(feats)
    assert bf16.calls == 4
    p1.forward(feats, "mean_hidden:-1")
    assert p1.calls == 4 + 4
    other_dir = build_tiny_model(tmp_path / "other", tiny_tokenizer_dir, "sequence_classification", TINY_LABELS, seed=1)
    other = HFPredictor(str(other_dir), cache=cache)
    assert other.fingerprint != p1.fingerprint
    other.forward(feats)
    assert other.calls == 4
    assert len(cache) == 4 * 4  # fp32 logits, bf16 logits, fp32 pooled, the other checkpoint's logits


def test_per_token_and_multiple_choice_outputs_round_trip(tiny_ner_dir, tiny_choice_dir, tmp_path):
    cache = open_cache(tmp_path / "cache")
    ner = HFPredictor(str(tiny_ner_dir), head="token_classification", cache=cache)
    feats = _features(ner)
    computed = ner.forward(feats, "token_logits")
    again = HFPredictor(str(tiny_ner_dir), head="token_classification", cache=cache)
    cached = again.forward(feats, "token_logits")
    assert again.calls == 0 and [a.shape for a in cached] == [(len(f), 7) for f in feats]
    for a, b in zip(computed, cached):
        np.testing.assert_array_equal(a, b)
    choice = HFPredictor(str(tiny_choice_dir), head="multiple_choice", cache=cache)
    flat = _features(choice)
    nested = [(flat[0], flat[1]), (flat[2], flat[3]), (flat[1], flat[0])]
    computed = choice.forward(nested, "logits")
    again = HFPredictor(str(tiny_choice_dir), head="multiple_choice", cache=cache)
    cached = again.forward(nested, "logits")
    assert again.calls == 0 and [a.shape for a in cached] == [(2,)] * 3
    for a, b in zip(computed, cached):
        np.testing.assert_array_equal(a, b)


def test_keys_separate_structure_and_namespace():
    ns = namespace("f" * 64, "logits", "float32")
    keys = {feature_key(ns, (1, 2, 3)), feature_key(ns, ((1, 2, 3),)), feature_key(ns, ((1, 2), (3,))),
            feature_key(ns, ((1,), (2, 3))), feature_key(namespace("f" * 64, "logits", "bfloat16"), (1, 2, 3)),
            feature_key(namespace("e" * 64, "logits", "float32"), (1, 2, 3)),
            feature_key(namespace("f" * 64, "mean_hidden:-1", "float32"), (1, 2, 3))}
    assert len(keys) == 7 and {len(k) for k in keys} == {16}
    assert feature_key(ns, (1, 2, 3)) == feature_key(namespace("f" * 64, "logits", "float32"), (1, 2, 3))


def test_corrupted_cache_is_moved_aside_and_rebuilt(suite, tiny_classifier_dir, tmp_path, capsys):
    reference = _run(suite, tiny_classifier_dir, tmp_path / "ref", capsys, "--no-cache")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE).write_bytes(b"this is not a database\n" * 100)
    with pytest.warns(CacheWarning, match="unreadable"):
        first = _run(suite, tiny_classifier_dir, tmp_path / "a", capsys, "--cache-dir", cache_dir)
    assert first["model_calls"] == reference["model_calls"]
    [aside] = cache_dir.glob(f"{CACHE_FILE}.broken-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert _run(suite, tiny_classifier_dir, tmp_path / "b", capsys, "--cache-dir", cache_dir)["model_calls"] == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ref" / "records.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "records.parquet"))


def test_torn_row_is_a_miss(tiny_classifier_dir, tmp_path):
    cache = open_cache(tmp_path / "cache")
    p = HFPredictor(str(tiny_classifier_dir), cache=cache)
    feats = _features(p)[:1]
    out = p.forward(feats)
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE outputs SET data = substr(data, 1, 5)")
    again = HFPredictor(str(tiny_classifier_dir), cache=cache)
    np.testing.assert_array_equal(again.forward(feats)[0], out[0])
    assert again.calls == 1


def test_locked_cache_falls_back_to_the_model_with_a_warning(tiny_classifier_dir, tmp_path):
    path = tmp_path / "cache" / CACHE_FILE
    cache = PredictionCache(path, timeout=0.1)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock for longer than our timeout
    blocker.execute("INSERT INTO outputs VALUES (x'00', '', x'00000000')")
    try:
        reference = HFPredictor(str(tiny_classifier_dir))
        feats = _features(reference)
        with pytest.warns(CacheWarning, match="database is locked"):  # remembering the fingerprint, or storing outputs
            p = HFPredictor(str(tiny_classifier_dir), cache=cache)
            out = p.forward(feats)
        assert p.calls == 4 and not cache.enabled
        for a, b in zip(out, reference.forward(feats)):
            np.testing.assert_array_equal(a, b)
        p.forward(feats)  # switched off for the rest of the process: no second warning, no cache
        assert p.calls == 8
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_unusable_cache_location_is_a_clear_usage_error(suite, tiny_classifier_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "a", "-q",
                            "--cache-dir", tmp_path / "file"], capsys)
    assert code == 2 and "not a directory" in err and "Traceback" not in err
    path = tmp_path / "journal" / CACHE_FILE
    path.parent.mkdir()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # a rollback-journal database locked by someone else: cannot switch to WAL
    try:
        with pytest.raises(ConfigError, match="database is locked; pass --cache-dir DIR or --no-cache"):
            PredictionCache(path, timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


WRITER = """
import sys
import numpy as np
from harness.cache import PredictionCache
cache = PredictionCache(sys.argv[1], timeout=30)
start = int(sys.argv[2])
for i in range(start, start + 600, 5):  # 120 small transactions, half of the keys shared with the other writer
    cache.put([(k.to_bytes(16, "big"), np.full(3, k, dtype=np.float32)) for k in range(i, i + 5)])
"""


def test_concurrent_writers_share_one_database(tmp_path):
    path = tmp_path / "shared" / CACHE_FILE
    PredictionCache(path)
    procs = [subprocess.Popen([sys.executable, "-W", "error", "-c", WRITER, str(path), str(s)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for s in (0, 300)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    cache = PredictionCache(path)
    assert len(cache) == 900
    keys = [k.to_bytes(16, "big") for k in (0, 299, 300, 599, 899)]
    assert [float(a[0]) for a in cache.get(keys)] == [0.0, 299.0, 300.0, 599.0, 899.0]


def test_cache_handle_pickles_for_worker_processes(tmp_path):
    import pickle

    cache = PredictionCache(tmp_path / "c" / CACHE_FILE)
    cache.put([(b"k" * 16, np.arange(6, dtype=np.float32).reshape(2, 3))])
    copy = pickle.loads(pickle.dumps(cache))  # what Ray does with a predictor factory that holds the cache
    assert copy.path == cache.path and copy is not cache
    [arr] = copy.get([b"k" * 16])
    np.testing.assert_array_equal(arr, np.arange(6, dtype=np.float32).reshape(2, 3))


def test_cached_rerun_never_loads_the_weights(suite, tiny_classifier_dir, tmp_path, capsys, monkeypatch):
    import transformers

    cache_dir = tmp_path / "cache"
    first = _run(suite, tiny_classifier_dir, tmp_path / "a", capsys, "--cache-dir", cache_dir)

    def refuse(*args, **kwargs):
        raise AssertionError("a fully cached re-run loaded the weights")

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", refuse)
    again = _run(suite, tiny_classifier_dir, tmp_path / "b", capsys, "--cache-dir", cache_dir)
    assert again["model_calls"] == 0 and again["checkpoint"]["fingerprint"] == first["checkpoint"]["fingerprint"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "records.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "records.parquet"))
    with pytest.raises(AssertionError, match="loaded the weights"):  # without the cache it must load them
        HFPredictor(str(tiny_classifier_dir))


def test_weights_load_at_the_first_cache_miss(tiny_classifier_dir, tmp_path):
    cache = open_cache(tmp_path / "cache")
    eager = HFPredictor(str(tiny_classifier_dir), cache=cache)
    assert eager.model_loaded  # first sight of these files: loaded and fingerprinted
    feats = _features(eager)
    seen = eager.forward(feats[:2])
    lazy = HFPredictor(str(tiny_classifier_dir), cache=cache)
    assert not lazy.model_loaded and lazy.fingerprint == eager.fingerprint
    assert lazy.id2label == eager.id2label and lazy.name_or_path == eager.name_or_path
    for a, b in zip(lazy.forward(feats[:2]), seen):
        np.testing.assert_array_equal(a, b)
    assert not lazy.model_loaded and lazy.calls == 0
    out = lazy.forward(feats)  # three new inputs: the weights load now
    assert lazy.model_loaded and lazy.calls == 2 and lazy.fingerprint == eager.fingerprint
    for a, b in zip(out, HFPredictor(str(tiny_classifier_dir)).forward(feats)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # other batch compositions: float rounding only
    assert HFPredictor(str(tiny_classifier_dir)).model_loaded  # no cache: nothing remembered, loaded at once


def test_rewritten_checkpoint_is_fingerprinted_again(tiny_tokenizer_dir, tmp_path):
    from conftest import TINY_LABELS

    from harness.modelbuild import build_tiny_model

    cache = open_cache(tmp_path / "cache")
    model_dir = build_tiny_model(tmp_path / "m", tiny_tokenizer_dir, "sequence_classification", TINY_LABELS, seed=0)
    before = HFPredictor(str(model_dir), cache=cache).fingerprint
    assert not HFPredictor(str(model_dir), cache=cache).model_loaded
    build_tiny_model(tmp_path / "m", tiny_tokenizer_dir, "sequence_classification", TINY_LABELS, seed=1)
    after = HFPredictor(str(model_dir), cache=cache)
    assert after.model_loaded and after.fingerprint != before  # new files: loaded and hashed, not trusted
    (model_dir / "extra.txt").write_text("x")  # any file added to the directory counts as a change too
    assert HFPredictor(str(model_dir), cache=cache).model_loaded


def test_remembered_fingerprint_is_checked_when_the_weights_load(tiny_classifier_dir, tmp_path):
    cache = open_cache(tmp_path / "cache")
    truth = HFPredictor(str(tiny_classifier_dir), cache=cache).fingerprint
    with sqlite3.connect(cache.path) as conn:  # as if the weights changed with every stat field kept
        conn.execute("UPDATE fingerprints SET fingerprint = ?", ("0" * 64,))
    fooled = HFPredictor(str(tiny_classifier_dir), cache=cache)
    assert not fooled.model_loaded and fooled.fingerprint == "0" * 64
    with pytest.raises(CheckpointError, match=r"weights changed .* \(fingerprint 000000000000 remembered by the "
                                              r"prediction cache, " + truth[:12] + r" now\)"):
        fooled.forward(_features(fooled))
    fixed = HFPredictor(str(tiny_classifier_dir), cache=cache)  # the record was corrected
    assert not fixed.model_loaded and fixed.fingerprint == truth


HUB_DRIVER = """
import sys
import transformers

if sys.argv[1] == "refuse":  # a fully cached re-run must not load the weights
    def refuse(*args, **kwargs):
        raise AssertionError("weights loaded")
    transformers.AutoModelForSequenceClassification.from_pretrained = refuse
from harness.cli import main
sys.argv = ["xrobust", *sys.argv[2:]]
main()
"""


def test_hub_id_loads_from_the_offline_cache_and_reruns_without_the_weights(suite, tiny_classifier_dir, tmp_path,
                                                                           capsys):
    """`--model ORG/NAME` goes through from_pretrained(hub id): offline, from a Hugging Face cache laid out as the
    hub client writes it (refs/main -> snapshots/<commit>/); a re-run serves every output from the prediction
    cache without loading the weights (the snapshot's files identify them)."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--xrobust-test--tiny-xnli"
    shutil.copytree(tiny_classifier_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}

    def cli(mode: str, out: Path, model: str = "xrobust-test/tiny-xnli") -> subprocess.CompletedProcess:
        args = ["run", str(suite), "--model", model, "--out", str(out), "-q", "--cache-dir", str(tmp_path / "cache")]
        return subprocess.run([sys.executable, "-c", HUB_DRIVER, mode, *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    first = cli("load", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    manifest = json.loads((tmp_path / "a" / "run.json").read_text())
    assert manifest["checkpoint"]["source"] == "xrobust-test/tiny-xnli" and manifest["model_calls"] > 0
    assert manifest["checkpoint"]["fingerprint"] == HFPredictor(str(tiny_classifier_dir)).fingerprint
    local = _run(suite, tiny_classifier_dir, tmp_path / "local", capsys, "--no-cache")  # the same weights from a dir
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "records.parquet"),
                                  pd.read_parquet(tmp_path / "local" / "records.parquet"))
    again = cli("refuse", tmp_path / "b")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "b" / "run.json").read_text())["model_calls"] == 0
    missing = cli("load", tmp_path / "c", "xrobust-test/not-cached")
    assert missing.returncode == 2 and "xrobust-test/not-cached" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_cache_info_and_clear(suite, tiny_classifier_dir, tmp_path, capsys, monkeypatch):
    cache_dir = tmp_path / "cache"
    code, stdout, _ = run_cli(["cache", "info", "--cache-dir", cache_dir], capsys)
    assert code == 0 and "no prediction cache yet" in stdout
    first = _run(suite, tiny_classifier_dir, tmp_path / "a", capsys, "--cache-dir", cache_dir)
    code, stdout, _ = run_cli(["cache", "info", "--cache-dir", cache_dir], capsys)
    assert code == 0 and f"{first['model_calls']:,} model outputs, 1 checkpoint fingerprints remembered" in stdout
    path = cache_dir / CACHE_FILE
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a run writing to it
    try:
        monkeypatch.setattr("harness.cache.CLEAR_TIMEOUT", 0.1)
        code, _, stderr = run_cli(["cache", "clear", "--cache-dir", cache_dir], capsys)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert code == 2 and "another xrobust process is probably using it" in stderr and "Traceback" not in stderr
    size = open_cache(cache_dir).info()["bytes"]  # database + write-ahead log
    code, stdout, _ = run_cli(["cache", "clear", "--cache-dir", cache_dir], capsys)
    assert code == 0 and f"deleted {first['model_calls']:,} model outputs" in " ".join(stdout.split())
    assert open_cache(cache_dir).info()["bytes"] < size
    assert len(open_cache(cache_dir)) == 0
    again = _run(suite, tiny_classifier_dir, tmp_path / "b", capsys, "--cache-dir", cache_dir)
    assert again["model_calls"] == first["model_calls"]  # everything recomputed after the clear


def test_distributed_driver_does_not_load_weights_the_cache_knows(suite, tiny_classifier_dir, tmp_path, capsys,
                                                                  monkeypatch):
    """With an executor (Ray), the driver builds predictors only to fingerprint the checkpoints: with the prediction
    cache, one it has fingerprinted before is not loaded at all."""
    import transformers

    import harness.cli
    from harness.executors import LocalExecutor

    cache_dir = tmp_path / "cache"
    _run(suite, tiny_classifier_dir, tmp_path / "a", capsys, "--cache-dir", cache_dir)

    def refuse(*args, **kwargs):
        raise AssertionError("the driver loaded the weights")

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", refuse)
    monkeypatch.setattr(harness.cli, "_executor", lambda *a, **k: LocalExecutor())  # stands in for --executor ray
    again = _run(suite, tiny_classifier_dir, tmp_path / "b", capsys, "--cache-dir", cache_dir)
    assert again["model_calls"] == 0
