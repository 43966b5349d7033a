"""Extractive QA: answers parsed and normalised, answers move with perturbed contexts (all 11 XQuAD languages),
windowed n-best decoding, SQuAD/MLQA EM and F1 through the adapter, and an end-to-end `xrobust run`."""
from __future__ import annotations

import json
import random
import textwrap
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _util import SHARED, run_cli, write_jsonl

from harness.data import load_examples
from harness.errors import ConfigError, DataError
from harness.metrics import qa_scores
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, make_perturbation, splice
from harness.suite import DataSpec
from harness.tasks import get_recipe, make_adapter
from harness.tasks.qa import Window, best_span
from harness.types import Answer, Cell, Example, Variant

XQUAD = get_recipe("xquad")
MLQA = get_recipe("mlqa")
XQUAD_DIR = SHARED / "xtreme_r" / "xquad"


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))


def _adapter(tokenizer, recipe=XQUAD, max_length=256, **options):
    return make_adapter(recipe, SimpleNamespace(tokenizer=tokenizer, max_length=max_length), options, "tasks[0]")


# ------------------------------------------------------------------------------------------------- data
def test_recipes_name_the_real_hub_datasets():
    assert XQUAD.languages == ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
    assert XQUAD.hf_source_for("th") == {"id": "google/xquad", "config": "xquad.th", "split": "validation"}
    assert MLQA.hf_source_for("de") == {"id": "facebook/mlqa", "config": "mlqa.de.de", "split": "test"}
    assert MLQA.metric_variant == "mlqa" and MLQA.languages == ("ar", "de", "en", "es", "hi", "vi", "zh")
    tydi = get_recipe("tydiqa")
    assert tydi.hf_source_for("bn") == {"id": "google-research-datasets/tydiqa", "config": "secondary_task",
                                        "split": "validation"}
    assert tydi.languages == ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")


def test_tydiqa_default_source_keeps_only_its_language(monkeypatch):
    import harness.data as data

    answers = {"text": ["cd"], "answer_start": [3]}
    rows = [{"id": f"{name}-{i}", "question": "q?", "context": "ab cd", "answers": answers}
            for i, name in enumerate(["arabic", "bengali", "arabic", "telugu", "swahili"])]
    seen = {}

    def fake_rows(spec, lang):
        seen.update(spec.model_dump())
        return iter((f"hub[row {i}]", i, r) for i, r in enumerate(rows))

    monkeypatch.setattr(data, "_hf_rows", fake_rows)
    exs = load_examples(get_recipe("tydiqa"), None, "ar")
    assert [e.id for e in exs] == ["arabic-0", "arabic-2"]
    assert seen["filter"] == {"id": "{lang_name}-"} and seen["config"] == "secondary_task"
    assert [e.id for e in load_examples(get_recipe("tydiqa"), None, "sw")] == ["swahili-4"]


def test_answers_are_checked_normalised_and_moved_past_a_byte_order_mark(tmp_path):
    rows = [
        {"id": "bom", "question": "Who?", "context": "\ufeffPeyton Manning won.",
         "answers": {"text": ["Manning"], "answer_start": [8]}},
        # decomposed Latin: NFC shortens the text before the answer by one character
        {"id": "nfc", "question": "Wo?", "context": "Cafe\u0301 in Ko\u0308ln",
         "answers": [{"text": "Ko\u0308ln", "answer_start": 9}]},
    ]
    write_jsonl(tmp_path / "en.jsonl", rows)
    a, b = load_examples(XQUAD, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)
    assert a.fields["context"] == "Peyton Manning won." and a.label == (Answer("Manning", 7),)
    assert b.fields["context"] == "Café in Köln" and b.label == (Answer("Köln", 8),)
    assert b.fields["context"][8:12] == "Köln"


@pytest.mark.parametrize("answers,expected", [
    ({"text": ["Manning"], "answer_start": [3]},
     "en.jsonl:1: answer 0 'Manning' is not the context's text at answer_start 3"),
    ({"text": [], "answer_start": []}, "en.jsonl:1: no gold answer in 'answers'"),
    ({"text": ["a", "b"], "answer_start": [0]},
     "en.jsonl:1: 'answers' needs lists 'text' and 'answer_start' of the same length"),
    ("Manning", "en.jsonl:1: column 'answers' must hold SQuAD-style answers"),
    ({"text": ["Manning"], "answer_start": ["7"]}, "en.jsonl:1: answer ('Manning', '7') in 'answers'"),
])
def test_bad_answers_name_file_and_line(tmp_path, answers, expected):
    row = {"id": "x", "question": "Who?", "context": "Peyton Manning", "answers": answers}
    write_jsonl(tmp_path / "en.jsonl", [row])
    with pytest.raises(DataError) as exc:
        load_examples(XQUAD, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)
    assert expected in str(exc.value)


