"""The dataset registry: every task × language names a real `datasets.load_dataset` source, the "hf" path
loads offline from a local dataset (ClassLabel ids become names), task × language pairs outside a recipe's
default source fail with the valid list (library and `xrobust validate`), and `xrobust ls tasks` prints it."""
from __future__ import annotations

import json

import datasets
import pytest
from _util import run_cli, write_jsonl, xnli_rows

from harness.data import load_examples
from harness.errors import ConfigError
from harness.languages import LANGUAGES
from harness.suite import DataSpec
from harness.tasks import TASKS, adapter_class, get_recipe

XNLI_LABELS = ["entailment", "neutral", "contradiction"]


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_language_has_a_complete_source_or_says_it_has_none(name):
    recipe = TASKS.get(name)
    assert recipe.languages and all(lang in LANGUAGES for lang in recipe.languages)
    if not recipe.hf_source:
        assert "data:" in recipe.description  # tells the user to bring the data
        return
    for lang in recipe.languages:
        src = recipe.hf_source_for(lang)
        assert src["id"] and src["split"]
        assert not any("{" in v or "}" in v for v in src.values()), src
        assert DataSpec(format="hf", **src).id == src["id"]


@pytest.fixture
def local_hub(tmp_path, monkeypatch):
    """Local datasets (parquet with ClassLabel features, one directory per language) and a private cache."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")

    def make(task: str, lang: str, rows: list[dict], names: list[str]):
        features = datasets.Features({**{k: datasets.Value("string") for k in rows[0] if k != "label"},
                                      "label": datasets.ClassLabel(names=names)})
        ds = datasets.Dataset.from_list([{**r, "label": names.index(str(r["label"]))} for r in rows], features=features)
        (tmp_path / task / lang).mkdir(parents=True)
        ds.to_parquet(str(tmp_path / task / lang / "test.parquet"))
        return tmp_path / task
    return make


def test_hf_format_loads_a_local_dataset_directory_offline(local_hub):
    rows = xnli_rows("hi", 5)
    root = local_hub("xnli", "hi", rows, XNLI_LABELS)
    spec = DataSpec(format="hf", id=str(root / "{lang}"), split="test")
    examples = load_examples(get_recipe("xnli"), spec, "hi")
    assert [e.id for e in examples] == [r["id"] for r in rows]
    assert [e.label for e in examples] == [r["label"] for r in rows]  # ClassLabel ids -> names
    assert examples[0].fields == {"premise": rows[0]["premise"], "hypothesis": rows[0]["hypothesis"]}


@pytest.mark.parametrize("task, lang, names", [("xnli", "de", XNLI_LABELS), ("pawsx", "ja", ["0", "1"])])
def test_default_source_calls_load_dataset_with_the_registry_id(local_hub, monkeypatch, shared_data, task, lang, names):
    rows = [json.loads(x) for x in (shared_data / "xtreme_r" / task / f"{lang}.jsonl").read_text().splitlines()[:4]]
    root = local_hub(task, lang, rows, names)
    calls = []
    real = datasets.load_dataset

    def hub(path, name=None, split=None, **kwargs):  # stands in for the hub: same call, local files
        calls.append((path, name, split))
        return real(str(root / name), split=split, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", hub)
    examples = load_examples(get_recipe(task), None, lang)
    src = get_recipe(task).hf_source_for(lang)
    assert calls == [(src["id"], src["config"], src["split"])]
    assert calls[0] == {"xnli": ("facebook/xnli", "de", "test"),
                        "pawsx": ("google-research-datasets/paws-x", "ja", "test")}[task]
    assert [(e.id, e.label) for e in examples] == [(r["id"], str(r["label"])) for r in rows]


def test_library_refuses_languages_outside_the_default_source(monkeypatch):
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("must not reach the hub"))
    with pytest.raises(ConfigError) as exc:
        load_examples(get_recipe("xnli"), None, "ja")
    assert str(exc.value) == ("task 'xnli': 'ja' is not a language of its default dataset facebook/xnli; valid "
                              "languages: ar, bg, de, el, en, es, fr, hi, ru, sw, th, tr, ur, vi, zh")
    with pytest.raises(ConfigError, match="task 'sentimix' has no default dataset; give a `data:` section"):
        load_examples(get_recipe("sentimix"), None, "hi-en")


def test_validate_names_yaml_path_and_valid_languages(tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: x\ntasks:\n  - task: xnli\n    languages: [en, ja, xx]\n", encoding="utf-8")
    code, _, err = run_cli(["validate", suite], capsys)
    assert code == 2
    assert (f"{suite}:4: tasks[0].languages[1]: 'ja' is not a language of xnli's default dataset facebook/xnli; "
            "valid languages: ar, bg, de, el, en, es, fr, hi, ru, sw, th, tr, ur, vi, zh (or add a `data:` section "
            "with your own ja data)") in err
    assert "tasks[0].languages[2]: unknown language 'xx'" in err and "languages[0]" not in err


def test_validate_allows_any_known_language_with_own_data(tmp_path, capsys):
    write_jsonl(tmp_path / "data" / "ja.jsonl", [{"premise": "a", "hypothesis": "b", "label": "neutral"}])
    suite = tmp_path / "suite.yaml"
    suite.write_text('name: x\ntasks:\n  - task: xnli\n    data: {format: jsonl, path: "data/{lang}.jsonl"}\n'
                     "    languages: [ja]\n", encoding="utf-8")
    code, out, err = run_cli(["validate", suite], capsys)
    assert code == 0, err


def test_ls_tasks_json_lists_every_recipe(capsys):
    code, out, _ = run_cli(["ls", "tasks", "--format", "json"], capsys)
    items = json.loads(out)
    assert code == 0 and [i["id"] for i in items] == TASKS.names()
    for it in items:
        recipe = TASKS.get(it["id"])
        assert it["languages"] == list(recipe.languages) and it["task_type"] == recipe.task_type
        assert it["metrics"] == list(adapter_class(recipe.task_type).metrics_for(recipe))
        assert set(it["hf_sources"]) == (set(recipe.languages) if recipe.hf_source else set())
    by_id = {i["id"]: i for i in items}
    assert by_id["xnli"]["metrics"] == ["accuracy", "macro_f1"]
    assert by_id["xnli"]["hf"] == "facebook/xnli:{lang}:test"
    assert by_id["xnli"]["hf_sources"]["th"] == {"id": "facebook/xnli", "config": "th", "split": "test"}
    assert by_id["sentimix"]["languages"] == ["hi-en", "es-en"] and by_id["sentimix"]["hf"] == ""
    assert by_id["snips_intent"]["languages"] == ["en", "es", "fr", "hi"]
    assert {"dravidian_sentiment", "dravidian_offensive", "gluecos_nli"} <= set(by_id)


def test_ls_tasks_table_shows_metrics_and_sources(capsys):
    code, out, _ = run_cli(["ls", "tasks"], capsys)
    header = out.splitlines()[1]
    assert code == 0 and [h.strip(" ┃") for h in header.split("┃") if h.strip()] == [
        "id", "task_type", "metrics", "languages", "hf"]
    assert "snips_intent" in out and "accuracy" in out


def test_a_language_the_hub_dataset_lacks_needs_a_data_section():
    from harness.data import load_examples
    from harness.errors import ConfigError
    from harness.tasks import get_recipe

    panx = get_recipe("panx")
    assert "az" in panx.languages and "az" not in panx.hf_languages and len(panx.hf_languages) == 40
    with pytest.raises(ConfigError) as exc:
        load_examples(panx, None, "az")
    assert "'az' is not a language of its default dataset google/xtreme" in str(exc.value)
    assert "give a `data:` section for the others" in str(exc.value)
