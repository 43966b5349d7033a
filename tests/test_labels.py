"""Label reconciliation: by name, case-insensitive; generic LABEL_k names need a label_map."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
from _util import run_cli, write_jsonl, xnli_rows
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from harness.errors import ConfigError
from harness.tasks.classification import reconcile_labels

NLI = ["entailment", "neutral", "contradiction"]


def test_by_name_case_insensitive_any_order():
    assert reconcile_labels(NLI, {0: "CONTRADICTION", 1: "Entailment", 2: "neutral"}, None) == {
        1: "entailment", 2: "neutral", 0: "contradiction"}


def test_generic_names_without_label_map_say_what_to_add():
    with pytest.raises(ConfigError) as exc:
        reconcile_labels(NLI, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, None, where="tasks[0]")
    assert "generic (LABEL_0, LABEL_1, LABEL_2)" in str(exc.value)
    assert "Add `label_map: {entailment: 0, neutral: 1, contradiction: 2}` to tasks[0]" in str(exc.value)


def test_label_map_by_id_and_by_name():
    generic = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert reconcile_labels(NLI, generic, {"entailment": 2, "neutral": 0, "contradiction": "LABEL_1"}) == {
        2: "entailment", 0: "neutral", 1: "contradiction"}


@pytest.mark.parametrize("label_map,msg", [
    ({"entailment": 0, "neutral": 1}, "tasks[0].label_map: no entry for dataset label 'contradiction'"),
    ({"entailment": 0, "neutral": 0, "contradiction": 1}, "labels 'entailment' and 'neutral' both map to class 0"),
    ({"entailment": 0, "neutral": 1, "contradiction": 7}, "class id 7 not in the checkpoint"),
    ({"entailment": 0, "neutral": 1, "contradiction": "nope"}, "'nope' is not a checkpoint label"),
])
def test_bad_label_maps(label_map, msg):
    with pytest.raises(ConfigError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        reconcile_labels(NLI, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, label_map, where="tasks[0]")


def test_mismatched_names_are_reported():
    with pytest.raises(ConfigError, match=r"dataset labels \['neutral'\] are not among the checkpoint's labels"):
        reconcile_labels(NLI, {0: "entailment", 1: "other", 2: "contradiction"}, None)


def _variant(src, dst, *, perm=None, generic=False):
    """Copy a checkpoint; optionally permute classifier rows + id2label together, or make names generic."""
    model = AutoModelForSequenceClassification.from_pretrained(src)
    tok = AutoTokenizer.from_pretrained(src)
    if perm is not None:
        head = model.classifier.out_proj
        with torch.no_grad():
            head.weight.copy_(head.weight[perm].clone())
            head.bias.copy_(head.bias[perm].clone())
        old = model.config.id2label
        model.config.id2label = {i: old[p] for i, p in enumerate(perm)}
        model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    if generic:
        model.config.id2label = {i: f"LABEL_{i}" for i in range(model.config.num_labels)}
        model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    model.save_pretrained(dst)
    tok.save_pretrained(dst)
    return dst


def _suite(tmp_path, extra=""):
    for lang in ("en", "de"):
        write_jsonl(tmp_path / "data" / f"{lang}.jsonl", xnli_rows(lang, 40))
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: labels
        tasks:
          - task: xnli
            data: {{format: jsonl, path: "data/{{lang}}.jsonl"}}
            languages: [en, de]
        {extra}
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        """), encoding="utf-8")
    return p


def _rows(run_dir):
    import pandas as pd
    return pd.read_csv(run_dir / "rows.csv")


def test_permuted_checkpoint_gives_identical_accuracy(tmp_path, tiny_classifier_dir, capsys):
    permuted = _variant(tiny_classifier_dir, tmp_path / "permuted", perm=[2, 0, 1])
    cfg = json.loads((permuted / "config.json").read_text())
    assert list(cfg["id2label"].values()) != list(json.loads((tiny_classifier_dir / "config.json").read_text())["id2label"].values())
    suite = _suite(tmp_path)
    a, b = tmp_path / "run_a", tmp_path / "run_b"
    assert run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", a, "-q"], capsys)[0] == 0
    assert run_cli(["run", suite, "--model", permuted, "--out", b, "-q"], capsys)[0] == 0
    ra, rb = _rows(a), _rows(b)
    assert ra["value"].tolist() == rb["value"].tolist()
    import pandas as pd
    pa, pb = pd.read_parquet(a / "records.parquet"), pd.read_parquet(b / "records.parquet")
    assert pa["pred"].tolist() == pb["pred"].tolist()
    assert pa["pred"].nunique() >= 2  # the check means something only if the model is not constant


def test_generic_labels_without_label_map_exit_2(tmp_path, tiny_classifier_dir, capsys):
    generic = _variant(tiny_classifier_dir, tmp_path / "generic", generic=True)
    code, out, err = run_cli(["run", _suite(tmp_path), "--model", generic, "--out", tmp_path / "r", "-q"], capsys)
    assert code == 2
    assert "generic (LABEL_0, LABEL_1, LABEL_2)" in err and "label_map: {entailment: 0, neutral: 1, contradiction: 2}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing written before the problem was found


def test_generic_labels_with_label_map_match_named_checkpoint(tmp_path, tiny_classifier_dir, capsys):
    generic = _variant(tiny_classifier_dir, tmp_path / "generic", generic=True)
    id2label = json.loads((tiny_classifier_dir / "config.json").read_text())["id2label"]
    mapping = ", ".join(f"{name}: {i}" for i, name in id2label.items())
    suite = _suite(tmp_path).read_text().replace('languages: [en, de]', f'languages: [en, de]\n    label_map: {{{mapping}}}')
    (tmp_path / "suite2.yaml").write_text(suite)
    assert run_cli(["run", tmp_path / "suite2.yaml", "--model", generic, "--out", tmp_path / "g", "-q"], capsys)[0] == 0
    assert run_cli(["run", _suite(tmp_path), "--model", tiny_classifier_dir, "--out", tmp_path / "n", "-q"], capsys)[0] == 0
    assert _rows(tmp_path / "g")["value"].tolist() == _rows(tmp_path / "n")["value"].tolist()
