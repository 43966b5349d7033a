"""Token classification: word-local perturbations keep words and tags aligned, entity counts equal seqeval,
XTREME-style model inputs (first sub-token, long sentences split), and `xrobust run` on PAN-X and UD-POS."""
from __future__ import annotations

import doctest
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _util import run_cli, write_jsonl

import harness.tasks.token as token_mod
from harness.data import load_examples
from harness.errors import ConfigError, DataError
from harness.metrics import entity_scores, token_accuracy
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, Span, make_perturbation, splice
from harness.rng import derive_rng
from harness.suite import DataSpec
from harness.tasks import get_recipe, make_adapter
from harness.tasks.token import (HI_EN_POS_TAGS, PANX_TAGS, UPOS_TAGS, TokenClassificationAdapter, WordEncoder,
                                 chunk_words, entity_counts, entity_prf, map_words)
from harness.types import Cell, Example


def _rows(path: Path, n: int | None = None) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in (lines[:n] if n else lines) if x.strip()]


def _examples(recipe_name: str, path: Path, lang: str, n: int | None = None) -> list[Example]:
    recipe = get_recipe(recipe_name)
    out = []
    for i, row in enumerate(_rows(path, n)):
        fields, label = TokenClassificationAdapter.parse_row(recipe, row, {}, recipe.label_field, f"{path}:{i + 1}")
        out.append(Example(row["id"], lang, fields, label))
    return out


@pytest.fixture(scope="module")
def ner_adapter() -> TokenClassificationAdapter:
    """An adapter over a stand-in predictor (perturbation needs no model)."""
    predictor = SimpleNamespace(id2label=dict(enumerate(PANX_TAGS)))
    return make_adapter(get_recipe("panx"), predictor, {}, "tasks[0]")


def test_doctests():
    assert doctest.testmod(token_mod).failed == 0


# --- (1) the must-show -------------------------------------------------------------------------------
def test_word_local_perturbations_keep_every_panx_word_and_tag(shared_data, ner_adapter):
    """After any word-local perturbation, len(tokens) == len(labels) for all PAN-X languages in the shared data,
    the label sequence is unchanged, and the perturbed words joined with spaces are the perturbed text."""
    files = sorted((shared_data / "xtreme_r" / "panx").glob("*.jsonl"))
    assert len(files) == 47
    word_local = [pid for pid, cls in PERTURBATIONS.items() if cls.keeps_token_count]
    assert {"char.swap.v1", "char.insert.v1", "char.punct.v1", "codemix.lexicon.v1"} <= set(word_local)
    inexact = applied = res_applied = total = 0
    for pid in word_local:
        pert = make_perturbation(pid)
        for f in files:
            for ex in _examples("panx", f, f.stem, 20):
                cell = Cell("panx", ex.lang, pid, 0.5, 0)
                v = ner_adapter.perturb(ex, pert, cell, ("tokens",))
                words, new = ex.fields["tokens"], v.fields["tokens"]
                assert len(new) == len(words) == len(v.gold) and v.gold == ex.label, (pid, ex.id)
                res = pert.perturb(" ".join(words), 0.5, derive_rng(0, pid, 0.5, ex.id, "tokens"), ex.lang)
                total += 1
                res_applied += res.applied
                if v.applied:
                    applied += 1
                    assert " ".join(new) == res.text, (pid, ex.id)
                    assert v.n_edited == sum(a != b for a, b in zip(words, new)) > 0
                    assert v.edit_rate > 0
                else:
                    assert new == words and v.edit_rate == 0
                    inexact += res.applied  # an edit crossed a word boundary: kept, counted as not applied
    assert total == len(word_local) * 47 * 20
    # perturbation ids are versioned (same id, same output), so this count is fixed for the shared data:
    # no edit of any word-local perturbation crossed a word boundary here
    assert inexact == 0 and applied == res_applied
    assert applied > 0.6 * total


