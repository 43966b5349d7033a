"""suites/xtreme_r_sample.yaml: every XTREME-R task type end to end on the shared samples, one tiny
checkpoint per task with the matching head (sequence, token, QA, multiple choice, encoder)."""
from __future__ import annotations

import contextlib
import io
import json

import pandas as pd
import pytest
from _util import REPO

from harness.cli import main

SUITE = REPO / "suites" / "xtreme_r_sample.yaml"
PRIMARY = {"xnli": "accuracy", "panx": "entity_f1", "udpos": "token_accuracy", "xquad": "f1", "mlqa": "f1",
           "xcopa": "accuracy", "tatoeba": "accuracy_xx_en"}
TASK_TYPES = {"sequence_classification", "token_classification", "extractive_qa", "multiple_choice", "retrieval"}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, tiny_classifier_dir, tiny_ner_dir, tiny_pos_dir, tiny_qa_dir, tiny_choice_dir,
               tiny_encoder_dir):
    out = tmp_path_factory.mktemp("xtreme-r-sample") / "run"
    models = {"xnli": tiny_classifier_dir, "panx": tiny_ner_dir, "udpos": tiny_pos_dir, "xquad": tiny_qa_dir,
              "mlqa": tiny_qa_dir, "xcopa": tiny_choice_dir, "tatoeba": tiny_encoder_dir}
    args = ["run", SUITE, "--out", out, "-q"]
    for task, path in models.items():
        args += ["--model", f"{task}={path}"]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    assert exc.value.code == 0, stderr.getvalue()
    return out, stdout.getvalue()


pytestmark = pytest.mark.slow


def test_every_task_type_runs_to_a_complete_run(sample_run):
    from harness.tasks import adapter_class, get_recipe

    out, stdout = sample_run
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete"
    types = {get_recipe(t).task_type for t in PRIMARY}
    assert types == TASK_TYPES
    assert set(manifest["checkpoint"]["tasks"]) == set(PRIMARY)  # one checkpoint per task, each fingerprinted
    rows = pd.read_csv(out / "rows.csv")
    for task, metric in PRIMARY.items():
        recipe = get_recipe(task)
        assert adapter_class(recipe.task_type).metrics_for(recipe)[0] == metric, task  # primary metric
        assert metric in set(rows.loc[rows.task == task, "metric"]), task
        assert f"{task} · " in stdout  # the console summary has a block per task


def test_cells_have_the_suite_limits_and_every_row_carries_family_and_script(sample_run):
    out, _ = sample_run
    rows = pd.read_csv(out / "rows.csv", keep_default_na=False)
    limits = {"xnli": 24, "panx": 24, "udpos": 24, "xquad": 12, "mlqa": 12, "xcopa": 24, "tatoeba": 24}
    for task, n in limits.items():
        assert set(rows.loc[rows.task == task, "n"]) == {n}, task
    assert (rows["family"] != "").all() and (rows["script"] != "").all()
    # 7 tasks x their languages x (clean + 3 perturbation cells)
    cells = rows[["task", "lang", "perturbation", "severity", "seed"]].drop_duplicates()
    assert len(cells) == (3 + 3 + 3 + 3 + 2 + 3 + 3) * 4


def test_clean_values_equal_a_recomputation_from_records(sample_run):
    """For per-example-mean metrics the cell value is the mean of the records' score column."""
    out, _ = sample_run
    rows = pd.read_csv(out / "rows.csv")
    records = pd.read_parquet(out / "records.parquet")
    mean_metrics = {"xnli": "accuracy", "xquad": "f1", "mlqa": "f1", "xcopa": "accuracy", "tatoeba": "accuracy_xx_en"}
    for task, metric in mean_metrics.items():
        for (lang, pert, sev), group in records[records.task == task].groupby(["lang", "perturbation", "severity"]):
            row = rows[(rows.task == task) & (rows.lang == lang) & (rows.perturbation == pert)
                       & (rows.severity == sev) & (rows.metric == metric)]
            assert len(row) == 1
            assert row["value"].iloc[0] == pytest.approx(group["score"].mean(), abs=1e-12), (task, lang, pert)


def test_protected_answers_lose_no_label_and_token_tasks_keep_their_words(sample_run):
    out, _ = sample_run
    records = pd.read_parquet(out / "records.parquet")
    assert not records.loc[records.task == "mlqa", "label_lost"].any()
    token = records[records.task.isin(["panx", "udpos"])]
    for label, pred in zip(token["label"], token["pred"]):
        assert len(json.loads(label)) == len(json.loads(pred))
