"""realworld.paired.v1: a clean text becomes its real noisy version from a pairs file (exact NFC match),
unpaired texts are reported, severity draws a seeded share; SNIPS intent end to end beside synthetic noise."""
from __future__ import annotations

import json
import textwrap
import unicodedata
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from _util import run_cli, write_jsonl

from harness.errors import ConfigError, DataError
from harness.perturbation import Span, make_perturbation
from harness.rng import derive_rng
from harness.tasks import get_recipe
from harness.text import grapheme_edit_rate, nfc

PID = "realworld.paired.v1"
LANGS = ("es", "fr", "hi")


def _snips(shared_data: Path, lang: str) -> list[dict]:
    path = shared_data / "noise" / "realworld_noisy" / f"snips_{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _versions(rows: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if nfc(r["noisy"]) not in out[nfc(r["clean"])]:
            out[nfc(r["clean"])].append(nfc(r["noisy"]))
    return out


@pytest.fixture(scope="module")
def snips_pert(shared_data):
    return make_perturbation(PID, {"path": str(shared_data / "noise" / "realworld_noisy" / "snips_{lang}.jsonl")})


def _apply(p, text, severity, key, lang, seed=0):
    return p.perturb(nfc(text), severity, derive_rng(seed, PID, severity, key, "text"), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_every_clean_snips_text_becomes_its_noisy_version(shared_data, snips_pert, lang):
    rows = _snips(shared_data, lang)
    versions = _versions(rows)
    for r in rows:
        clean, noisy = nfc(r["clean"]), nfc(r["noisy"])
        res = _apply(snips_pert, r["clean"], 1.0, r["id"], lang)
        assert res.applied and res.reason == ""
        if len(versions[clean]) == 1:
            assert res.text == noisy
        else:  # the same clean text listed with several noisy versions: one of them, chosen by the RNG
            assert res.text in versions[clean]
        (span,) = res.alignment
        assert clean[:span.old_start] + res.text[span.new_start:span.new_end] + clean[span.old_end:] == res.text
        assert clean[:span.old_start] == res.text[:span.new_start] and clean[span.old_end:] == res.text[span.new_end:]
        assert clean[span.old_start:span.old_end] != res.text[span.new_start:span.new_end]  # an insertion may be empty on the left
        assert res.edit_rate == grapheme_edit_rate(clean, res.text) > 0
        assert 1 <= res.n_edited <= res.n_eligible
    assert sum(unicodedata.normalize("NFC", r["clean"]) != r["clean"] for r in rows) == (315 if lang == "hi" else 0)


def test_exact_outputs_alignment_and_counts(shared_data, snips_pert):
    es = _apply(snips_pert, "Añade el álbum a mi lista de reproducción Flow Espaol", 1.0, "k", "es")
    assert es.text == "Añade el álbum en mi lista de reproducción Flow Espaol"
    assert es.alignment[0] == Span(15, 16, 15, 17) and (es.n_edited, es.n_eligible) == (1, 10)
    # snips-es-1: two words changed (canción -> cancion, Me -> me): one span from the first to the last change
    first = _snips(shared_data, "es")[0]
    r = _apply(snips_pert, first["clean"], 1.0, "k", "es")
    assert r.text == first["noisy"] and r.n_edited == 2
    assert r.alignment[0] == Span(0, 29, 0, 29)  # 'M' … 'ó' of canción


def test_unpaired_texts_are_reported_not_edited(snips_pert):
    for text, lang in [("Pon música de los Beatles por favor", "es"), ("", "fr"), ("नमस्ते दुनिया", "hi")]:
        res = _apply(snips_pert, text, 1.0, "x", lang)
        assert (res.text, res.applied, res.reason) == (text, False, "no paired noisy version")
        assert res.alignment == () and res.edit_rate == 0.0 and res.n_edited == 0


def test_deterministic_and_severity_draws_a_seeded_share(shared_data, snips_pert):
    rows = _snips(shared_data, "es")
    at_half = [_apply(snips_pert, r["clean"], 0.5, r["id"], "es").applied for r in rows]
    assert at_half == [_apply(snips_pert, r["clean"], 0.5, r["id"], "es").applied for r in rows]
    assert 0.42 < sum(at_half) / len(rows) < 0.58
    other_seed = [_apply(snips_pert, r["clean"], 0.5, r["id"], "es", seed=1).applied for r in rows]
    assert other_seed != at_half
    skipped = [_apply(snips_pert, r["clean"], 0.5, r["id"], "es") for r in rows]
    assert {s.reason for s in skipped if not s.applied} == {"severity selected no text"}
    assert not any(_apply(snips_pert, r["clean"], 0.0, r["id"], "es").applied for r in rows[:50])


def test_duplicate_clean_texts_choose_a_version_with_the_example_rng(shared_data, snips_pert):
    versions = _versions(_snips(shared_data, "fr"))
    clean, options = next((c, v) for c, v in versions.items() if len(v) > 1)
    seen = {_apply(snips_pert, clean, 1.0, f"ex{i}", "fr").text for i in range(40)}
    assert seen == set(options)


def test_user_pairs_file_with_own_fields_nfc_and_identical_pairs(tmp_path):
    write_jsonl(tmp_path / "pairs_de.jsonl", [
        {"src": "Cafe\u0301 bitte", "tgt": "Kaffee bite"},           # decomposed é: matched after NFC
        {"src": "gleich", "tgt": "gleich"},                           # a pair that changes nothing
    ])
    p = make_perturbation(PID, {"path": str(tmp_path / "pairs_{lang}.jsonl"), "clean_field": "src",
                                "noisy_field": "tgt"})
    res = _apply(p, "Café bitte", 1.0, "k", "de")
    assert res.applied and res.text == "Kaffee bite" and res.alignment[0] == Span(0, 8, 0, 9)  # common suffix "te"
    same = _apply(p, "gleich", 1.0, "k", "de")
    assert not same.applied and same.reason == "the paired noisy version equals the text"
    with pytest.raises(ConfigError, match=r"pairs_fr\.jsonl not found \(language 'fr'"):
        _apply(p, "bonjour", 1.0, "k", "fr")


def test_bad_parameters_and_files_are_typed_errors(tmp_path):
    with pytest.raises(ConfigError, match="two different column names"):
        make_perturbation(PID, {"path": "x.jsonl", "clean_field": "a", "noisy_field": "a"})
    with pytest.raises(ConfigError, match="only the placeholder"):
        make_perturbation(PID, {"path": "data/{language}.jsonl"})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"clean": "a", "noisy": "b"}\n{"clean": "c"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=rf"{bad}:2: field 'noisy' is missing"):
        _apply(make_perturbation(PID, {"path": str(bad)}), "a", 1.0, "k", "en")
    default = _apply(make_perturbation(PID), "a", 1.0, "k", "en")
    assert not default.applied and default.reason == "no paired file: set the `path` parameter"


