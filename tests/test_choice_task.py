"""Multiple choice (XCOPA): input pairs, argmax decoding, accuracy statistics, the fixed question keyword,
HF-schema rows, and an end-to-end run with a tiny multiple-choice checkpoint."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from _util import SHARED, run_cli, write_jsonl

from harness.errors import CheckpointError, ConfigError, DataError
from harness.tasks import get_recipe, make_adapter
from harness.types import Example, Variant

XCOPA = SHARED / "xtreme_r" / "xcopa"


class FakeTokenizer:
    """Encodes a (first, second) pair as two ids from a shared vocabulary, and records every call."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.calls: list[tuple] = []

    def __call__(self, first, second, truncation=False, max_length=None):
        self.calls.append((list(first), list(second), truncation, max_length))
        ids = [[self.vocab.setdefault(a, len(self.vocab)), self.vocab.setdefault(b, len(self.vocab))]
               for a, b in zip(first, second)]
        return {"input_ids": ids}


class FakePredictor:
    """forward(): each choice scores SCORES[its choice text]."""

    max_length = 77

    def __init__(self, scores: dict[str, float]):
        self.scores = scores
        self.tokenizer = FakeTokenizer()
        self.forward_calls: list[tuple] = []

    def forward(self, features, kind="logits", progress=None):
        self.forward_calls.append((list(features), kind))
        text = {i: t for t, i in self.tokenizer.vocab.items()}
        return [np.array([self.scores[text[choice[1]]] for choice in f], dtype=np.float32) for f in features]


def _variant(i: int, premise: str, question: str, c1: str, c2: str, label: str) -> Variant:
    ex = Example(f"x{i}", "zh", {"premise": premise, "choice1": c1, "choice2": c2, "question": question}, label)
    return Variant(ex, ex.fields, False, 0.0, 0)


def test_hand_made_scores_give_argmax_predictions_and_exact_accuracy():
    pred = FakePredictor({"a": 0.1, "b": 0.9, "c": 2.0, "d": -1.0, "e": 0.5, "f": 0.5})
    adapter = make_adapter(get_recipe("xcopa"), pred, {"label_map": None, "protect_answers": False}, "tasks[0]")
    vs = [_variant(0, "P0", "cause", "a", "b", "1"), _variant(1, "P1", "effect", "c", "d", "1"),
          _variant(2, "P2", "cause", "e", "f", "0")]
    preds = adapter.predict(pred, [vs, vs[:1]])
    assert preds == [["1", "0", "0"], ["1"]]  # the tie (0.5, 0.5) goes to the first choice
    first, second, truncation, max_length = pred.tokenizer.calls[0]
    assert first == [q for q in ("P0 What was the cause?", "P1 What was the effect?", "P2 What was the cause?")
                     for _ in range(2)]
    assert second == ["a", "b", "c", "d", "e", "f"]  # one pair per choice, each tokenized once
    assert truncation is True and max_length == 77
    features, kind = pred.forward_calls[0]
    assert kind == "logits" and len(pred.forward_calls) == 1 and len(features) == 4  # all cells in one call
    assert all(len(f) == 2 and all(isinstance(c, tuple) for c in f) for f in features)
    stats = adapter.example_stats(vs, preds[0])
    np.testing.assert_array_equal(stats, [[1, 1], [0, 1], [1, 1]])
    assert adapter.metric_values(vs, preds[0]) == {"accuracy": 2 / 3}
    assert adapter.metrics_from_sums(np.array([[3.0, 4.0], [0.0, 0.0]]))["accuracy"].tolist()[0] == 0.75
    assert adapter.record_fields(vs[1], "0") == {"label": "1", "pred": "0", "score": 0.0, "correct": False}


def test_a_head_with_the_wrong_number_of_scores_is_a_checkpoint_error():
    class ThreeScores(FakePredictor):
        def forward(self, features, kind="logits", progress=None):
            return [np.zeros(3, dtype=np.float32) for _ in features]

    pred = ThreeScores({})
    adapter = make_adapter(get_recipe("xcopa"), pred, {}, "tasks[0]")
    with pytest.raises(CheckpointError, match="3 scores for 2 choices"):
        adapter.predict(pred, [[_variant(0, "P", "cause", "a", "b", "0")]])


@pytest.mark.parametrize("options, match", [
    ({"label_map": {"0": 1, "1": 0}}, "tasks\\[2\\].label_map"),
    ({"protect_answers": True}, "protect_answers"),
    ({"pool_layer": 3}, "takes no options"),
])
def test_options_that_do_not_apply_are_refused(options, match):
    with pytest.raises(ConfigError, match=match):
        make_adapter(get_recipe("xcopa"), FakePredictor({}), options, "tasks[2]")


def test_rows_need_a_cause_or_effect_question_and_a_choice_index_label(tmp_path):
    from harness.data import load_examples
    from harness.suite import DataSpec

    row = {"id": "r1", "premise": "p", "choice1": "a", "choice2": "b", "question": "cause", "label": 1}
    path = write_jsonl(tmp_path / "zh.jsonl", [row, {**row, "id": "r2", "question": "why"}])
    spec = DataSpec(format="jsonl", path=str(path))
    with pytest.raises(DataError, match=r"zh.jsonl:2: question 'why'.*\['cause', 'effect'\]"):
        load_examples(get_recipe("xcopa"), spec, "zh")
    write_jsonl(path, [row, {**row, "id": "r2", "label": 2}])
    with pytest.raises(DataError, match=r"zh.jsonl:2: label '2' is not one of \['0', '1'\]"):
        load_examples(get_recipe("xcopa"), spec, "zh")