def test_an_edit_across_a_word_boundary_keeps_the_words_and_reports_not_applied(ner_adapter):
    class Coarse(Perturbation):
        """Changes the last word but reports one region over the whole text (as an NFC recomposition does)."""

        id = "test.coarse.v1"

        def perturb(self, text, severity, rng, lang="und"):
            out = text[:-1] + "x"
            return PerturbResult(out, True, 1, 1, 0.1, (Span(0, len(text), 0, len(out)),))

    ex = Example("e1", "en", {"tokens": ("New", "York")}, ("B-LOC", "I-LOC"))
    v = ner_adapter.perturb(ex, Coarse(), Cell("panx", "en", "test.coarse.v1", 0.5, 0), ("tokens",))
    assert v.fields["tokens"] == ("New", "York") and not v.applied and v.edit_rate == 0 and v.n_edited == 0


def test_map_words_edges():
    text, al = splice("ab cd ef", [(2, 2, ","), (6, 8, "")])  # insertion at a word's end; a word emptied
    res = PerturbResult(text, True, 3, 2, 0.3, al)
    assert map_words(("ab", "cd", "ef"), res) == ("ab,", "cd", "")
    ex = Example("e", "en", {"tokens": ("ab", "cd", "ef")}, ("O", "O", "O"))

    class Fixed(Perturbation):
        id = "test.fixed.v1"

        def perturb(self, text, severity, rng, lang="und"):
            return res

    predictor = SimpleNamespace(id2label=dict(enumerate(PANX_TAGS)))
    v = make_adapter(get_recipe("panx"), predictor, {}, "t").perturb(ex, Fixed(), Cell("panx", "en", "x", 0.5, 0),
                                                                    ("tokens",))
    assert v.fields["tokens"] == ("ab,", "cd", "ef") and v.n_edited == 1  # the emptied word keeps its text
    # the space between two words replaced: inexact
    text, al = splice("ab cd", [(2, 3, "_")])
    assert map_words(("ab", "cd"), PerturbResult(text, True, 2, 1, 0.2, al)) is None
    # a changed text without alignment cannot be mapped
    assert map_words(("ab", "cd"), PerturbResult("abx cd", True, 2, 1, 0.2, ())) is None


# --- (2) entity counts equal seqeval -------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh", "ar", "hi", "de", "ja", "sw"])
def test_entity_counter_equals_seqeval_on_panx_with_random_predictions(shared_data, lang):
    gold = [tuple(r["ner_tags"]) for r in _rows(shared_data / "xtreme_r" / "panx" / f"{lang}.jsonl")]
    rng = np.random.Generator(np.random.PCG64(7))
    for flip in (1.0, 0.3, 0.05):  # fully random tags, then mostly-gold tags (so many entities are right)
        pred = [tuple(PANX_TAGS[rng.integers(7)] if rng.random() < flip else t for t in g) for g in gold]
        sums = np.array([entity_counts(g, p) for g, p in zip(gold, pred)], dtype=float).sum(axis=0)
        ours = {k: float(v) for k, v in entity_prf(sums).items()}
        ref = entity_scores(gold, pred)
        assert ours == {"entity_f1": ref["f1"], "entity_precision": ref["precision"], "entity_recall": ref["recall"]}
    assert sums[1] > 0 and 0 < sums[0] < sums[2]


def test_entity_counts_and_zero_cases():
    assert entity_counts(("O", "O"), ("O", "O")) == (0, 0, 0)
    assert entity_counts(("B-PER", "I-PER"), ("I-PER", "I-PER")) == (1, 1, 1)  # seqeval: I after O opens a chunk
    assert entity_counts(("B-PER", "I-ORG"), ("B-PER", "B-ORG")) == (2, 2, 2)
    assert {k: float(v) for k, v in entity_prf(np.zeros(3)).items()} == \
        {"entity_f1": 0.0, "entity_precision": 0.0, "entity_recall": 0.0}


# --- data -----------------------------------------------------------------------------------------------------
def test_parse_row_errors_name_the_row(tmp_path):
    recipe = get_recipe("panx")
    cases = [
        ({"tokens": ["a", "b"], "ner_tags": ["O"]}, "2 tokens in 'tokens' but 1 tags in 'ner_tags'"),
        ({"tokens": ["a", 3], "ner_tags": ["O", "O"]}, "tokens[1] = 3 is not a string"),
        ({"tokens": ["a"], "ner_tags": ["B-MISC"]}, "ner_tags[0] = 'B-MISC' is not one of"),
        ({"tokens": ["a"], "ner_tags": [9]}, "ner_tags[0] = 9 is not a tag index (0..6)"),
        ({"tokens": "a b", "ner_tags": ["O", "O"]}, "token column 'tokens' must be a list"),
        ({"words": ["a"], "ner_tags": ["O"]}, "token column 'tokens' is missing"),
        ({"tokens": [], "ner_tags": []}, "has no tokens"),
    ]
    for i, (row, message) in enumerate(cases):
        path = write_jsonl(tmp_path / f"bad{i}.jsonl", [{"tokens": ["x"], "ner_tags": ["O"]}, row])
        with pytest.raises(DataError) as err:
            load_examples(recipe, DataSpec(format="jsonl", path=str(path)), "en")
        assert f"bad{i}.jsonl:2: " in str(err.value) and message in str(err.value), str(err.value)


