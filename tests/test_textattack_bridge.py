"""TextAttack bridge (attacks/textattack_bridge): core stays free of textattack; recipes run offline in the extra's venv.

The main venv does not install textattack (it needs transformers<5): the tests that run recipes skip there with the
reason, and `.ci/textattack` runs this file in its own venv with XROBUST_REQUIRE_TEXTATTACK=1, where they must run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from attacks.textattack_bridge import (RECIPES, TextAttackUnavailable, private_dir, run_textattack,
                                       unavailable)
from attacks.textattack_bridge.bridge import STOPWORDS_FILE
from harness.errors import ConfigError
from harness.types import Example

HAVE_TA = find_spec("textattack") is not None
REQUIRED = os.environ.get("XROBUST_REQUIRE_TEXTATTACK") == "1"
if REQUIRED and not HAVE_TA:
    raise RuntimeError("XROBUST_REQUIRE_TEXTATTACK=1 but textattack is not importable in this venv")
needs_ta = pytest.mark.skipif(not HAVE_TA, reason="textattack is not installed in this venv (optional extra "
                              "xrobust[textattack]; .ci/textattack runs these tests in .venv-textattack)")
RUNNABLE = ("textattack.deepwordbug.v1", "textattack.pruthi2019.v1")
OFFLINE_BLOCKED = ("textattack.textbugger.v1", "textattack.badchar.v1")
BUDGET = 40


def test_core_never_imports_textattack() -> None:
    """Importing the harness, its CLI and runner, and every plugin (the bridge included) loads no textattack module."""
    code = ("import sys, harness, harness.cli, harness.runner, attacks, attacks.textattack_bridge as b; "
            "b.unavailable('textattack.textbugger.v1'); from harness.attack import ATTACKS; ATTACKS.names(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textattack'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stopword_file_is_a_plain_english_list() -> None:
    words = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(words) == len(set(words)) == 179
    assert all(w == w.strip().lower() and w for w in words)
    assert {"the", "and", "not", "don't", "wouldn't"} <= set(words)


def test_unknown_and_unavailable_recipes_are_reported() -> None:
    with pytest.raises(ConfigError, match="unknown TextAttack recipe 'textattack.nope.v1'"):
        unavailable("textattack.nope.v1")
    for rid in RUNNABLE:
        assert unavailable(rid) == ("" if HAVE_TA else
                                    "textattack is not installed (install the extra: pip install 'xrobust[textattack]')")
    for rid in OFFLINE_BLOCKED:
        assert "intentional_homoglyphs.txt" in unavailable(rid) or not HAVE_TA
        with pytest.raises(TextAttackUnavailable, match=f"^{rid}: .*(intentional_homoglyphs|not installed)"):
            run_textattack(rid, "unused-model-dir", [])
    assert set(RECIPES) == set(RUNNABLE) | set(OFFLINE_BLOCKED)


def test_recipes_are_registered_attacks_that_refuse_what_they_cannot_do() -> None:
    from harness.attack import ATTACKS, make_attack

    assert {n for n in ATTACKS.names() if n.startswith("textattack.")} == set(RECIPES)
    attack = make_attack("textattack.deepwordbug.v1", {"query_budget": 7})
    assert attack.params() == {"query_budget": 7}
    assert attack.supports("token_classification", True) == (
        "textattack.deepwordbug.v1: TextAttack's recipes attack classifiers only, not token_classification")
    assert attack.supports("sequence_classification", False) == ("" if HAVE_TA else "textattack.deepwordbug.v1 is "
                                                        "unavailable: " + unavailable("textattack.deepwordbug.v1"))
    assert make_attack("textattack.textbugger.v1").supports("sequence_classification", False).startswith(
        "textattack.textbugger.v1 is unavailable: ")
    with pytest.raises(ConfigError, match="bad parameters"):
        make_attack("textattack.pruthi2019.v1", {"budget": 3})


@needs_ta
def test_offline_blockers_are_real() -> None:
    """The reason we give for TextBugger and BadCharacters holds for the installed textattack: the file is missing."""
    spec = find_spec("textattack")
    assert spec is not None and spec.origin is not None
    assert not (Path(spec.origin).parent / "shared" / "intentional_homoglyphs.txt").exists()


def _xnli(shared_data: Path, n: int) -> list[Example]:
    rows = [json.loads(line) for line in (shared_data / "xtreme_r" / "xnli" / "en.jsonl").open(encoding="utf-8")]
    return [Example(r["id"], "en", {"premise": r["premise"], "hypothesis": r["hypothesis"]}, r["label"])
            for r in rows[:n]]


@pytest.fixture(scope="module")
def ta_runs(tmp_path_factory: pytest.TempPathFactory, tiny_classifier_dir: Path, shared_data: Path):
    """Both runnable recipes on 10 XNLI en pairs, DeepWordBug twice (determinism), in a private xrobust cache dir."""
    examples = _xnli(shared_data, 10)
    env_before = {k: os.environ.get(k) for k in ("HF_HOME", "XDG_CACHE_HOME", "TA_CACHE_DIR", "NLTK_DATA")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XROBUST_CACHE_DIR", str(tmp_path_factory.mktemp("xrobust-cache")))
        runs = {rid: run_textattack(rid, tiny_classifier_dir, examples, query_budget=BUDGET, seed=0)
                for rid in RUNNABLE}
        again = run_textattack(RUNNABLE[0], tiny_classifier_dir, examples, query_budget=BUDGET, seed=0)
        root = private_dir()
    env_after = {k: os.environ.get(k) for k in env_before}
    return examples, runs, again, root, env_before, env_after


@pytest.mark.slow
@needs_ta
def test_recipes_run_offline_with_valid_outcomes(ta_runs, tiny_classifier_dir: Path) -> None:
    from harness.predictor import HFPredictor
    from harness.tasks import get_recipe, make_adapter

    examples, runs, _, _, _, _ = ta_runs
    predictor = HFPredictor(str(tiny_classifier_dir), head="sequence_classification", device="cpu")
    adapter = make_adapter(get_recipe("xnli"), predictor, {}, "test")
    clean = adapter.predict(predictor, [[adapter.clean_variant(ex) for ex in examples]])[0]
    assert len(set(clean)) > 1  # the fixture's predictions vary, so the outcomes below are not all alike
    for rid, results in runs.items():
        assert len(results) == len(examples)
        for ex, res, pred in zip(examples, results, clean):
            assert set(res.fields) == {"premise", "hypothesis"}
            # TextAttack skips exactly the examples the checkpoint already gets wrong (same prediction as ours)
            assert (res.outcome == "skipped") == (pred != ex.label), (rid, ex.id)
            if res.outcome == "skipped":
                assert (res.fields, res.queries, res.pred, res.words_changed) == (dict(ex.fields), 1, pred, 0)
            else:
                assert 1 < res.queries <= BUDGET
                assert (res.outcome == "succeeded") == (res.pred != ex.label), (rid, ex.id)
                assert (res.words_changed > 0) == (res.fields != dict(ex.fields))
            if res.outcome == "succeeded":  # the returned text really flips our own prediction too
                variant = adapter.clean_variant(Example(ex.id, "en", res.fields, ex.label))
                assert adapter.predict(predictor, [[variant]])[0] == [res.pred]
        if rid == "textattack.pruthi2019.v1":  # the recipe edits at most one word
            assert all(r.words_changed <= 1 for r in results)
    assert any(r.outcome != "skipped" for r in runs[RUNNABLE[0]])


@needs_ta
def test_fixed_seed_repeats_exactly(ta_runs) -> None:
    _, runs, again, _, _, _ = ta_runs
    assert again == runs[RUNNABLE[0]]


@needs_ta
def test_import_stays_private(ta_runs) -> None:
    """TextAttack's cache and NLTK data live under the xrobust cache dir; the process environment is restored."""
    import nltk.data
    import textattack.shared.utils.install as ta_install

    _, _, _, root, env_before, env_after = ta_runs
    assert env_after == env_before
    if ta_install.TEXTATTACK_CACHE_DIR == str(root / "cache"):  # this process imported textattack through us
        assert (root / "cache" / "post_install_check_3").is_file()
        assert (root / "nltk_data" / "corpora" / "stopwords" / "english").read_bytes() == STOPWORDS_FILE.read_bytes()
        assert nltk.data.path[0] == str(root / "nltk_data")
    else:
        pytest.fail(f"textattack was imported before the bridge ran (cache {ta_install.TEXTATTACK_CACHE_DIR})")