def test_nfc_that_moves_an_answer_boundary_is_refused(tmp_path):
    # the answer starts with a combining mark that NFC merges into the character before it
    write_jsonl(tmp_path / "en.jsonl", [{"id": "x", "question": "q", "context": "Ko\u0308ln",
                                         "answers": {"text": ["\u0308ln"], "answer_start": [2]}}])
    with pytest.raises(DataError, match="NFC normalisation of the context moves the answer's boundary"):
        load_examples(XQUAD, DataSpec(format="jsonl", path="{lang}.jsonl"), "en", base_dir=tmp_path)


# ----------------------------------------------------------------------------------------- perturbation
@dataclass(frozen=True)
class _Edits(Perturbation):
    """Test double: replaces fixed regions of the text (exact alignment through splice)."""

    id = "test.edits.v1"
    edits: tuple = ()

    def perturb(self, text, severity, rng, lang="und"):
        out, alignment = splice(text, self.edits)
        return PerturbResult(out, True, 1, len(self.edits), 0.5, alignment)


CTX = "Peyton Manning won the game"
EX = Example("e1", "en", {"question": "Who won?", "context": CTX}, (Answer("Manning", 7),))
CELL = Cell("xquad", "en", "test.edits.v1", 0.5, 0)


@pytest.mark.parametrize("edits,context,answer,lost", [
    (((0, 6, "P."),), "P. Manning won the game", Answer("Manning", 3), False),            # before the answer
    (((7, 14, "Mannnig"),), "Peyton Mannnig won the game", Answer("Mannnig", 7), False),  # the whole answer word
    (((23, 27, ""),), "Peyton Manning won the ", Answer("Manning", 7), False),             # after the answer
    (((7, 18, "Manningwon"),), "Peyton Manningwon the game", Answer("Manningwon", 7), True),  # cuts its end
    (((3, 9, "XX"),), "PeyXXnning won the game", Answer("XXnning", 3), True),               # cuts its start
])
def test_context_edits_move_the_answer(tokenizer, edits, context, answer, lost):
    v = _adapter(tokenizer).perturb(EX, _Edits(edits), CELL, ("context",))
    assert v.fields["context"] == context and v.label == (answer,) and v.label_lost is lost
    assert v.fields["question"] == "Who won?" and v.applied


def test_protected_answers_stay_byte_identical_and_each_segment_has_its_own_rng(tokenizer):
    class Upper(_Edits):
        def perturb(self, text, severity, rng, lang="und"):
            out = text.upper() + str(rng.random())[:4]
            return PerturbResult(out, True, 1, 1, 1.0, ())

    v = _adapter(tokenizer, protect_answers=True).perturb(EX, Upper(), CELL, ("context",))
    ctx = v.fields["context"]
    a, = v.label
    assert a.text == "Manning" and ctx[a.start:a.end] == "Manning" and not v.label_lost
    before, after = ctx[:a.start], ctx[a.end:]
    assert before.startswith("PEYTON ") and after.startswith(" WON THE GAME") and before[7:] != after[13:]


def test_question_only_perturbation_keeps_the_gold_answers(tokenizer):
    v = _adapter(tokenizer).perturb(EX, _Edits(((0, 3, "Wha"),)), CELL, ("question",))
    assert v.fields["question"] == "Wha won?" and v.fields["context"] == CTX and v.gold == EX.label


def _xquad(lang: str, n: int) -> list[Example]:
    return load_examples(XQUAD, DataSpec(format="jsonl", path=str(XQUAD_DIR / "{lang}.jsonl")), lang, limit=n)