def test_integer_tags_are_google_xtreme_class_indices_and_words_are_nfc():
    recipe = get_recipe("udpos")
    fields, label = TokenClassificationAdapter.parse_row(
        recipe, {"tokens": ["Cafe\u0301", "is"], "pos_tags": [7, 3]}, {}, "pos_tags", "row")
    assert fields == {"tokens": ("Café", "is")} and label == ("NOUN", "AUX")


def test_recipes(shared_data):
    panx, udpos = get_recipe("panx"), get_recipe("udpos")
    assert len(panx.languages) == 48 and len(udpos.languages) == 38
    assert {p.stem for p in (shared_data / "xtreme_r" / "panx").glob("*.jsonl")} | {"th"} == set(panx.languages)
    assert {p.stem for p in (shared_data / "xtreme_r" / "udpos").glob("*.jsonl")} <= set(udpos.languages)
    assert panx.hf_source_for("zh") == {"id": "google/xtreme", "config": "PAN-X.zh", "split": "test"}
    assert udpos.hf_source_for("en") == {"id": "google/xtreme", "config": "udpos.English", "split": "test",
                                         "label_field": "pos_tags"}
    assert udpos.hf_source_for("fa")["config"] == "udpos.Persian" and "config" not in udpos.hf_source_for("wo")
    assert len(UPOS_TAGS) == 17
    # the code-mixed recipes read every row of their files: the tag sets are complete
    cm = shared_data / "code_mixed"
    for name, file, n, tags in (("ner_hi_en", "ner_hin_eng.jsonl", 1000, set(PANX_TAGS)),
                                ("pos_hi_en", "pos_hin_eng.jsonl", 465, set(HI_EN_POS_TAGS))):
        recipe = get_recipe(name)
        assert recipe.languages == ("hi-en",)
        exs = load_examples(recipe, DataSpec(format="jsonl", path=str(cm / file)), "hi-en")
        assert len(exs) == n and {t for ex in exs for t in ex.label} == tags
        cmis = np.array([ex.meta["cmi"] for ex in exs])
        if name == "ner_hi_en":  # no word language ids in the NER file: no CMI is guessed
            assert np.isnan(cmis).all()
        else:
            assert not np.isnan(cmis).any() and (cmis > 0).mean() > 0.5


def test_label_reconciliation_and_options():
    generic = SimpleNamespace(id2label={i: f"LABEL_{i}" for i in range(7)})
    with pytest.raises(ConfigError, match="generic"):
        make_adapter(get_recipe("panx"), generic, {}, "tasks[0]")
    mapped = make_adapter(get_recipe("panx"), generic, {"label_map": {t: 6 - i for i, t in enumerate(PANX_TAGS)}})
    assert list(mapped._decode_table) == list(reversed(PANX_TAGS))
    extra = SimpleNamespace(id2label=dict(enumerate((*PANX_TAGS, "B-MISC"))))
    assert make_adapter(get_recipe("panx"), extra)._decode_table[7] == "B-MISC"  # an entity seqeval counts as wrong
    with pytest.raises(ConfigError, match=r"tasks\[0\].options: unknown option\(s\) \['stride'\]"):
        make_adapter(get_recipe("panx"), extra, {"stride": 3}, "tasks[0]")
    pos = make_adapter(get_recipe("udpos"), SimpleNamespace(id2label=dict(enumerate(UPOS_TAGS))))
    ner = make_adapter(get_recipe("panx"), extra)
    assert pos.metrics == ("token_accuracy",) == TokenClassificationAdapter.metrics_for(get_recipe("pos_hi_en"))
    assert TokenClassificationAdapter.metrics_for(get_recipe("ner_hi_en"))[0] == "entity_f1"
    assert ner.metrics == ("entity_f1", "entity_precision", "entity_recall", "token_accuracy")
    assert all(ner.higher_is_better.values()) and all(pos.higher_is_better.values())