def test_rows_with_the_hugging_face_schema_load(tmp_path):
    """cambridgeltl/xcopa rows: int32 label (not a ClassLabel), idx, changed; no id column."""
    import datasets

    from harness.data import load_examples
    from harness.suite import DataSpec

    ds = datasets.Dataset.from_dict({
        "premise": ["我掏空了口袋。"], "choice1": ["我找到了一张票根。"], "choice2": ["我找到了一件武器。"],
        "question": ["effect"], "label": [0], "idx": [1], "changed": [False]})
    ds.save_to_disk(str(tmp_path / "xcopa-zh"))
    [ex] = load_examples(get_recipe("xcopa"), DataSpec(format="hf_disk", path=str(tmp_path / "xcopa-zh")), "zh")
    assert ex.label == "0" and ex.id == "zh:0" and ex.fields["question"] == "effect"


def _suite(tmp_path, langs=("zh", "th", "et")):
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: xcopa-test
        seed: 3
        tasks:
          - task: xcopa
            data: {{format: jsonl, path: "{XCOPA}/{{lang}}.jsonl"}}
            languages: [{", ".join(langs)}]
            limit: 20
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        stats: {{bootstrap_samples: 200}}
        """), encoding="utf-8")
    return p


def _run(suite, model, out, capsys):
    code, _, err = run_cli(["run", suite, "--model", f"xcopa={model}", "--out", out, "-q"], capsys)
    assert code == 0, err
    return pd.read_csv(out / "rows.csv"), pd.read_parquet(out / "records.parquet")


def _clean_logits_with_transformers(model_dir, lang: str, n: int) -> np.ndarray:
    """Independent recomputation: AutoModelForMultipleChoice on XTREME-R's pairs, one example at a time."""
    import torch
    from transformers import AutoModelForMultipleChoice, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForMultipleChoice.from_pretrained(str(model_dir)).eval()
    rows = [json.loads(x) for x in (XCOPA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()[:n]]
    out = []
    with torch.inference_mode():
        for r in rows:
            first = f"{r['premise']} What was the {r['question']}?"
            enc = tok([first, first], [r["choice1"], r["choice2"]], padding=True, return_tensors="pt")
            out.append(model(**{k: v.unsqueeze(0) for k, v in enc.items()}).logits[0].numpy())
    return np.array(out)


def test_end_to_end_run_on_xcopa(tmp_path, tiny_choice_dir, capsys):
    rows, records = _run(_suite(tmp_path), tiny_choice_dir, tmp_path / "run", capsys)
    assert set(rows["metric"]) == {"accuracy"} and set(rows["n"]) == {20}
    assert set(rows["lang"]) == {"zh", "th", "et"} and set(rows["perturbation"]) == {"clean", "char.swap.v1"}
    assert set(records["pred"]) <= {"0", "1"} and set(records["label"]) <= {"0", "1"}
    for (lang, pert), g in records.groupby(["lang", "perturbation"]):
        row = rows[(rows.lang == lang) & (rows.perturbation == pert)].iloc[0]
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert row["value"] == pytest.approx(g["correct"].mean(), abs=1e-12)
        assert row["clean_value"] == pytest.approx(clean["correct"].mean(), abs=1e-12)
        assert (g["correct"] == (g["pred"] == g["label"])).all()
    swapped = records[records.perturbation == "char.swap.v1"]
    assert swapped["applied"].mean() > 0.5
    changed = [set(json.loads(f)) for f in swapped["perturbed_fields"] if f]
    assert changed and all(c <= {"premise", "choice1", "choice2"} for c in changed)  # never the question
    zh = records[(records.lang == "zh") & (records.perturbation == "clean")]
    # the untrained head scores both choices within ~1e-5 of each other; compare where padding in other
    # batch shapes (float32 rounding ~1e-9) cannot flip the argmax
    logits = _clean_logits_with_transformers(tiny_choice_dir, "zh", 20)
    clear = np.abs(logits[:, 0] - logits[:, 1]) > 1e-7
    assert clear.sum() >= 15
    assert list(zh["pred"][clear]) == [str(i) for i in logits[clear].argmax(axis=1)]
    assert list(zh["label"]) == [str(json.loads(x)["label"]) for x in
                                 (XCOPA / "zh.jsonl").read_text(encoding="utf-8").splitlines()[:20]]


def test_same_suite_twice_gives_identical_records(tmp_path, tiny_choice_dir, capsys):
    suite = _suite(tmp_path, langs=("th", "zh"))
    _, a = _run(suite, tiny_choice_dir, tmp_path / "a", capsys)
    _, b = _run(suite, tiny_choice_dir, tmp_path / "b", capsys)
    pd.testing.assert_frame_equal(a, b)


def test_the_question_keyword_cannot_be_perturbed(tmp_path, tiny_choice_dir, capsys):
    suite = _suite(tmp_path, langs=("zh",)).read_text().replace(
        "limit: 20\n", "limit: 20\n    perturb_fields: [premise, question]\n")
    (tmp_path / "q.yaml").write_text(suite, encoding="utf-8")
    code, _, err = run_cli(["run", tmp_path / "q.yaml", "--model", f"xcopa={tiny_choice_dir}",
                            "--out", tmp_path / "run", "-q"], capsys)
    assert code == 2
    # caught when the suite is loaded, before any model is: file, line and YAML path
    assert "q.yaml:8: tasks[0].perturb_fields[1]: 'question' cannot be perturbed in xcopa (a fixed keyword)" in err
    assert not (tmp_path / "run" / "records.parquet").exists()