@pytest.mark.slow
@needs_ta
def test_registered_attack_gives_textattack_results_as_variants(ta_runs, tiny_classifier_dir: Path) -> None:
    """Through the Attack API (what the runner calls): same outcomes, queries and texts as run_textattack with the
    same seed, variants made by the adapter's perturbation path, predictions the adapter's own."""
    from harness.attack import make_attack, outcome_stats
    from harness.predictor import HFPredictor
    from harness.tasks import get_recipe, make_adapter
    from harness.types import Cell

    examples, runs, _, _, _, _ = ta_runs
    rid = RUNNABLE[0]
    predictor = HFPredictor(str(tiny_classifier_dir), head="sequence_classification", device="cpu")
    adapter = make_adapter(get_recipe("xnli"), predictor, {}, "test")
    run = make_attack(rid, {"query_budget": BUDGET}).run(adapter, predictor, examples, Cell("xnli", "en", rid, 1.0, 0),
                                                         ("premise", "hypothesis"))
    expected = runs[rid]
    assert [o.status for o in run.outcomes] == [r.outcome for r in expected]
    assert [o.queries for o in run.outcomes] == [r.queries for r in expected]
    assert [dict(v.fields) for v in run.variants] == [r.fields for r in expected]
    assert run.preds == [r.pred for r in expected]
    assert [o.n_edited for o in run.outcomes] == [r.words_changed for r in expected]
    assert [v.applied for v in run.variants] == [r.words_changed > 0 for r in expected]
    won = [r for r in expected if r.outcome == "succeeded"]
    attacked = [r for r in expected if r.outcome != "skipped"]
    stats = outcome_stats(run.outcomes)
    assert stats["attack_success_rate"] == len(won) / len(attacked)
    assert stats["mean_queries"] == sum(r.queries for r in attacked) / len(attacked)