# --- (5) model inputs: first sub-token, long sentences split -------------------------------------------------
def test_features_match_is_split_into_words(tiny_ner_dir, shared_data):
    from harness.predictor import HFPredictor

    predictor = HFPredictor(str(tiny_ner_dir), head="token_classification", max_length=256)
    enc = WordEncoder(predictor.tokenizer, predictor.max_length)
    for lang in ("en", "zh", "ar"):
        for ex in _examples("panx", shared_data / "xtreme_r" / "panx" / f"{lang}.jsonl", lang, 10):
            words = list(ex.fields["tokens"])
            ref = predictor.tokenizer(words, is_split_into_words=True)
            (feature, first), = enc.encode(words)
            assert feature == tuple(ref["input_ids"])
            word_ids = ref.word_ids()
            assert first == tuple(word_ids.index(i) for i in range(len(words)))


def test_long_sentences_are_split_not_truncated(tiny_ner_dir, shared_data):
    from harness.predictor import HFPredictor

    short = HFPredictor(str(tiny_ner_dir), head="token_classification", max_length=8)
    enc = WordEncoder(short.tokenizer, 8)
    assert enc.budget == 6 and enc.prefix == 1
    long_word = "Donaudampfschifffahrtsgesellschaftskapitän"
    assert len(short.tokenizer(long_word, add_special_tokens=False)["input_ids"]) > 6
    assert enc.pieces(long_word) == (short.tokenizer.unk_token_id,)  # as XTREME: too long for any input
    assert enc.pieces("   ") == (short.tokenizer.unk_token_id,)
    words = ("The", "Donau", long_word, "flows", "through", "Vienna", "and", "Budapest", "to", "the", "Black", "Sea")
    chunks = enc.encode(words)
    sizes = [len(enc.pieces(w)) for w in words]
    ranges = chunk_words(sizes, 6)
    assert len(chunks) == len(ranges) > 2
    assert all(len(f) <= 8 for f, _ in chunks)
    assert sum(len(first) for _, first in chunks) == len(words)
    for (feature, first), r in zip(chunks, ranges):
        assert [feature[p] for p in first] == [enc.pieces(words[i])[0] for i in r]
    adapter = make_adapter(get_recipe("panx"), short, {}, "t")
    ex = Example("long", "en", {"tokens": words}, ("O",) * len(words))
    parts = [Example(f"p{i}", "en", {"tokens": tuple(words[j] for j in r)}, ("O",) * len(r))
             for i, r in enumerate(ranges)]
    (whole,), pieces = adapter.predict(short, [[adapter.clean_variant(ex)], [adapter.clean_variant(p) for p in parts]])
    assert len(whole) == len(words) and whole == tuple(t for p in pieces for t in p)
    # every tag of every PAN-X zh sentence (one word per character, often long) gets a prediction
    zh = _examples("panx", shared_data / "xtreme_r" / "panx" / "zh.jsonl", "zh", 30)
    preds, = adapter.predict(short, [[adapter.clean_variant(e) for e in zh]])
    assert [len(p) for p in preds] == [len(e.label) for e in zh] and set(t for p in preds for t in p) <= set(PANX_TAGS)


