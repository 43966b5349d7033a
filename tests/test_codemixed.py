"""Code-mixed recipes: the code-mixing index of each example from its language tags, label sets of the shared
files, language-pair checks, and records of a run carrying each example's CMI."""
from __future__ import annotations

import json
import math
import random
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from _util import run_cli, write_jsonl

from attacks.codemix.cmi import cmi as perturbation_cmi
from harness.data import load_examples
from harness.errors import DataError
from harness.suite import DataSpec
from harness.tasks import get_recipe
from harness.tasks.codemixed import cmi_from_tags

SENTIMENT = ("positive", "negative", "neutral")
# (recipe, language, file of ../shared/data/code_mixed, tagged?)
SHARED = [
    ("sentimix", "hi-en", "sentimix_hin_eng", True),
    ("sentimix", "es-en", "sentimix_spa_eng", True),
    ("dravidian_sentiment", "ta-en", "dravidian_tam_eng_sentiment", False),
    ("dravidian_sentiment", "ml-en", "dravidian_mal_eng_sentiment", False),
    ("dravidian_offensive", "kn-en", "dravidian_kan_eng_offensive", False),
    ("gluecos_nli", "hi-en", "nli_hin_eng", False),
]


@pytest.mark.parametrize("tags, expected", [
    (["hi", "hi", "en", "other"], 100 * 1 / 3),          # N = 3 language tokens, matrix hi has 2
    (["en", "hi"], 50.0),
    (["en", "en", "en"], 0.0),
    (["other", "ne", "unk", "univ"], 0.0),                # no language token: CMI 0 by definition
    ([], 0.0),
    (["es", "en", "mixed", "ne"], 100 * 2 / 3),           # mixed counts in N, ne does not
    (["fw", "fw", "en"], 100 * 2 / 3),                    # fw is never the matrix language
    (["ambiguous", "es", "es", "en", "other"], 100 * 2 / 4),
    (["EN", "Hi", "hi"], 100 * 1 / 3),                    # tags are case-insensitive
])
def test_cmi_from_tags_exact_values(tags, expected):
    assert cmi_from_tags(tags) == expected


def test_cmi_agrees_with_the_code_switching_perturbation_on_its_tags():
    rng = random.Random(7)
    for _ in range(300):
        tags = [rng.choice(["en", "hi", "de", "univ"]) for _ in range(rng.randint(0, 12))]
        assert cmi_from_tags(tags) == perturbation_cmi(tags)


def _rows() -> list[dict]:
    return [
        {"id": "a", "text": "yaar this movie", "label": "positive", "lang_pair": "hin-eng",
         "tokens": ["yaar", "this", "movie"], "lang_ids": ["hi", "en", "en"]},
        {"id": "b", "text": "bahut bura hai !", "label": "negative", "lang_pair": "hin-eng",
         "tokens": ["bahut", "bura", "hai", "!"], "lang_ids": ["hi", "hi", "hi", "other"]},
        {"id": "c", "text": "kal @ravi ke saath movie dekhi", "label": "neutral", "lang_pair": "hin-eng",
         "tokens": ["kal", "@ravi", "ke", "saath", "movie", "dekhi"], "lang_ids": ["hi", "other", "hi", "hi", "en", "hi"]},
        {"id": "d", "text": "no tags here", "label": "neutral", "lang_pair": "hin-eng"},
    ]


EXPECTED_CMI = {"a": 100 * 1 / 3, "b": 0.0, "c": 100 * 1 / 5, "d": math.nan}


def test_loaded_examples_carry_the_cmi_of_their_tags(tmp_path):
    path = write_jsonl(tmp_path / "hi-en.jsonl", _rows())
    examples = load_examples(get_recipe("sentimix"), DataSpec(format="jsonl", path=str(path)), "hi-en")
    got = {e.id: e.meta["cmi"] for e in examples}
    assert got.keys() == EXPECTED_CMI.keys()
    for k, v in EXPECTED_CMI.items():
        assert (math.isnan(got[k]) and math.isnan(v)) or got[k] == v
    assert [e.label for e in examples] == ["positive", "negative", "neutral", "neutral"]
    assert all(e.lang == "hi-en" for e in examples)


def test_meta_fields_columns_override_the_computed_cmi(tmp_path):
    rows = [dict(_rows()[0], cmi=12.5)]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    spec = DataSpec(format="jsonl", path=str(path), meta_fields=["cmi"])
    assert load_examples(get_recipe("sentimix"), spec, "hi-en")[0].meta["cmi"] == 12.5


