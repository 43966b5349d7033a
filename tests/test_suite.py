"""Suite validation: schema, registered names with suggestions, YAML paths and line numbers, exit 2."""
from __future__ import annotations

import textwrap

import pytest
from _util import REPO, run_cli, write_jsonl, xnli_rows

from harness.errors import ConfigError
from harness.suite import load_suite
from harness.types import CLEAN


def _suite(tmp_path, body: str):
    write_jsonl(tmp_path / "data" / "en.jsonl", xnli_rows("en", 5))
    write_jsonl(tmp_path / "data" / "de.jsonl", xnli_rows("de", 5))
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


GOOD = """\
name: t
seed: 3
seeds: [0, 1]
tasks:
  - task: xnli
    data: {format: jsonl, path: "data/{lang}.jsonl"}
    languages: [en, de]
perturbations:
  - id: char.swap.v1
    severities: [0.1, 0.3]
"""


def test_valid_suite_expands_into_cells(tmp_path):
    loaded = load_suite(_suite(tmp_path, GOOD))
    cells = loaded.cells(0, "de")
    assert [(c.perturbation, c.severity, c.seed) for c in cells] == [
        (CLEAN, 0.0, 0), ("char.swap.v1", 0.1, 0), ("char.swap.v1", 0.1, 1),
        ("char.swap.v1", 0.3, 0), ("char.swap.v1", 0.3, 1)]
    assert len(loaded.sha256) == 64


def test_unknown_perturbation_names_yaml_path_line_and_suggestion(tmp_path, capsys):
    p = _suite(tmp_path, GOOD.replace("char.swap.v1", "char.swop.v1"))
    code, out, err = run_cli(["validate", p], capsys)
    assert code == 2
    assert f"{p}:9: perturbations[0].id: unknown perturbation 'char.swop.v1'; did you mean 'char.swap.v1'?" in err
    assert "Traceback" not in err


def test_unknown_language_names_yaml_path_and_suggestion(tmp_path):
    p = _suite(tmp_path, GOOD.replace("[en, de]", "[en, dee]"))
    with pytest.raises(ConfigError) as exc:
        load_suite(p, check_files=False)
    assert f"{p}:7: tasks[0].languages[1]: unknown language 'dee'; did you mean 'de'?" in str(exc.value)


def test_unknown_language_is_reported_once(tmp_path):
    p = _suite(tmp_path, GOOD.replace("[en, de]", "[en, dee]"))
    with pytest.raises(ConfigError) as exc:
        load_suite(p)
    assert str(exc.value).count("dee") == 1  # not again as a missing data file


def test_schema_errors_name_the_path(tmp_path):
    p = _suite(tmp_path, GOOD.replace("severities: [0.1, 0.3]", "severities: [0.1, 1.5]").replace("seed: 3", "seed: 3\nbogus: 1"))
    with pytest.raises(ConfigError) as exc:
        load_suite(p)
    msg = str(exc.value)
    assert "perturbations[0].severities: severity 1.5 is outside (0, 1]" in msg
    assert ": bogus: Extra inputs are not permitted" in msg


def test_missing_data_file_is_reported(tmp_path):
    p = _suite(tmp_path, GOOD.replace("[en, de]", "[en, fr]"))
    with pytest.raises(ConfigError) as exc:
        load_suite(p)
    assert "tasks[0].data.path:" in str(exc.value) and "fr.jsonl does not exist (language 'fr')" in str(exc.value)


def test_invalid_yaml_names_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\ntasks: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_suite(p)
    assert str(exc.value).startswith(f"{p}:") and "invalid YAML" in str(exc.value)


def test_bad_perturbation_params_are_config_errors(tmp_path):
    p = _suite(tmp_path, GOOD.replace("severities: [0.1, 0.3]", "severities: [0.1]\n    params: {nope: 1}"))
    with pytest.raises(ConfigError) as exc:
        load_suite(p)
    assert "perturbations[0].params: char.swap.v1: bad parameters" in str(exc.value)


@pytest.mark.parametrize("suite", sorted((REPO / "suites").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_suite_validates(suite, capsys):
    code, out, err = run_cli(["validate", suite], capsys)
    assert code == 0, err
    assert ": ok" in out


def _problems(tmp_path, body: str) -> str:
    with pytest.raises(ConfigError) as exc:
        load_suite(_suite(tmp_path, body), check_files=False)
    return str(exc.value)


def test_token_task_with_a_word_splitting_perturbation_fails_validation(tmp_path):
    msg = _problems(tmp_path, """\
        name: t
        tasks:
          - task: panx
            languages: [en]
        perturbations:
          - id: char.keyboard.v1
            severities: [0.3]
          - id: char.whitespace.split.v1
            severities: [0.3]
        """)
    assert msg.endswith("suite.yaml:8: perturbations[1].id: char.whitespace.split.v1 splits or merges words, so the word "
                        "labels of tasks[0] (panx) would no longer line up; token tasks take only word-local "
                        "perturbations (`xrobust ls perturbations`, column keeps_token_count): run it in a separate suite")
    assert "perturbations[0]" not in msg


def test_fixed_fields_and_hub_languages_are_checked(tmp_path):
    msg = _problems(tmp_path, """\
        name: t
        tasks:
          - task: xcopa
            languages: [zh]
            perturb_fields: [premise, question]
          - task: tatoeba
            languages: [de, az]
        """)
    assert ("suite.yaml:5: tasks[0].perturb_fields[1]: 'question' cannot be perturbed in xcopa (a fixed keyword); "
            "perturb ['premise', 'choice1', 'choice2']") in msg
    assert "suite.yaml:7: tasks[1].languages[1]: 'az' is not a language of tatoeba's default dataset google/xtreme" in msg
    assert "tasks[1].languages[0]" not in msg


def test_gate_policy_names_only_tasks_and_languages_of_the_suite(tmp_path):
    msg = _problems(tmp_path, GOOD + """\
gate:
  languages: {fr: {clean: 0.05}}
  tasks:
    xnli: {languages: {hi: {clean: 0.1}}}
    pawsx: {}
""")
    assert "gate.languages.fr: 'fr' is not a language of this suite (de, en)" in msg
    assert "gate.tasks.pawsx: 'pawsx' is not a task of this suite (xnli)" in msg
    assert "gate.tasks.xnli.languages.hi: 'hi' is not a language of task 'xnli'" in msg