# --- (3) end to end ---------------------------------------------------------------------------------------------
def _suite(tmp_path: Path, shared: Path, pert: str = "char.substitute.v1") -> Path:
    p = tmp_path / "token_suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: tokens
        seed: 3
        tasks:
          - task: panx
            data: {{format: jsonl, path: "{shared}/xtreme_r/panx/{{lang}}.jsonl"}}
            languages: [en, zh, ar]
            limit: 20
          - task: udpos
            data: {{format: jsonl, path: "{shared}/xtreme_r/udpos/{{lang}}.jsonl"}}
            languages: [en, th]
            limit: 20
          - task: ner_hi_en
            data: {{format: jsonl, path: "{shared}/code_mixed/ner_hin_eng.jsonl"}}
            languages: [hi-en]
            limit: 20
        perturbations:
          - id: {pert}
            severities: [0.5]
        stats: {{bootstrap_samples: 200}}
        """), encoding="utf-8")
    return p


def _run(suite, ner, pos, out, capsys):
    code, _, err = run_cli(["run", suite, "--model", f"panx={ner}", "--model", f"udpos={pos}",
                            "--model", f"ner_hi_en={ner}", "--out", out, "-q"], capsys)
    assert code == 0, err
    return pd.read_csv(out / "rows.csv"), pd.read_parquet(out / "records.parquet")


def test_run_panx_and_udpos_end_to_end(tmp_path, shared_data, tiny_ner_dir, tiny_pos_dir, capsys):
    suite = _suite(tmp_path, shared_data)
    rows, records = _run(suite, tiny_ner_dir, tiny_pos_dir, tmp_path / "a", capsys)
    for task in ("panx", "ner_hi_en"):
        assert list(rows[rows.task == task].metric[:4]) == ["entity_f1", "entity_precision", "entity_recall",
                                                              "token_accuracy"]
    assert set(rows[rows.task == "udpos"].metric) == {"token_accuracy"}
    assert (rows.n == 20).all() and len(records) == 6 * 2 * 20
    assert set(rows.lang) == {"en", "zh", "ar", "th", "hi-en"}
    for (task, lang, pert), g in records.groupby(["task", "lang", "perturbation"]):
        gold = [json.loads(x) for x in g.label]
        pred = [json.loads(x) for x in g.pred]
        assert [len(x) for x in gold] == [len(x) for x in pred]
        r = rows[(rows.task == task) & (rows.lang == lang) & (rows.perturbation == pert)].set_index("metric")
        assert r.loc["token_accuracy", "value"] == pytest.approx(token_accuracy(gold, pred), abs=1e-12)
        if task != "udpos":
            ref = entity_scores(gold, pred)  # csv keeps 17 significant digits: exact round trip
            assert (r.loc["entity_f1", "value"], r.loc["entity_precision", "value"], r.loc["entity_recall", "value"]) \
                == (ref["f1"], ref["precision"], ref["recall"])
        if pert != "clean":
            assert g.applied.mean() > 0.5
            for rec in g[g.applied].itertuples():
                assert len(json.loads(rec.perturbed_fields)["tokens"]) == len(json.loads(rec.label))
        assert ((g.score == 1.0) | ~g.correct).all()
    clean = rows[rows.perturbation == "clean"]
    assert (clean.abs_drop == 0).all() and (clean.n_applied == 0).all()
    # determinism: the same suite twice gives identical records and rows
    rows_b, records_b = _run(suite, tiny_ner_dir, tiny_pos_dir, tmp_path / "b", capsys)
    pd.testing.assert_frame_equal(records, records_b)
    pd.testing.assert_frame_equal(rows.drop(columns="run_id"), rows_b.drop(columns="run_id"))


# --- (4) split/merge perturbations are refused --------------------------------------------------------------------
@pytest.mark.parametrize("pid", ["char.whitespace.split.v1", "char.whitespace.merge.v1"])
def test_whitespace_perturbation_on_a_token_task_exits_2(tmp_path, shared_data, tiny_ner_dir, tiny_pos_dir, capsys,
                                                        pid):
    suite = _suite(tmp_path, shared_data, pid)
    code, _, err = run_cli(["run", suite, "--model", f"panx={tiny_ner_dir}", "--model", f"udpos={tiny_pos_dir}",
                            "--out", tmp_path / "out", "-q"], capsys)
    assert code == 2
    # refused when the suite is loaded (file:line: YAML path), before any model loads or output is written
    assert f"perturbations[0].id: {pid} splits or merges words, so the word labels of tasks[0] (panx)" in " ".join(err.split())
    assert not (tmp_path / "out").exists()


def test_the_adapter_refuses_a_word_splitting_perturbation_too():
    """The library path (run_suite without load_suite's checks) is guarded by the adapter itself."""
    from harness.errors import ConfigError
    from harness.perturbation import make_perturbation
    from harness.tasks import adapter_class, get_recipe

    recipe = get_recipe("panx")
    adapter = adapter_class("token_classification").__new__(adapter_class("token_classification"))
    adapter.recipe = recipe
    with pytest.raises(ConfigError, match="char.whitespace.merge.v1 splits or merges words"):
        adapter.check_perturbation(make_perturbation("char.whitespace.merge.v1"), "perturbations[0]")
