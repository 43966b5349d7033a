"""`xrobust perturb` previews: --data JSONL rows (keyed like the runner), --limit, --param parsing."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from _util import run_cli, write_jsonl, xnli_rows

from harness.cli import params_from_strings
from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, make_perturbation
from harness.runner import perturb_example
from harness.types import Cell, Example


def _json_lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_data_rows_are_perturbed_exactly_as_the_runner_does(tmp_path, capsys):
    rows = xnli_rows("hi", 5)
    path = write_jsonl(tmp_path / "hi.jsonl", rows)
    code, out, _ = run_cli(["perturb", "--lang", "hi", "-p", "char.keyboard.v1", "--severity", "0.3", "--seed", "3",
                            "--data", path, "--field", "premise", "--limit", "3", "--format", "json"], capsys)
    got = _json_lines(out)
    assert code == 0 and [g["id"] for g in got] == [r["id"] for r in rows[:3]]
    pert = make_perturbation("char.keyboard.v1")
    cell = Cell("xnli", "hi", pert.id, 0.3, 3)
    for g, r in zip(got, rows):
        ex = Example(r["id"], "hi", {"premise": r["premise"], "hypothesis": r["hypothesis"]}, r["label"])
        assert g["original"] == r["premise"]
        assert g["perturbed"] == perturb_example(ex, pert, cell, ("premise",)).fields["premise"]
        assert set(g) >= {"original", "perturbed", "applied", "edit_rate", "words_edited", "reason"}


def test_rows_without_id_are_keyed_by_language_and_line(tmp_path, capsys):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "hello world"}, {"text": "good morning"}])
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--data", path, "--format", "json"], capsys)
    assert code == 0 and [g["id"] for g in _json_lines(out)] == ["en:1", "en:2"]


def test_data_field_missing_names_the_text_fields(tmp_path, capsys):
    path = write_jsonl(tmp_path / "d.jsonl", [{"premise": "a b", "hypothesis": "c d", "n": 1}])
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--data", path, "--field", "sentence"], capsys)
    assert code == 2 and "d.jsonl:1" in err and "'sentence'" in err and "['hypothesis', 'premise']" in err


def test_bad_json_and_missing_file_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{not json\n', encoding="utf-8")
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--data", bad], capsys)
    assert code == 2 and "bad.jsonl:2: invalid JSON" in err
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--data", tmp_path / "nope.jsonl"], capsys)
    assert code == 2 and "nope.jsonl" in err


def test_limit_applies_to_file_lines(tmp_path, capsys):
    f = tmp_path / "lines.txt"
    f.write_text("one two\nthree four\nfive six\n", encoding="utf-8")
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--file", f, "--limit", "2",
                            "--format", "json"], capsys)
    assert code == 0 and [g["original"] for g in _json_lines(out)] == ["one two", "three four"]
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--file", f, "--limit", "0"], capsys)
    assert code == 2 and "--limit" in err


def test_table_shows_original_perturbed_edit_rate_and_applied(tmp_path, capsys):
    path = write_jsonl(tmp_path / "en.jsonl", xnli_rows("en", 2))
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "char.delete.v1", "--severity", "1", "--data", path,
                            "--field", "hypothesis", "--param", "edits_per_word=2"], capsys)
    assert code == 0
    for col in ("original", "perturbed", "applied", "edit rate", "edits_per_word=2"):
        assert col in out


def test_param_changes_the_perturbation(capsys):
    base = ["perturb", "--lang", "en", "-p", "char.delete.v1", "--severity", "1", "--format", "json",
            "internationalisation documentation"]
    one = _json_lines(run_cli(base, capsys)[1])[0]
    two = _json_lines(run_cli(base + ["--param", "edits_per_word=2"], capsys)[1])[0]
    assert one["edit_rate"] < two["edit_rate"]


@pytest.mark.parametrize("param,message", [
    ("edit_per_word=2", "did you mean 'edits_per_word'?"),
    ("edits_per_word=two", "expected an integer"),
    ("edits_per_word", "expected key=value"),
    ("edits_per_word=0", "edits_per_word must be >= 1"),
])
def test_bad_params_exit_2_with_a_message(param, message, capsys):
    code, _, err = run_cli(["perturb", "--lang", "en", "-p", "char.swap.v1", "--param", param, "x y"], capsys)
    assert code == 2 and message in err


@dataclass(frozen=True)
class _Params:
    targets: tuple[str, ...] = ("hi",)
    weights: tuple[float, ...] = ()
    romanize: bool = False
    edits: int = 1
    rate: float = 0.5
    name: str = "x"
    limit: int | None = None
    anything: object = None


def test_params_follow_the_field_types():
    got = params_from_strings(_Params, ["targets=hi,de", "weights=0.5,1", "romanize=yes", "edits=3", "rate=1",
                                        "name=1,2", "limit=none", "anything=1,true,x"], "p")
    assert got == {"targets": ("hi", "de"), "weights": (0.5, 1.0), "romanize": True, "edits": 3, "rate": 1.0,
                   "name": "1,2", "limit": None, "anything": (1, True, "x")}
    assert params_from_strings(_Params, ["targets=zh"], "p") == {"targets": ("zh",)}
    with pytest.raises(ConfigError, match="expected true or false"):
        params_from_strings(_Params, ["romanize=maybe"], "p")
    with pytest.raises(ConfigError, match="expected a number"):
        params_from_strings(_Params, ["rate=fast"], "p")


@pytest.mark.skipif("codemix.lexicon.v1" not in PERTURBATIONS.names(), reason="code-switching not registered")
def test_codemix_targets_from_the_command_line(capsys):
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "codemix.lexicon.v1", "--param", "targets=hi,de",
                            "--severity", "1", "--format", "json",
                            "The children are playing in the house with their friends."], capsys)
    got = _json_lines(out)[0]
    assert code == 0 and got["applied"] and got["perturbed"] != got["original"]


def test_perturb_json_carries_codemix_tags_and_cmi(capsys):
    code, out, _ = run_cli(["perturb", "--lang", "en", "-p", "codemix.lexicon.v1", "--severity", "1.0",
                            "--format", "json", "So I'm not really sure why."], capsys)
    row = json.loads(out.splitlines()[0])
    assert code == 0 and row["applied"]
    assert len(row["meta"]["token_langs"]) == len(row["perturbed"].split())
    assert 0 < row["meta"]["cmi"] <= 100