def test_every_perturbation_keeps_answers_sliceable_in_all_xquad_languages(tokenizer):
    """The issue's must-show: after perturbing the context, every remapped answer span still slices out the
    (perturbed) answer text, for all 11 XQuAD languages; with protect_answers the answers do not change."""
    plain, protected = _adapter(tokenizer), _adapter(tokenizer, protect_answers=True)
    examples = {lang: _xquad(lang, 15) for lang in XQUAD.languages}
    assert sum(len(x) for x in examples.values()) == 165
    lost = {"plain": 0, "protected": 0}
    applied = {"plain": 0, "protected": 0}
    for pid in PERTURBATIONS.names():
        pert = make_perturbation(pid)
        for lang, exs in examples.items():
            cell = Cell("xquad", lang, pid, 0.5, 0)
            for ex in exs:
                for mode, adapter in (("plain", plain), ("protected", protected)):
                    v = adapter.perturb(ex, pert, cell, ("context",))
                    ctx = v.fields["context"]
                    assert len(v.gold) == len(ex.label)
                    for a, old in zip(v.gold, ex.label):
                        assert ctx[a.start:a.start + len(a.text)] == a.text, (pid, lang, ex.id, mode)
                        if mode == "protected":
                            assert a.text == old.text, (pid, lang, ex.id)
                        if not v.applied:
                            assert a == old, (pid, lang, ex.id, mode)
                    lost[mode] += v.label_lost
                    applied[mode] += v.applied
                    if mode == "protected" and v.applied:
                        assert ctx != ex.fields["context"]
    assert lost["protected"] == 0
    assert lost["plain"] > 0  # word edits do cut answers (e.g. whitespace merges): the flag is live
    assert applied["protected"] > 0.5 * applied["plain"] > 0


# --------------------------------------------------------------------------------------------- decoding
def _window(ids_and_spans):
    return Window(tuple(i for i, _ in ids_and_spans), tuple(s for _, s in ids_and_spans))


def _decoding_case():
    """Context "aa bb cc dd ee ff", one sub-token per word, two windows overlapping on "cc dd"."""
    words = [(0, 2), (3, 5), (6, 8), (9, 11), (12, 14), (15, 17)]
    q = [(0, None), (7, None), (2, None)]  # <s> question </s>: never part of an answer
    w1 = _window(q + [(10 + i, words[i]) for i in range(0, 4)] + [(2, None)])  # aa bb cc dd
    w2 = _window(q + [(10 + i, words[i]) for i in range(2, 6)] + [(2, None)])  # cc dd ee ff
    lg1, lg2 = np.zeros((8, 2)), np.zeros((8, 2))
    lg1[:3] = lg2[:3] = 50.0           # question tokens score highest
    lg1[6] = (6.0, 1.0)                # w1: "dd" (7); the answer's end "ee" lies past w1's boundary
    lg2[3, 0], lg2[4, 0] = 9.0, 6.0    # w2 starts: cc 9, dd 6
    lg2[5, 1], lg2[6, 1] = 4.0, 9.0    # w2 ends: ee 4, ff 9
    return [w1, w2], [lg1, lg2]


@pytest.mark.parametrize("max_len,n_best,expected", [
    (2, 20, "dd ee"),          # cc..ff (18), dd..ff (15), cc..ee (13) are too long; dd..ee (10) crosses w1's end
    (3, 20, "dd ee ff"),       # dd..ff (15) beats cc..ee (13)
    (4, 20, "cc dd ee ff"),    # 9 + 9
    (2, 1, "dd"),              # only w2's top start (cc) and end (ff): too long, so w1's "dd" (7)
])
def test_best_span_over_overlapping_windows(max_len, n_best, expected):
    windows, logits = _decoding_case()
    s, e = best_span(windows, logits, n_best=n_best, max_answer_length=max_len)
    assert "aa bb cc dd ee ff"[s:e] == expected


def test_best_span_is_none_without_context_tokens():
    w = _window([(0, None), (5, None), (2, None)])
    assert best_span([w], [np.ones((3, 2))], n_best=20, max_answer_length=30) is None


class _Oracle:
    """Predictor stand-in: start and end logits point at <unk> (the tiny tokenizer has no piece for U+2603)."""

    def __init__(self, tokenizer, max_length):
        self.tokenizer, self.max_length, self.calls = tokenizer, max_length, []

    def forward(self, features, kind="logits", progress=None):
        self.calls.append((kind, len(features)))
        out = []
        for ids in features:
            lg = np.zeros((len(ids), 2), dtype=np.float32)
            lg[np.array(ids) == self.tokenizer.unk_token_id] = 5.0
            out.append(lg)
        return out