# --- SNIPS intent end to end: paired real noise beside a synthetic perturbation ---------------------------

@pytest.fixture(scope="module")
def tiny_intent_dir(tmp_path_factory, tiny_tokenizer_dir) -> Path:
    """An untrained 1-layer XLM-R sequence classifier with the 7 SNIPS intents."""
    from harness.modelbuild import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-intent"), tiny_tokenizer_dir, "sequence_classification",
                            get_recipe("snips_intent").label_names)


def test_snips_intent_run_with_paired_noise_beside_synthetic(tmp_path, shared_data, tiny_intent_dir, capsys,
                                                              monkeypatch):
    n, n_paired = 10, 6
    rows = {lang: _snips(shared_data, lang)[:n] for lang in ("es", "hi")}
    for lang, rs in rows.items():  # a user's own pairs file: only the first 6 texts, own column names
        write_jsonl(tmp_path / "pairs" / f"{lang}.jsonl", [{"text": r["clean"], "noisy_text": r["noisy"]}
                                                          for r in rs[:n_paired]])
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent(f"""\
        name: snips-realworld
        tasks:
          - task: snips_intent
            data: {{format: jsonl, path: "{shared_data}/noise/realworld_noisy/snips_{{lang}}.jsonl",
                   fields: {{text: clean}}}}
            languages: [es, hi]
            limit: {n}
        perturbations:
          - id: realworld.paired.v1
            severities: [1.0]
            params: {{path: "pairs/{{lang}}.jsonl", clean_field: text, noisy_field: noisy_text}}
          - id: char.swap.v1
            severities: [0.3]
        stats: {{bootstrap_samples: 100}}
        """), encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # params.path, like data paths, is relative to the suite file
    assert run_cli(["validate", suite], capsys)[0] == 0
    out = tmp_path / "run"
    code, _, err = run_cli(["run", suite, "--model", tiny_intent_dir, "--out", out, "-q"], capsys)
    assert code == 0, err
    records = pd.read_parquet(out / "records.parquet")
    real = records[records.perturbation == PID].set_index(["lang", "example_id"])
    for lang, rs in rows.items():
        for i, r in enumerate(rs):
            rec = real.loc[(lang, r["id"])]
            assert rec["applied"] == (i < n_paired) and rec["label"] == r["intent"]
            assert rec["perturbed_fields"] == (json.dumps({"text": nfc(r["noisy"])}, ensure_ascii=False)
                                               if i < n_paired else "")
    table = pd.read_csv(out / "rows.csv")
    cells = table[table.metric == "accuracy"].set_index(["lang", "perturbation"])
    for lang in ("es", "hi"):
        assert cells.loc[(lang, PID), "n_applied"] == n_paired and cells.loc[(lang, PID), "n"] == n
        assert cells.loc[(lang, "char.swap.v1"), "n"] == n
    assert set(table["metric"]) == {"accuracy", "macro_f1"}


def test_suite_names_a_missing_pairs_file_before_running(tmp_path, capsys):
    write_jsonl(tmp_path / "data" / "es.jsonl", [{"text": "hola", "label": "PlayMusic"}])
    write_jsonl(tmp_path / "data" / "hi.jsonl", [{"text": "नमस्ते", "label": "PlayMusic"}])
    write_jsonl(tmp_path / "pairs" / "es.jsonl", [{"clean": "hola", "noisy": "ola"}])  # no hi pairs
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent("""\
        name: missing-pairs
        tasks:
          - task: snips_intent
            data: {format: jsonl, path: "data/{lang}.jsonl"}
            languages: [es, hi]
        perturbations:
          - id: realworld.paired.v1
            severities: [1.0]
            params: {path: "pairs/{lang}.jsonl"}
        """), encoding="utf-8")
    code, _, err = run_cli(["validate", suite], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip().endswith(f"suite.yaml:9: perturbations[0].params.path: {tmp_path / 'pairs' / 'hi.jsonl'} is "
                                "not a file (language 'hi'; a relative path is taken from the suite file's folder)")
