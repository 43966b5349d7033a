"""`xrobust gate` and `xrobust baseline update` end to end on the tiny classifier: self-gate passes for 100
bootstrap seeds, a degraded copy fails naming its cells (and passes once the tolerance is above its drop),
mismatched runs are refused with exit 2 naming the difference, too-small cells are reported."""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import yaml
from _util import REPO, SHARED, run_cli, write_jsonl, xnli_rows

from harness.baseline import BASELINE_RECORD_COLUMNS
from harness.gate import run_gate
from harness.suite import GateSpec, load_suite

LANGS = ("en", "de", "hi")
N = 60
GATE = {"alpha": 0.05, "min_n": 30, "bootstrap_samples": 500,
        "tolerance": {"clean": 0.05, "degradation": 0.05}}


def _suite_text(gate: dict, swap_params: dict | None = None) -> str:
    suite = {
        "name": "gatetest", "seed": 3, "seeds": [0],
        "tasks": [{"task": "xnli", "data": {"format": "jsonl", "path": "data/{lang}.jsonl"},
                   "languages": list(LANGS), "limit": N}],
        "perturbations": [{"id": "char.swap.v1", "severities": [0.3], "params": swap_params or {}},
                          {"id": "char.delete.v1", "severities": [0.3]}],
        "stats": {"bootstrap_samples": 200},
        "gate": gate,
    }
    return yaml.safe_dump(suite, sort_keys=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Data: English rows the tiny classifier was fine-tuned on (it fits them, so its clean accuracy is far
    above chance and a degraded copy's fall is significant at n = 60), German and Hindi test rows (chance)."""
    d = tmp_path_factory.mktemp("gate")
    train = [json.loads(x) for x in (SHARED / "xtreme_r" / "xnli_train" / "en.jsonl").read_text().splitlines()[:N]]
    write_jsonl(d / "data" / "en.jsonl", [{**r, "id": f"en-{i}"} for i, r in enumerate(train)])
    for lang in LANGS[1:]:
        write_jsonl(d / "data" / f"{lang}.jsonl", xnli_rows(lang, N))
    return d


def _write_suite(workdir, name: str, gate: dict, swap_params: dict | None = None):
    p = workdir / f"{name}.yaml"
    p.write_text(_suite_text(gate, swap_params), encoding="utf-8")
    return p


def _run(suite, model, out, capsys):
    code, _, stderr = run_cli(["run", suite, "--model", model, "--out", out, "-q"], capsys)
    assert code == 0, stderr
    return out


@pytest.fixture(scope="module")
def base_run(workdir, tiny_classifier_dir):
    """One run of the tiny classifier and its baseline (written with the CLI)."""
    capsys = _NoCapture()
    run = _run(_write_suite(workdir, "suite", GATE), tiny_classifier_dir, workdir / "base-run", capsys)
    code, stdout, stderr = run_cli(["baseline", "update", run, "--to", workdir / "baseline"], capsys)
    assert code == 0, stderr
    return run, workdir / "baseline"


class _NoCapture:
    """capsys stand-in for module-scoped fixtures (run_cli only needs readouterr)."""

    def readouterr(self):
        return _Captured()


class _Captured:
    out = ""
    err = ""


@pytest.fixture(scope="module")
def degraded_dir(tmp_path_factory, tiny_classifier_dir):
    """A copy of the tiny classifier with seeded Gaussian noise added to its word embeddings (safetensors)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    out = tmp_path_factory.mktemp("degraded") / "model"
    shutil.copytree(tiny_classifier_dir, out)
    model = AutoModelForSequenceClassification.from_pretrained(out)
    emb = model.get_input_embeddings().weight
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        emb += 4.0 * emb.std() * torch.randn(emb.shape, generator=gen)
    for f in out.glob("*.safetensors"):
        f.unlink()
    model.save_pretrained(out, safe_serialization=True)
    assert (out / "model.safetensors").exists()
    return out


@pytest.fixture(scope="module")
def degraded_run(workdir, degraded_dir):
    return _run(_write_suite(workdir, "suite", GATE), degraded_dir, workdir / "degraded-run", _NoCapture())


def _gate(args, capsys):
    return run_cli(["gate", *map(str, args)], capsys)


def _cells(gate_dir):
    return {c["cell"]: c for c in json.loads((gate_dir / "gate.json").read_text())["cells"]}


# --- must show: a checkpoint gated against its own baseline passes, for 100 bootstrap seeds ---------------------


def test_self_gate_passes_for_100_bootstrap_seeds(base_run, capsys, tmp_path):
    run, baseline = base_run
    for seed in range(100):
        code, stdout, stderr = _gate([run, "--baseline", baseline, "--seed", seed, "--out", tmp_path], capsys)
        assert code == 0, (seed, stdout, stderr)
        cells = _cells(tmp_path)
        assert len(cells) == 3 * 3 and {c["status"] for c in cells.values()} == {"pass"}
        assert {c["delta"] for c in cells.values()} == {0.0} and {c["p_value"] for c in cells.values()} == {1.0}
    assert json.loads((tmp_path / "gate.json").read_text())["seed"] == 99


def test_self_gate_on_a_bootstrapped_metric_passes_for_100_seeds(workdir, tiny_classifier_dir, capsys, tmp_path):
    """Gating macro-F1 (corpus-level: the paired bootstrap recomputes it from the records' `stats`); tolerance 0,
    so only a zero difference passes; the run directory itself serves as the baseline."""
    gate = {**GATE, "tolerance": {"clean": 0.0, "degradation": 0.0}, "tasks": {"xnli": {"metric": "macro_f1"}}}
    run = _run(_write_suite(workdir, "suite-f1", gate), tiny_classifier_dir, tmp_path / "run", capsys)
    for seed in range(100):
        code, stdout, stderr = _gate([run, "--baseline", run, "--seed", seed, "--out", tmp_path / "g"], capsys)
        assert code == 0, (seed, stdout, stderr)
    cells = _cells(tmp_path / "g")
    assert {c["test"] for c in cells.values()} == {"paired_bootstrap"}  # the metric itself, from records' stats
    assert {c["metric"] for c in cells.values()} == {"macro_f1"} and {c["p_value"] for c in cells.values()} == {1.0}


# --- must show: a degraded checkpoint fails and names its cells; a tolerance above the drop passes -------------


def test_degraded_checkpoint_fails_and_names_the_failing_cells(base_run, degraded_run, capsys, tmp_path):
    run, baseline = base_run
    code, stdout, stderr = _gate([degraded_run, "--baseline", baseline, "--out", tmp_path], capsys)
    assert code == 1, stdout + stderr
    gate = json.loads((tmp_path / "gate.json").read_text())
    assert gate["status"] == "fail" and gate["counts"]["fail"] >= 1
    failing = {c["cell"]: c for c in gate["cells"] if c["status"] == "fail"}
    assert "xnli/en/clean" in failing  # the tiny model fits these English rows; the noisy copy no longer does
    en = failing["xnli/en/clean"]
    # the numbers come from the two runs' rows and records, recomputed here independently
    base_rows, deg_rows = (pd.read_csv(d / "rows.csv") for d in (run, degraded_run))
    pick = lambda r: r[(r.lang == "en") & (r.perturbation == "clean") & (r.metric == "accuracy")]["value"].item()  # noqa: E731
    assert en["baseline"] == pick(base_rows) and en["candidate"] == pick(deg_rows)
    assert en["delta"] == pytest.approx(pick(base_rows) - pick(deg_rows), abs=1e-12) and en["delta"] > 0.2
    from harness.stats import holm, mcnemar_exact
    recs = {d: pd.read_parquet(d / "records.parquet") for d in (run, degraded_run)}
    clean = {d: r[r.perturbation == "clean"].set_index(["lang", "example_id"]).sort_index()["correct"]
             for d, r in recs.items()}
    p = {lang: mcnemar_exact(clean[run].loc[lang].to_numpy(), clean[degraded_run].loc[lang].to_numpy()) for lang in LANGS}
    assert en["test"] == "mcnemar_exact" and en["p_value"] == p["en"]
    assert en["p_adjusted"] == holm([p[lang] for lang in LANGS])[0] < 0.05
    assert en["tolerance"] == 0.05
    # the Markdown names the failing cells in its Regressions table, JUnit has them as failures with the numbers
    md = (tmp_path / "gate.md").read_text()
    assert md.startswith("## xrobust gate: FAIL")
    regressions = md.split("### Regressions")[1].split("###")[0].split("<details>")[0]
    assert {c for c in failing} == {line.split("`")[1] for line in regressions.splitlines() if line.startswith("| `")}
    suite = ET.parse(tmp_path / "gate.junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "9" and suite.get("failures") == str(len(failing))
    failed = {case.get("name").split()[0]: case.find("failure").get("message")
              for case in suite.iter("testcase") if case.find("failure") is not None}
    assert set(failed) == set(failing)
    msg = failed["xnli/en/clean"]
    assert f"worse by {en['delta']:.4f}" in msg and "tolerance 0.0500" in msg and f"p = {en['p_value']:.3g}" in msg
    assert "xnli/en/clean" in stdout and "FAIL" in stdout


def test_tolerance_above_the_drop_passes(base_run, degraded_run, degraded_dir, workdir, capsys, tmp_path):
    run, baseline = base_run
    _gate([degraded_run, "--baseline", baseline, "--out", tmp_path / "first"], capsys)
    worst = max(c["delta"] for c in _cells(tmp_path / "first").values() if c["status"] == "fail")
    # only the gate: section changes (a per-language override), so the run still matches the baseline
    gate = {**GATE, "languages": {"en": {"clean": round(worst + 0.01, 4)}}}
    relaxed = _run(_write_suite(workdir, "suite-relaxed", gate), degraded_dir, tmp_path / "relaxed", capsys)
    code, stdout, stderr = _gate([relaxed, "--baseline", baseline], capsys)
    assert code == 0, stdout + stderr
    en = _cells(relaxed)["xnli/en/clean"]
    assert en["status"] == "pass" and en["tolerance"] == round(worst + 0.01, 4) and "within tolerance" in en["reason"]
    assert (relaxed / "gate.md").read_text().startswith("## xrobust gate: PASS")


# --- mismatches are refused with exit 2, naming the difference -----------------------------------------------------


def test_other_perturbation_parameters_exit_2_naming_them(base_run, workdir, tiny_classifier_dir, capsys, tmp_path):
    run, baseline = base_run
    other = _run(_write_suite(workdir, "suite-swap2", GATE, {"edits_per_word": 2}), tiny_classifier_dir,
                 tmp_path / "run", capsys)
    code, _, stderr = _gate([other, "--baseline", baseline], capsys)
    assert code == 2
    text = " ".join(stderr.split())
    assert "did not measure the same thing" in text
    assert "perturbation char.swap.v1 params.edits_per_word: baseline 1, candidate 2" in text
    assert "suite perturbations[0].params.edits_per_word: baseline null, candidate 2" in text
    assert not (other / "gate.json").exists()


def _copy_baseline(baseline, tmp_path):
    out = tmp_path / "baseline"
    shutil.copytree(baseline, out)
    return out


def test_other_perturbation_version_exit_2(base_run, capsys, tmp_path):
    run, baseline = base_run
    b = _copy_baseline(baseline, tmp_path)
    manifest = json.loads((b / "run.json").read_text())
    manifest["plugins"]["char.swap.v2"] = manifest["plugins"].pop("char.swap.v1")  # recorded with a later version
    (b / "run.json").write_text(json.dumps(manifest))
    code, _, stderr = _gate([run, "--baseline", b], capsys)
    assert code == 2
    assert "perturbation char.swap: version char.swap.v2 in the baseline, char.swap.v1 in the candidate" in " ".join(stderr.split())


def test_missing_or_changed_items_exit_2_naming_the_cell(base_run, capsys, tmp_path):
    run, baseline = base_run
    b = _copy_baseline(baseline, tmp_path)
    recs = pd.read_parquet(b / "records.parquet")
    cell = (recs.lang == "de") & (recs.perturbation == "char.swap.v1")
    dropped = recs[cell].head(5).index
    recs.drop(dropped).to_parquet(b / "records.parquet", index=False)
    code, _, stderr = _gate([run, "--baseline", b], capsys)
    text = " ".join(stderr.split())
    assert code == 2 and "cell xnli/de/char.swap.v1@0.3/seed0: 5 example(s) only in the candidate" in text
    recs.loc[recs[cell].index[0], "item"] = "0" * 16  # same id, other perturbed text
    recs.to_parquet(b / "records.parquet", index=False)
    code, _, stderr = _gate([run, "--baseline", b], capsys)
    text = " ".join(stderr.split())
    assert code == 2 and "1 item(s) have the same example id but another gold label or perturbed text" in text
    assert "xnli/de/char.swap.v1@0.3/seed0" in text


def test_incomplete_run_and_missing_baseline_exit_2(base_run, capsys, tmp_path):
    run, baseline = base_run
    code, _, stderr = _gate([run, "--baseline", tmp_path / "nope"], capsys)
    assert code == 2 and "not a directory" in stderr
    b = _copy_baseline(baseline, tmp_path)
    manifest = json.loads((b / "run.json").read_text())
    (b / "run.json").write_text(json.dumps({**manifest, "status": "running"}))
    code, _, stderr = _gate([run, "--baseline", b], capsys)
    assert code == 2 and "status is 'running'" in stderr
    code, _, stderr = run_cli(["baseline", "update", b, "--to", tmp_path / "b2"], capsys)
    assert code == 2 and "status is 'running'" in stderr


def test_policy_naming_an_unknown_language_or_metric_is_an_error(base_run):
    from harness.baseline import load_run
    from harness.errors import GateError
    from harness.gate import gated_metrics

    run = load_run(base_run[0], "candidate")
    assert gated_metrics(GateSpec(), run) == {"xnli": ("accuracy", True)}
    bad = GateSpec.model_validate({"languages": {"fr": {"clean": 0.1}}, "tasks": {"xnli": {"metric": "f1"}}})
    with pytest.raises(GateError) as exc:
        gated_metrics(bad, run)
    assert "gate.languages.fr: not a language of this run (de, en, hi)" in str(exc.value)
    assert "gate.tasks.xnli.metric: 'f1' is not a metric of xnli (accuracy, macro_f1)" in str(exc.value)


# --- baseline update ------------------------------------------------------------------------------------------------


def test_baseline_is_small_and_holds_only_what_the_gate_needs(base_run):
    run, baseline = base_run
    assert sorted(p.name for p in baseline.iterdir()) == ["records.parquet", "rows.csv", "run.json"]
    recs = pd.read_parquet(baseline / "records.parquet")
    assert list(recs.columns) == BASELINE_RECORD_COLUMNS and len(recs) == 3 * 3 * N
    assert (baseline / "rows.csv").read_bytes() == (run / "rows.csv").read_bytes()
    manifest = json.loads((baseline / "run.json").read_text())
    full = json.loads((run / "run.json").read_text())
    assert manifest["suite"] == full["suite"] and manifest["plugins"] == full["plugins"]
    assert manifest["checkpoint"]["fingerprint"] == full["checkpoint"]["fingerprint"]
    assert "host" not in manifest and manifest["baseline"]["from"] == str(run)
    # 540 records (3 languages x 3 cells x 60): about 21 KiB in all, of which records.parquet ~9 KiB
    size = sum(p.stat().st_size for p in baseline.iterdir())
    assert size < 40_000, size


# --- too few examples: reported, not passed silently ----------------------------------------------------------------


def test_ci_gate_suite_with_small_limit_reports_insufficient_n(tiny_classifier_dir, capsys, tmp_path):
    suite = REPO / "suites" / "ci_gate.yaml"
    assert load_suite(suite).suite.gate.min_n == 50
    code, _, stderr = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "run", "--limit", 20,
                               "-q"], capsys)
    assert code == 0, stderr
    code, _, stderr = run_cli(["baseline", "update", tmp_path / "run", "--to", tmp_path / "base"], capsys)
    assert code == 0, stderr
    code, stdout, _ = _gate([tmp_path / "run", "--baseline", tmp_path / "base"], capsys)
    assert code == 0  # fail_on_insufficient_n: false
    cells = _cells(tmp_path / "run")
    assert len(cells) == 4 * 3 and {c["status"] for c in cells.values()} == {"insufficient_n"}
    assert all(c["reason"] == "n = 20 < min_n 50: not tested" and c["p_value"] is None for c in cells.values())
    md = (tmp_path / "run" / "gate.md").read_text()
    assert "12 cell(s) with insufficient n" in md and "### Not tested" in md and "`xnli/zh/clean`" in md
    suite_xml = ET.parse(tmp_path / "run" / "gate.junit.xml").getroot().find("testsuite")
    assert (suite_xml.get("skipped"), suite_xml.get("failures")) == ("12", "0")
    assert "insufficient_n  xnli/en/clean" in stdout


def test_fail_on_insufficient_n_exits_1(workdir, tiny_classifier_dir, capsys, tmp_path):
    gate = {**GATE, "min_n": N + 1, "fail_on_insufficient_n": True}
    run = _run(_write_suite(workdir, "suite-strict", gate), tiny_classifier_dir, tmp_path / "run", capsys)
    code, _, _ = _gate([run, "--baseline", run], capsys)
    assert code == 1
    suite_xml = ET.parse(run / "gate.junit.xml").getroot().find("testsuite")
    assert (suite_xml.get("failures"), suite_xml.get("skipped")) == ("9", "0")


# --- the paired bootstrap path on continuous scores (synthetic run directories) --------------------------------------


def _fake_run(path, scores: dict[str, tuple], metric_offset: float = 0.0):
    """A run directory of a QA-like task: per language (clean scores, perturbed scores) in [0, 1]."""
    import numpy as np

    path.mkdir(parents=True)
    recs, rows = [], []
    for lang, (clean, pert) in scores.items():
        for pert_id, sev, s in (("clean", 0.0, clean), ("char.swap.v1", 0.3, pert)):
            for i, x in enumerate(s):
                recs.append({"task": "xquad", "lang": lang, "perturbation": pert_id, "severity": sev, "seed": 0,
                             "example_id": f"q{i}", "label": "[]", "perturbed_fields": "" if pert_id == "clean" else "x",
                             "score": float(x)})
            value = float(np.mean(s)) + metric_offset
            rows.append({"task": "xquad", "lang": lang, "perturbation": pert_id, "severity": sev, "seed": 0,
                         "metric": "f1", "higher_is_better": True, "n": len(s), "value": value})
    return _write_fake_run(path, "xquad", recs, rows)


def _write_fake_run(path, task: str, recs: list[dict], rows: list[dict]):
    """rows.csv (with clean_value and abs_drop), records.parquet and a complete run.json of one task."""
    rows = pd.DataFrame(rows)
    rows["clean_value"] = rows["lang"].map(rows[rows.perturbation == "clean"].set_index("lang")["value"])
    rows["abs_drop"] = rows["clean_value"] - rows["value"]
    rows.to_csv(path / "rows.csv", index=False)
    pd.DataFrame(recs).to_parquet(path / "records.parquet", index=False)
    content = {"name": "fake", "tasks": [{"task": task}], "gate": {"min_n": 30, "bootstrap_samples": 400}}
    (path / "run.json").write_text(json.dumps({
        "run_id": path.name, "status": "complete", "suite": {"name": "fake", "sha256": "x", "content": content},
        "plugins": {"char.swap.v1": {"params": {}}}, "limit": None, "segmenter": "icu", "checkpoint": {}}))
    return path


def test_continuous_scores_use_the_paired_bootstrap_with_holm_across_languages(tmp_path):
    import numpy as np

    from harness.rng import derive_seed
    from harness.stats import bootstrap_counts, bootstrap_indices, paired_bootstrap_diff, ratio

    rng = np.random.Generator(np.random.PCG64(7))
    base = {lang: (rng.random(80), rng.random(80) * 0.8) for lang in ("a", "b", "c")}
    cand = {lang: (c - (0.2 if lang == "a" else 0.0), p - (0.2 if lang == "a" else 0.0)) for lang, (c, p) in base.items()}
    result = run_gate(_fake_run(tmp_path / "cand", cand), _fake_run(tmp_path / "base", base))
    v = {x.cell: x for x in result.verdicts}
    assert v["xquad/a/clean"].status == "fail" and v["xquad/a/clean"].test == "paired_bootstrap"
    assert v["xquad/a/clean"].delta == pytest.approx(0.2, abs=1e-12)
    # the same draws, recomputed here: one resample set per task and language, seeded from gate.seed
    counts = bootstrap_counts(bootstrap_indices(80, 400, derive_seed(0, "gate", "xquad", "a")))
    one = lambda s: np.column_stack([s, np.ones_like(s)])  # noqa: E731
    expected = paired_bootstrap_diff(ratio(0, 1), one(base["a"][0]), one(cand["a"][0]), counts).p_value
    assert v["xquad/a/clean"].p_value == expected == 2 / 401  # every resample is worse
    assert v["xquad/a/clean"].p_adjusted == min(1.0, 3 * expected)  # Holm, the other two languages have p = 1
    assert [v[f"xquad/{lang}/clean"].p_value for lang in "bc"] == [1.0, 1.0]
    # the perturbed scores fell by the same 0.2: no degradation regression
    deg = v["xquad/a/char.swap.v1@0.3/seed0"]
    assert deg.kind == "degradation" and deg.delta == pytest.approx(0.0, abs=1e-12) and deg.status == "pass"
    assert not result.passed


def test_corpus_level_metric_is_tested_on_the_score_proxy(tmp_path):
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(1))
    scores = {lang: (rng.random(40), rng.random(40)) for lang in ("a", "b")}
    run = _fake_run(tmp_path / "r", scores, metric_offset=0.01)  # the metric is not the mean score
    result = run_gate(run, run)
    assert {x.test for x in result.verdicts} == {"paired_bootstrap (score proxy)"} and result.passed


def test_example_ci_workflow_gates_the_ci_suite():
    wf = yaml.safe_load((REPO / "docs" / "ci-example.yml").read_text())
    steps = wf["jobs"]["gate"]["steps"]
    env = wf["jobs"]["gate"]["env"]
    run = "\n".join(s.get("run", "") for s in steps)
    assert (REPO / env["SUITE"]).exists() and isinstance(load_suite(REPO / env["SUITE"]).suite.gate, GateSpec)
    assert 'xrobust gate "$RUN_DIR" --baseline "$BASELINE"' in run and "$GITHUB_STEP_SUMMARY" in run
    assert any(s.get("with", {}).get("report_paths") == f"{env['RUN_DIR']}/gate.junit.xml" for s in steps)
    assert all(s.get("if") == "always()" for s in steps[-3:])  # reports even when the gate exits 1


# --- the gate: section -------------------------------------------------------------------------------------------


def test_tolerances_resolve_most_specific_first():
    g = GateSpec.model_validate({"tolerance": {"clean": 0.05}, "languages": {"hi": {"degradation": 0.1}},
                                 "tasks": {"xnli": {"tolerance": {"clean": 0.04},
                                                    "languages": {"en": {"clean": 0.2}}}}})
    assert g.tolerance.degradation == 0.02  # global fields default to 0.02 each
    assert g.tolerance_for("xnli", "en", "clean") == 0.2  # tasks.xnli.languages.en
    assert g.tolerance_for("xnli", "de", "clean") == 0.04  # tasks.xnli.tolerance
    assert g.tolerance_for("xnli", "hi", "degradation") == 0.1  # languages.hi
    assert g.tolerance_for("pawsx", "hi", "clean") == 0.05 and g.tolerance_for("pawsx", "de", "degradation") == 0.02


def test_gate_section_typos_are_config_errors_with_the_yaml_path(workdir, capsys):
    bad = {**GATE, "tolerance": {"clean": 0.05, "degredation": 0.1}, "alpha": 1.5}
    code, _, stderr = run_cli(["validate", _write_suite(workdir, "suite-bad", bad)], capsys)
    text = " ".join(stderr.split())
    assert code == 2
    assert "gate.tolerance.degredation: Extra inputs are not permitted" in text
    assert "gate.alpha: Input should be less than 1" in text


def _ner_stats(rng, n: int, tp_keep: float = 1.0):
    """(n, 5) NER statistics [tp, predicted, gold, correct tags, tags]; `tp_keep` < 1 loses correct entities."""
    import numpy as np

    gold = rng.integers(1, 4, n).astype(float)
    pred = np.minimum(gold + rng.integers(-1, 2, n), 4).clip(0).astype(float)
    tp = np.floor(np.minimum(gold, pred) * rng.uniform(0.5, 1.0, n) * tp_keep)
    tags = rng.integers(5, 20, n).astype(float)
    return np.column_stack([tp, pred, gold, np.floor(tags * (0.7 + 0.3 * tp_keep)), tags])


def _fake_ner_run(path, stats: dict[str, tuple], tamper: float = 0.0):
    """A run directory of panx: per language (clean stats, perturbed stats), records with `stats`, rows with the
    entity F1 those statistics give (plus `tamper`)."""
    import numpy as np

    from harness.tasks.token import entity_prf

    path.mkdir(parents=True)
    recs, rows = [], []
    for lang, (clean, pert) in stats.items():
        for pert_id, sev, st in (("clean", 0.0, clean), ("char.swap.v1", 0.3, pert)):
            for i, x in enumerate(st):
                f1 = 2 * x[0] / (x[1] + x[2]) if x[1] + x[2] else 1.0
                recs.append({"task": "panx", "lang": lang, "perturbation": pert_id, "severity": sev, "seed": 0,
                             "example_id": f"s{i}", "label": "[]", "perturbed_fields": "" if pert_id == "clean" else "x",
                             "score": float(f1), "stats": [float(v) for v in x]})
            value = float(entity_prf(st.sum(axis=0))["entity_f1"]) + tamper
            rows.append({"task": "panx", "lang": lang, "perturbation": pert_id, "severity": sev, "seed": 0,
                         "metric": "entity_f1", "higher_is_better": True, "n": len(st), "value": value})
    return _write_fake_run(path, "panx", recs, rows)


def test_corpus_level_metric_is_tested_exactly_from_the_records_stats(tmp_path):
    import numpy as np

    from harness.rng import derive_seed
    from harness.stats import bootstrap_counts, bootstrap_indices, paired_bootstrap_diff
    from harness.tasks.token import entity_prf

    rng = np.random.Generator(np.random.PCG64(3))
    base = {lang: (_ner_stats(rng, 60), _ner_stats(rng, 60, 0.8)) for lang in ("a", "b")}
    cand = {"a": (base["a"][0], _ner_stats(rng, 60, 0.3)), "b": base["b"]}  # a: far worse under the perturbation
    result = run_gate(_fake_ner_run(tmp_path / "cand", cand), _fake_ner_run(tmp_path / "base", base))
    v = {x.cell: x for x in result.verdicts}
    assert {x.test for x in result.verdicts} == {"paired_bootstrap"} and {x.metric for x in result.verdicts} == {"entity_f1"}
    f1 = lambda sums: entity_prf(sums)["entity_f1"]  # noqa: E731
    counts = bootstrap_counts(bootstrap_indices(60, 400, derive_seed(0, "gate", "panx", "a")))
    # degradation: the change of the entity-F1 drop, recomputed from summed statistics in every resample
    drop = lambda sums: f1(sums[..., :5]) - f1(sums[..., 5:])  # noqa: E731
    expected = paired_bootstrap_diff(drop, np.hstack(base["a"]), np.hstack(cand["a"]), counts,
                                     higher_is_better=False)
    deg = v["panx/a/char.swap.v1@0.3/seed0"]
    assert deg.delta == pytest.approx(expected.delta, abs=1e-12) and deg.delta > 0.2
    assert deg.p_value == expected.p_value == 2 / 401 and deg.status == "fail"
    assert v["panx/a/clean"].p_value == 1.0 and v["panx/a/clean"].delta == 0.0  # identical clean statistics
    assert v["panx/b/char.swap.v1@0.3/seed0"].status == "pass" and not result.passed


def test_corpus_level_metric_falls_back_to_the_score_proxy_without_trustworthy_stats(tmp_path):
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(4))
    stats = {"a": (_ner_stats(rng, 40), _ner_stats(rng, 40, 0.9))}
    old = _fake_ner_run(tmp_path / "old", stats)
    recs = pd.read_parquet(old / "records.parquet")
    recs.drop(columns="stats").to_parquet(old / "records.parquet", index=False)  # written before records had stats
    assert {x.test for x in run_gate(old, old).verdicts} == {"paired_bootstrap (score proxy)"}
    tampered = _fake_ner_run(tmp_path / "tampered", stats, tamper=0.01)  # stats that do not give rows.csv's values
    assert {x.test for x in run_gate(tampered, tampered).verdicts} == {"paired_bootstrap (score proxy)"}
    good = _fake_ner_run(tmp_path / "good", stats)
    assert {x.test for x in run_gate(good, good).verdicts} == {"paired_bootstrap"}