def test_predict_finds_the_span_across_windows_and_ignores_the_question(tokenizer):
    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "mat", "and", "was", "there"]
    filler = [" ".join(rng.choice(words) for _ in range(n)) for n in (80, 5, 45)]
    contexts = [f"{filler[0]} \u2603 {filler[2]}", f"{filler[1]} \u2603 {filler[0]}", f"{filler[0]} {filler[2]} \u2603"]
    long_question = "where is the \u2603 " + " ".join(words * 20)  # cut to fit; its <unk> is not context
    variants = [Variant(Example(f"x{i}", "en", {"question": q, "context": c}, (Answer("\u2603", c.index("\u2603")),)),
                        {"question": q, "context": c}, False, 0.0, 0)
                for i, (q, c) in enumerate([("where is \u2603?", contexts[0]), (long_question, contexts[1]),
                                            ("what?", contexts[2])])]
    adapter = _adapter(tokenizer, max_length=48, doc_stride=16, max_answer_length=5)
    oracle = _Oracle(tokenizer, 48)
    windows = adapter.windows(tokenizer, 48, [(v.fields["question"], v.fields["context"]) for v in variants])
    assert all(len(ws) >= 3 for ws in windows) and all(len(w.ids) <= 48 for ws in windows for w in ws)
    preds = adapter.predict(oracle, [variants, variants[:1]])
    assert preds == [["\u2603"] * 3, ["\u2603"]]
    assert oracle.calls == [("span_logits", sum(len(ws) for ws in windows))]  # one pass, duplicates once
    assert adapter.predict(oracle, [[], []]) == [[], []]


# -------------------------------------------------------------------------------------------- metrics
def _variant(lang, golds):
    ctx = " ".join(golds)
    answers, pos = [], 0
    for g in golds:
        answers.append(Answer(g, ctx.index(g, pos)))
        pos = answers[-1].end
    ex = Example("q", lang, {"question": "?", "context": ctx}, tuple(answers))
    return Variant(ex, ex.fields, False, 0.0, 0)


@pytest.mark.parametrize("lang,golds,pred,squad,mlqa", [
    # Chinese: SQuAD keeps "。" (not ASCII punctuation) and does not segment; MLQA drops it and splits characters
    ("zh", ["北京大学"], "北京大学。", (0.0, 0.0), (1.0, 1.0)),
    ("zh", ["北京大学"], "北京", (0.0, 0.0), (0.0, 2 / 3)),
    # Arabic: MLQA removes the article "ال"; SQuAD does not
    ("ar", ["الكتاب"], "كتاب", (0.0, 0.0), (1.0, 1.0)),
    ("ar", ["في المدينة المنورة"], "المدينة", (0.0, 0.5), (0.0, 0.5)),
    # the maximum over gold answers
    ("ar", ["القاهرة", "مدينة القاهرة"], "مدينة القاهرة الكبرى", (0.0, 0.8), (0.0, 0.8)),
])
def test_em_and_f1_per_example_through_the_adapter(tokenizer, lang, golds, pred, squad, mlqa):
    for recipe, (em, f) in ((XQUAD, squad), (MLQA, mlqa)):
        adapter = _adapter(tokenizer, recipe)
        v = _variant(lang, golds)
        stats = adapter.example_stats([v], [pred])
        assert stats.shape == (1, 3)
        assert stats[0].tolist() == pytest.approx([em, f, 1.0], abs=1e-12)
        rec = adapter.record_fields(v, pred)
        assert rec == {"label": json.dumps(golds, ensure_ascii=False, separators=(",", ":")), "pred": pred,
                       "score": pytest.approx(f, abs=1e-12), "correct": em == 1.0}


def test_corpus_metrics_are_means_from_summed_stats(tokenizer):
    adapter = _adapter(tokenizer, MLQA)
    vs = [_variant("zh", ["北京大学"]), _variant("zh", ["上海"]), _variant("zh", ["北京"])]
    preds = ["北京大学。", "", "北京大学"]
    assert adapter.metric_values(vs, preds) == pytest.approx({"exact_match": 1 / 3, "f1": (1 + 0 + 2 / 3) / 3})
    sums = adapter.example_stats(vs, preds)[[0, 0, 2]].sum(axis=0)  # one bootstrap-style resample
    assert {k: float(v) for k, v in adapter.metrics_from_sums(sums).items()} == pytest.approx(
        {"exact_match": 2 / 3, "f1": (1 + 1 + 2 / 3) / 3})
    both = adapter.metrics_from_sums(np.stack([sums, np.zeros(3)]))
    assert both["f1"][0] == pytest.approx(8 / 9) and np.isnan(both["f1"][1])


