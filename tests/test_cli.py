"""CLI behaviour: ls/perturb JSON formats, exit codes, checkpoint safety messages."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
from _util import run_cli, write_jsonl, xnli_rows

from harness.perturbation import PERTURBATIONS


def test_ls_perturbations_json_lists_ids_and_scripts(capsys):
    code, out, _ = run_cli(["ls", "perturbations", "--format", "json"], capsys)
    items = json.loads(out)
    assert code == 0 and [i["id"] for i in items] == PERTURBATIONS.names()
    assert len(items) >= 6 and all(isinstance(i["scripts"], list) and i["scripts"] for i in items)
    keyboard = next(i for i in items if i["id"] == "char.keyboard.v1")
    assert {"Latn", "Deva", "Thai", "Arab"} <= set(keyboard["scripts"]) and "Hani" not in keyboard["scripts"]


def test_ls_tasks_and_languages_json(capsys):
    tasks = json.loads(run_cli(["ls", "tasks", "--format", "json"], capsys)[1])
    assert {t["id"] for t in tasks} >= {"xnli", "pawsx"}
    xnli = next(t for t in tasks if t["id"] == "xnli")
    assert len(xnli["languages"]) == 15 and xnli["labels"] == ["entailment", "neutral", "contradiction"]
    langs = json.loads(run_cli(["ls", "languages", "--format", "json"], capsys)[1])
    assert len(langs) == 55  # 50 XTREME-R languages + 5 code-mixed pairs
    assert next(x for x in langs if x["id"] == "hi") == {"id": "hi", "name": "Hindi", "script": "Deva",
                                                          "family": "Indo-European", "genus": "Indic", "tier": 4,
                                                          "matrix": None, "embedded": None}


def test_ls_unknown_thing_exits_2(capsys):
    code, _, err = run_cli(["ls", "models"], capsys)
    assert code == 2 and "lists perturbations, tasks, languages or attacks" in err


def test_ls_attacks_lists_the_recipes_and_the_textattack_bridge(capsys):
    attacks = {a["id"] for a in json.loads(run_cli(["ls", "attacks", "--format", "json"], capsys)[1])}
    assert {"attack.deepwordbug.v1", "attack.pruthi.v1", "attack.textbugger_char.v1", "attack.bad_characters.v1",
            "textattack.deepwordbug.v1"} <= attacks


def test_perturb_json_one_object_per_line_and_seeded(capsys):
    args = ["perturb", "--lang", "hi", "-p", "char.swap.v1", "--severity", "1.0", "--format", "json",
            "नमस्ते दुनिया", "किताब पढ़ो"]
    code, out, _ = run_cli(args, capsys)
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert set(lines[0]) >= {"original", "perturbed", "applied", "edit_rate"}
    assert lines[0]["original"] == "नमस्ते दुनिया" and lines[0]["applied"] is True
    assert lines[0]["perturbed"] != lines[0]["original"]
    again = [json.loads(x) for x in run_cli(args, capsys)[1].splitlines()]
    assert again == lines


def test_perturb_table_shows_original_and_perturbed(capsys):
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "char.delete.v1", "--severity", "1", "hello world"], capsys)
    assert code == 0 and "hello world" in out and "applied" in out


def test_perturb_unknown_id_suggests(capsys):
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.keybord.v1", "x"], capsys)
    assert code == 2 and "did you mean 'char.keyboard.v1'?" in err


def _suite(tmp_path):
    write_jsonl(tmp_path / "en.jsonl", xnli_rows("en", 10))
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent("""\
        name: s
        tasks:
          - task: xnli
            data: {format: jsonl, path: "{lang}.jsonl"}
            languages: [en]
        """))
    return p


def test_missing_checkpoint_exits_2(tmp_path, capsys):
    code, _, err = run_cli(["run", _suite(tmp_path), "--model", tmp_path / "nope", "-q"], capsys)
    assert code == 2 and "nope: no such checkpoint directory" in err


def test_pickle_weights_need_explicit_flag(tmp_path, tiny_classifier_dir, capsys):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    pk = tmp_path / "pickle_ckpt"
    model = AutoModelForSequenceClassification.from_pretrained(tiny_classifier_dir)
    model.config.save_pretrained(pk)
    AutoTokenizer.from_pretrained(tiny_classifier_dir).save_pretrained(pk)
    torch.save(model.state_dict(), pk / "pytorch_model.bin")
    suite = _suite(tmp_path)
    code, _, err = run_cli(["run", suite, "--model", pk, "--out", tmp_path / "r1", "-q"], capsys)
    assert code == 2 and "only pickle weights" in err and "--allow-pickle" in err
    code, _, err = run_cli(["run", suite, "--model", pk, "--out", tmp_path / "r2", "-q", "--allow-pickle"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["run", suite, "--model", tiny_classifier_dir, "--out", tmp_path / "r3", "-q"], capsys)
    assert (tmp_path / "r2" / "rows.csv").read_text().split("\n")[1:] != []
    import pandas as pd
    a = pd.read_csv(tmp_path / "r2" / "rows.csv").drop(columns=["run_id", "checkpoint"])
    b = pd.read_csv(tmp_path / "r3" / "rows.csv").drop(columns=["run_id", "checkpoint"])
    pd.testing.assert_frame_equal(a, b)


def test_checkpoint_without_task_head_is_refused(tmp_path, tiny_classifier_dir, capsys):
    from transformers import AutoModel, AutoTokenizer

    base = tmp_path / "encoder_only"
    AutoModel.from_pretrained(tiny_classifier_dir).save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_classifier_dir).save_pretrained(base)
    code, _, err = run_cli(["run", _suite(tmp_path), "--model", base, "-q", "--out", tmp_path / "r"], capsys)
    assert code == 2 and "no trained task head" in err


@pytest.mark.parametrize("args,msg", [
    (["--device", "tpu"], "--device must be one of"),
    (["--dtype", "int8"], "--dtype must be one of"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--limit", "0"], "--limit must be >= 1"),
])
def test_bad_options_exit_2(tmp_path, tiny_classifier_dir, capsys, args, msg):
    code, _, err = run_cli(["run", _suite(tmp_path), "--model", tiny_classifier_dir, "-q", *args], capsys)
    assert code == 2 and msg in err
