"""Data sources: JSONL/TSV with field mapping and file:line errors; HF datasets from disk and local dirs."""
from __future__ import annotations

import json

import pytest
from _util import write_jsonl, xnli_rows

from harness.data import load_examples
from harness.errors import DataError
from harness.suite import DataSpec
from harness.tasks import get_recipe

XNLI = get_recipe("xnli")


def test_jsonl_field_mapping_ids_and_nfc(tmp_path):
    rows = [{"uid": "a", "s1": "Cafe\u0301 ouvert", "s2": "Open", "gold": "entailment"},
            {"uid": "b", "s1": "x", "s2": "y", "gold": "neutral"}]
    write_jsonl(tmp_path / "en.jsonl", rows)
    spec = DataSpec(format="jsonl", path="{lang}.jsonl", fields={"premise": "s1", "hypothesis": "s2"},
                    label_field="gold", id_field="uid")
    exs = load_examples(XNLI, spec, "en", base_dir=tmp_path)
    assert [e.id for e in exs] == ["a", "b"]
    assert exs[0].fields == {"premise": "Café ouvert", "hypothesis": "Open"}  # NFC at the boundary
    assert exs[0].fields["premise"] == "Caf\u00e9 ouvert"
    assert exs[1].label == "neutral" and exs[1].lang == "en"


def test_limit_and_generated_ids(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "id"} for r in xnli_rows("de", 5)]
    write_jsonl(tmp_path / "de.jsonl", rows)
    exs = load_examples(XNLI, DataSpec(format="jsonl", path="{lang}.jsonl"), "de", limit=3, base_dir=tmp_path)
    assert [e.id for e in exs] == ["de:1", "de:2", "de:3"]


@pytest.mark.parametrize("line,expected", [
    ('{"premise": "a", "hypothesis": "b", "label": "entailment"', "data.jsonl:3: invalid JSON"),
    ('{"premise": "a", "label": "entailment"}', "data.jsonl:3: field 'hypothesis' (the xnli field 'hypothesis') is missing"),
    ('{"premise": "a", "hypothesis": "b", "label": "maybe"}', "data.jsonl:3: label 'maybe' is not one of ['entailment', 'neutral', 'contradiction'] (xnli)"),
    ('{"premise": "a", "hypothesis": 3, "label": "neutral"}', "data.jsonl:3: field 'hypothesis' (the xnli field 'hypothesis') is not text (int)"),
    ('[1, 2]', "data.jsonl:3: expected a JSON object, got list"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, line, expected):
    good = json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral"})
    (tmp_path / "data.jsonl").write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_examples(XNLI, DataSpec(format="jsonl", path="data.jsonl"), "en", base_dir=tmp_path)
    assert expected in str(exc.value)


def test_duplicate_ids_are_an_error(tmp_path):
    row = {"id": "same", "premise": "p", "hypothesis": "h", "label": "neutral"}
    write_jsonl(tmp_path / "en.jsonl", [row, row])
    with pytest.raises(DataError, match=r"en.jsonl:2: duplicate example id 'same' \(first at .*en.jsonl:1\)"):
        load_examples(XNLI, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        load_examples(XNLI, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)
    (tmp_path / "en.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no examples for language 'en'"):
        load_examples(XNLI, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)


def test_tsv_with_header_and_quotes(tmp_path):
    p = tmp_path / "en.tsv"
    p.write_text('id\tsentence1\tsentence2\tlabel\n7\tHe said "hi"\tHi\t1\n8\ta\tb\n', encoding="utf-8")
    spec = DataSpec(format="tsv", path="{lang}.tsv")
    with pytest.raises(DataError, match=r"en.tsv:3: 3 columns, header has 4"):
        load_examples(get_recipe("pawsx"), spec, "en", base_dir=tmp_path)
    exs = load_examples(get_recipe("pawsx"), spec, "en", limit=1, base_dir=tmp_path)
    assert exs[0].fields["sentence1"] == 'He said "hi"' and exs[0].label == "1" and exs[0].id == "7"


def test_hf_load_from_disk_maps_classlabel_names(tmp_path):
    import datasets

    feats = datasets.Features({"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"])})
    ds = datasets.Dataset.from_dict({"premise": ["a", "b"], "hypothesis": ["c", "d"], "label": [2, 0]}, features=feats)
    datasets.DatasetDict({"test": ds}).save_to_disk(str(tmp_path / "xnli_en"))
    spec = DataSpec(format="hf_disk", path="xnli_{lang}", split="test")
    exs = load_examples(XNLI, spec, "en", base_dir=tmp_path)
    assert [e.label for e in exs] == ["contradiction", "entailment"]
    assert [e.id for e in exs] == ["en:0", "en:1"]
    with pytest.raises(DataError, match=r"has splits \['test'\]; set `split:`"):
        load_examples(XNLI, DataSpec(format="hf_disk", path="xnli_{lang}"), "en", base_dir=tmp_path)


def test_hf_load_dataset_path_with_a_local_dataset_dir(tmp_path):
    # `format: hf` calls datasets.load_dataset(id, config, split) exactly as for a hub id
    write_jsonl(tmp_path / "my_xnli" / "test.jsonl", xnli_rows("fr", 4))
    spec = DataSpec(format="hf", id=str(tmp_path / "my_xnli"), split="test")
    exs = load_examples(XNLI, spec, "fr")
    assert [e.id for e in exs] == [r["id"] for r in xnli_rows("fr", 4)]


def test_hf_hub_dataset_offline_is_a_clear_data_error():
    spec = DataSpec(format="hf", id="facebook/xnli", config="{lang}", split="test")
    with pytest.raises(DataError, match=r"dataset facebook/xnli \(config 'sw', split 'test'\): cannot load"):
        load_examples(XNLI, spec, "sw")


def test_jsonl_that_is_not_utf8_is_a_data_error_naming_the_file(tmp_path):
    from harness.data import jsonl_rows

    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"premise": "café"}\n'.encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.jsonl: not UTF-8"):
        list(jsonl_rows(bad))
    with pytest.raises(DataError, match=r"missing\.jsonl: cannot read"):
        list(jsonl_rows(tmp_path / "missing.jsonl"))