@pytest.mark.parametrize("change, message", [
    ({"lang_pair": "spa-eng"}, "the row's lang_pair is 'spa-eng' (es-en) but the task language is 'hi-en'"),
    ({"lang_ids": ["hi", "en"]}, "2 language tags in 'lang_ids' for 3 tokens in 'tokens'"),
    ({"lang_ids": "hi en en"}, "'lang_ids' must be a list of language tags"),
])
def test_bad_code_mixed_rows_name_file_and_line(tmp_path, change, message):
    rows = _rows()
    rows[0] = {**rows[0], **change}
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as exc:
        load_examples(get_recipe("sentimix"), DataSpec(format="jsonl", path=str(path)), "hi-en")
    assert str(exc.value).startswith(f"{path.resolve()}:1: ") and message in str(exc.value)


@pytest.mark.parametrize("task, lang, name, tagged", SHARED)
def test_shared_files_load_with_complete_label_sets(shared_data, task, lang, name, tagged):
    path = shared_data / "code_mixed" / f"{name}.jsonl"
    recipe = get_recipe(task)
    examples = load_examples(recipe, DataSpec(format="jsonl", path=str(path)), lang)
    labels = {json.loads(line)["label"] for line in path.read_text(encoding="utf-8").splitlines()}
    assert len(examples) == 1000 and labels == set(recipe.label_names) == {e.label for e in examples}
    cmis = [e.meta["cmi"] for e in examples]
    if tagged:
        assert all(0.0 <= c <= 100.0 for c in cmis) and any(c > 0 for c in cmis)
    else:
        assert all(math.isnan(c) for c in cmis)  # no tags: never a guessed CMI
    assert not recipe.hf_source and "No default Hugging Face source" in recipe.description


def test_first_sentimix_tweet_has_the_hand_counted_cmi(shared_data):
    # 30 tokens: 13 hi, 10 en, 7 other (punctuation, the number, URL pieces) -> N = 23, matrix hi
    spec = DataSpec(format="jsonl", path=str(shared_data / "code_mixed" / "sentimix_hin_eng.jsonl"))
    first = load_examples(get_recipe("sentimix"), spec, "hi-en", limit=1)[0]
    assert first.id == "sentimix-hin-eng-17602" and first.meta["cmi"] == 100 * 10 / 23


@pytest.fixture(scope="module")
def tiny_sentiment_dir(tmp_path_factory, tiny_tokenizer_dir) -> Path:
    """An untrained 1-layer XLM-R sequence classifier with the SentiMix labels."""
    from harness.modelbuild import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-sentiment"), tiny_tokenizer_dir,
                            "sequence_classification", SENTIMENT)


def test_records_of_a_code_mixed_run_carry_each_examples_cmi(tmp_path, tiny_sentiment_dir, capsys):
    write_jsonl(tmp_path / "data" / "hi-en.jsonl", _rows())
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent("""\
        name: codemixed
        tasks:
          - task: sentimix
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [hi-en]
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        stats: {bootstrap_samples: 100}
        """), encoding="utf-8")
    out = tmp_path / "run"
    code, _, err = run_cli(["run", suite, "--model", tiny_sentiment_dir, "--out", out, "-q"], capsys)
    assert code == 0, err
    records = pd.read_parquet(out / "records.parquet")
    assert set(records["perturbation"]) == {"clean", "char.swap.v1"} and len(records) == 8
    for rec in records.itertuples():
        want = EXPECTED_CMI[rec.example_id]
        assert (math.isnan(rec.cmi) and math.isnan(want)) or rec.cmi == want
        assert rec.lang == "hi-en"
    rows = pd.read_csv(out / "rows.csv")
    assert rows["mean_cmi"].tolist() == pytest.approx([(100 / 3 + 0.0 + 20.0) / 3] * len(rows), abs=1e-12)
    assert set(rows["lang_name"]) == {"Hindi–English code-mixed"}


def test_validate_refuses_a_code_mixed_task_without_data(tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: x\ntasks:\n  - task: gluecos_nli\n    languages: [hi-en]\n", encoding="utf-8")
    code, _, err = run_cli(["validate", suite], capsys)
    assert code == 2 and f"{suite}:3: tasks[0]: task 'gluecos_nli' has no default dataset; add a `data:` section" in err