# ---------------------------------------------------------------------------------------------- options
@pytest.mark.parametrize("options,message", [
    ({"doc_stride": 256}, "tasks[0].options.doc_stride: 256 must be smaller than max_length 256"),
    ({"doc_stride": -1}, "tasks[0].options.doc_stride: expected an integer >= 0, got -1"),
    ({"n_best": 0}, "tasks[0].options.n_best: expected an integer >= 1, got 0"),
    ({"max_answer_length": "30"}, "tasks[0].options.max_answer_length: expected an integer >= 1, got '30'"),
    ({"stride": 64}, "tasks[0].options: unknown option(s) ['stride'] for extractive QA"),
    ({"label_map": {"a": 0}}, "tasks[0].label_map: extractive QA has no label classes"),
])
def test_bad_options_are_config_errors(tokenizer, options, message):
    with pytest.raises(ConfigError) as exc:
        _adapter(tokenizer, **options)
    assert message in str(exc.value)


# ------------------------------------------------------------------------------------------- end to end
def _qa_suite(tmp_path, options="{doc_stride: 32}", fields="[context]"):
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: qa
        seed: 3
        tasks:
          - task: xquad
            data: {{format: jsonl, path: "{XQUAD_DIR}/{{lang}}.jsonl"}}
            languages: [en, zh]
            perturb_fields: {fields}
            options: {options}
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        stats: {{bootstrap_samples: 200}}
        """), encoding="utf-8")
    return p


def test_xrobust_run_on_xquad_context_perturbation(tiny_qa_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(["run", _qa_suite(tmp_path), "--model", f"xquad={tiny_qa_dir}", "--out", out,
                            "--limit", 10, "--max-length", 128, "-q"], capsys)
    assert code == 0, err
    rows = pd.read_csv(out / "rows.csv")
    records = pd.read_parquet(out / "records.parquet")
    assert set(rows["metric"]) == {"f1", "exact_match"} and (rows["n"] == 10).all()
    assert set(rows["lang"]) == {"en", "zh"} and len(records) == 2 * 2 * 10
    for (lang, pert), g in records.groupby(["lang", "perturbation"]):
        golds = [json.loads(x) for x in g["label"]]
        expected = qa_scores(list(g["pred"]), golds)  # SQuAD v1.1 normalisation for XQuAD
        cell = rows[(rows.lang == lang) & (rows.perturbation == pert)].set_index("metric")
        assert cell.loc["f1", "value"] == pytest.approx(expected["f1"], abs=1e-12)
        assert cell.loc["exact_match", "value"] == pytest.approx(expected["exact_match"], abs=1e-12)
        assert cell.loc["f1", "value"] == pytest.approx(g["score"].mean(), abs=1e-12)
        assert cell.loc["f1", "n_label_lost"] == g["label_lost"].sum()
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert cell.loc["f1", "clean_value"] == pytest.approx(
            qa_scores(list(clean["pred"]), [json.loads(x) for x in clean["label"]])["f1"], abs=1e-12)
        contexts = {r.id: r.fields["context"] for r in _xquad(lang, 10)}
        for r in g.itertuples():
            ctx = json.loads(r.perturbed_fields)["context"] if r.perturbed_fields else contexts[r.example_id]
            assert r.pred in ctx  # every prediction is a span of the context the model saw
    swapped = records[records.perturbation == "char.swap.v1"]
    assert swapped["applied"].all() and (swapped["perturbed_fields"] != "").all()
    assert (records.loc[records.perturbation == "clean", "pred"] != "").any()
    assert (records["score"] > 0).any()  # the recomputation above compares some non-zero F1 values


@pytest.mark.parametrize("options,field", [("{doc_stride: 128}", "tasks[0].options.doc_stride"),
                                           ("{n_best: many}", "tasks[0].options.n_best")])
def test_xrobust_run_refuses_bad_qa_options_with_exit_2(tiny_qa_dir, tmp_path, capsys, options, field):
    code, _, err = run_cli(["run", _qa_suite(tmp_path, options), "--model", f"xquad={tiny_qa_dir}",
                            "--out", tmp_path / "run", "--limit", 2, "--max-length", 128, "-q"], capsys)
    assert code == 2 and field in err
