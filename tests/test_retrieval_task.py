"""Retrieval (Tatoeba): accuracy@1 both ways on hand-made embeddings, tie-breaking, the pooled layer and its
validation, HF-schema rows, and an end-to-end run with a tiny encoder."""
from __future__ import annotations

import json
import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _util import SHARED, run_cli, write_jsonl

from harness.errors import ConfigError, DataError
from harness.metrics import retrieval_accuracy
from harness.tasks import get_recipe, make_adapter
from harness.tasks.retrieval import Retrieved, default_pool_layer, nearest
from harness.types import Example, Variant

TATOEBA = SHARED / "xtreme_r" / "tatoeba"


def _angle(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


class FakeTokenizer:
    """One id per text, from a shared vocabulary."""

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def __call__(self, texts, truncation=False, max_length=None):
        assert truncation is True and max_length == 64
        return {"input_ids": [[self.vocab.setdefault(t, len(self.vocab))] for t in texts]}


class FakeEncoder:
    """forward(): the hand-made embedding of each text; records every call."""

    max_length = 64

    def __init__(self, embeddings: dict[str, list[float]], n_layers: int = 12):
        self.embeddings = embeddings
        self.tokenizer = FakeTokenizer()
        self.model = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=n_layers))
        self.calls: list[tuple] = []

    def forward(self, features, kind="logits", progress=None):
        self.calls.append((list(features), kind))
        text = {i: t for t, i in self.tokenizer.vocab.items()}
        return [np.array(self.embeddings[text[f[0]]], dtype=np.float32) for f in features]


def _variants(pairs: list[tuple[str, str]], ids: str = "abc") -> list[Variant]:
    out = []
    for i, (s, t) in zip(ids, pairs):
        ex = Example(i, "xx", {"source": s, "target": t})
        out.append(Variant(ex, ex.fields, False, 0.0, 0))
    return out


def _adapter(pred, **options):
    return make_adapter(get_recipe("tatoeba"), pred, {"label_map": None, "protect_answers": False, **options},
                        "tasks[1]")


def test_one_wrong_neighbour_each_way_gives_exactly_two_thirds():
    # 2-D unit vectors at these angles: cosine = cos(angle difference)
    emb = {"s0": _angle(0), "s1": _angle(50), "s2": _angle(60),
           "t0": _angle(0), "t1": _angle(90), "t2": _angle(56), "t2x": _angle(45)}
    pred = FakeEncoder(emb)
    adapter = _adapter(pred)
    clean = _variants([("s0", "t0"), ("s1", "t1"), ("s2", "t2")])
    # a second cell whose third target was perturbed into t2x: the two directions now differ
    pert = [clean[0], clean[1], Variant(clean[2].example, {"source": "s2", "target": "t2x"}, True, 0.5, 1)]
    preds = adapter.predict(pred, [clean, pert])
    # s1 (50°) finds t2 (56°) before t1 (90°); t1 finds s2 (60°) before s1
    assert preds[0] == [Retrieved("a", "a"), Retrieved("c", "c"), Retrieved("c", "c")]
    np.testing.assert_array_equal(adapter.example_stats(clean, preds[0]), [[1, 1, 1], [0, 0, 1], [1, 1, 1]])
    assert adapter.metric_values(clean, preds[0]) == {"accuracy_xx_en": 2 / 3, "accuracy_en_xx": 2 / 3}
    # t2x (45°): s1 finds it (wrong), s2 still finds it (right); t2x finds s1 (wrong), t1 still finds s2 (wrong)
    assert preds[1] == [Retrieved("a", "a"), Retrieved("c", "c"), Retrieved("c", "b")]
    assert adapter.metric_values(pert, preds[1]) == {"accuracy_xx_en": 2 / 3, "accuracy_en_xx": 1 / 3}
    gold = [v.example.id for v in pert]
    assert retrieval_accuracy(gold, [p.target_id for p in preds[1]]) == 2 / 3  # harness.metrics agrees
    assert retrieval_accuracy(gold, [p.source_id for p in preds[1]]) == 1 / 3
    assert adapter.record_fields(clean[1], preds[0][1]) == {"label": "b", "pred": "c", "score": 0.0, "correct": False}
    assert adapter.record_fields(clean[2], preds[0][2]) == {"label": "c", "pred": "c", "score": 1.0, "correct": True}
    # every distinct text of both cells embedded once, in one call, from the default layer of a 12-layer model
    [(features, kind)] = pred.calls
    assert kind == "mean_hidden:8" and len(features) == len(set(features)) == 7


def test_ties_go_to_the_lowest_index():
    # s0 and s1 embed identically, and two rows share the target text "dup"
    emb = {"s0": [1.0, 0.0], "s1": [1.0, 0.0], "s2": [0.0, 1.0], "dup": [1.0, 0.0], "t2": [0.0, 1.0]}
    pred = FakeEncoder(emb)
    adapter = _adapter(pred)
    vs = _variants([("s0", "dup"), ("s1", "dup"), ("s2", "t2")])
    [preds] = adapter.predict(pred, [vs])
    assert preds == [Retrieved("a", "a"), Retrieved("a", "a"), Retrieved("c", "c")]
    assert adapter.metric_values(vs, preds) == {"accuracy_xx_en": 2 / 3, "accuracy_en_xx": 2 / 3}
    # all-zero embeddings score 0 against everything: every query ties and takes position 0
    table = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert [x.tolist() for x in nearest(table, [0, 0, 0], [1, 2, 1])] == [[0, 0, 0], [0, 0, 0]]


def test_pool_layer_is_checked_against_the_checkpoint_depth():
    assert [default_pool_layer(n) for n in (24, 12, 6, 1)] == [14, 8, 3, 1]
    two = FakeEncoder({}, n_layers=2)
    assert _adapter(two).pool_layer == 1
    assert [_adapter(two, pool_layer=k).pool_layer for k in (0, 1, 2)] == [0, 1, 2]
    for bad in (3, -1, "1", True, 1.5):
        msg = r"tasks\[1\]\.options\.pool_layer: .* 2-layer checkpoint; use an integer 0\.\.2"
        with pytest.raises(ConfigError, match=msg):
            _adapter(two, pool_layer=bad)
    depthless = FakeEncoder({})
    depthless.model = SimpleNamespace()
    with pytest.raises(ConfigError, match="cannot tell how many layers"):
        _adapter(depthless)
    with pytest.raises(ConfigError, match=r"unknown retrieval option\(s\) \['layer'\]"):
        _adapter(two, layer=1)
    with pytest.raises(ConfigError, match=r"tasks\[1\]\.label_map"):
        _adapter(two, label_map={"a": 0})


def test_pool_layer_k_is_hidden_states_k_mean_pooled(tiny_encoder_dir):
    """0 is the embedding output, 1 the (only) transformer layer of the tiny encoder; pooled over all real tokens."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from harness.predictor import HFPredictor

    texts = ["เหลือเวลาอีกกี่ชั่วโมง", "How many hours left till arrival?", "我们走吧。"]
    pred = HFPredictor(str(tiny_encoder_dir), head="encoder")
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    model = AutoModel.from_pretrained(str(tiny_encoder_dir)).eval()
    got = {k: _adapter(pred, pool_layer=k).embed(pred, texts)[0] for k in (0, 1)}
    for k in (0, 1):
        rows = []
        for t in texts:
            with torch.inference_mode():
                h = model(**tok(t, return_tensors="pt"), output_hidden_states=True).hidden_states[k][0]
            v = h.mean(dim=0).double().numpy()
            rows.append(v / np.linalg.norm(v))
        np.testing.assert_allclose(got[k], np.array(rows), atol=1e-5)
    assert not np.allclose(got[0], got[1], atol=1e-3)


def test_rows_with_the_hugging_face_schema_load(tmp_path):
    """google/xtreme tatoeba.* rows: source_sentence/target_sentence (+ languages); no id, no label."""
    import datasets

    from harness.data import load_examples
    from harness.suite import DataSpec

    ds = datasets.Dataset.from_dict({"source_sentence": ["我们走吧。", "Ich gehe."],
                                     "target_sentence": ["Let's go.", "I go."],
                                     "source_lang": ["cmn", "cmn"], "target_lang": ["eng", "eng"]})
    ds.save_to_disk(str(tmp_path / "tatoeba-zh"))
    exs = load_examples(get_recipe("tatoeba"), DataSpec(format="hf_disk", path=str(tmp_path / "tatoeba-zh")), "zh")
    assert [(e.id, e.fields["source"], e.fields["target"], e.label) for e in exs] == [
        ("zh:0", "我们走吧。", "Let's go.", None), ("zh:1", "Ich gehe.", "I go.", None)]
    assert get_recipe("tatoeba").hf_source_for("zh") == {"id": "google/xtreme", "split": "validation",
                                                         "config": "tatoeba.cmn"}
    write_jsonl(tmp_path / "bad.jsonl", [{"source": "a", "target": "b"}, {"source": "c"}])
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'target'"):
        load_examples(get_recipe("tatoeba"), DataSpec(format="jsonl", path=str(tmp_path / "bad.jsonl")), "zh")


def _suite(tmp_path, langs=("th", "zh", "de"), options: str = ""):
    """A suite over the shared Tatoeba sample; `options` is a YAML flow mapping for the task's options."""
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: tatoeba-test
        seed: 4
        tasks:
          - task: tatoeba
            data: {{format: jsonl, path: "{TATOEBA}/{{lang}}.jsonl"}}
            languages: [{", ".join(langs)}]
            limit: 20
            options: {options or "{}"}
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        stats: {{bootstrap_samples: 200}}
        """), encoding="utf-8")
    return p


def _run(suite, model, out, capsys):
    code, _, err = run_cli(["run", suite, "--model", f"tatoeba={model}", "--out", out, "-q"], capsys)
    assert code == 0, err
    return pd.read_csv(out / "rows.csv"), pd.read_parquet(out / "records.parquet")


def _clean_retrieval_with_transformers(model_dir, lang: str, n: int) -> tuple[list[str], float]:
    """Independent recomputation: hidden_states[1] (the default for 1 layer), mean over tokens, cosine."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    rows = [json.loads(x) for x in (TATOEBA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()[:n]]

    def embed(texts):
        out = []
        with torch.inference_mode():
            for t in texts:
                v = model(**tok(t, return_tensors="pt"), output_hidden_states=True).hidden_states[1][0].mean(dim=0)
                out.append(v.double().numpy() / float(v.norm()))
        return np.array(out)

    sim = embed([r["source"] for r in rows]) @ embed([r["target"] for r in rows]).T
    ids = [r["id"] for r in rows]
    return [ids[j] for j in sim.argmax(axis=1)], float(np.mean(sim.argmax(axis=0) == np.arange(n)))


def test_end_to_end_run_on_tatoeba(tmp_path, tiny_encoder_dir, capsys):
    out = tmp_path / "run"
    rows, records = _run(_suite(tmp_path), tiny_encoder_dir, out, capsys)
    assert set(rows["metric"]) == {"accuracy_xx_en", "accuracy_en_xx"} and set(rows["n"]) == {20}
    assert set(rows["lang"]) == {"th", "zh", "de"}
    assert (records["label"] == records["example_id"]).all()
    assert (records["correct"] == (records["pred"] == records["label"])).all()
    s2t = rows[rows.metric == "accuracy_xx_en"]
    for (lang, pert), g in records.groupby(["lang", "perturbation"]):
        row = s2t[(s2t.lang == lang) & (s2t.perturbation == pert)].iloc[0]
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert row["value"] == pytest.approx(g["correct"].mean(), abs=1e-12)
        assert row["clean_value"] == pytest.approx(clean["correct"].mean(), abs=1e-12)
    swapped = records[records.perturbation == "char.swap.v1"]
    changed = [json.loads(f) for f in swapped["perturbed_fields"] if f]
    assert len(changed) >= 30 and all(set(c) == {"source"} for c in changed)  # the default side is the source
    for lang in ("th", "zh"):
        preds, en_xx = _clean_retrieval_with_transformers(tiny_encoder_dir, lang, 20)
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert list(clean["pred"]) == preds
        en = rows[(rows.lang == lang) & (rows.perturbation == "clean") & (rows.metric == "accuracy_en_xx")]
        assert en["value"].iloc[0] == pytest.approx(en_xx, abs=1e-12)
    # one forward pass per language over its distinct token sequences: clean sources, targets, perturbed sources
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir))
    expected = 0
    for lang in ("th", "zh", "de"):
        data = [json.loads(x) for x in (TATOEBA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()[:20]]
        texts = {r["source"] for r in data} | {r["target"] for r in data}
        texts |= {json.loads(f)["source"] for f in swapped.loc[swapped.lang == lang, "perturbed_fields"] if f}
        expected += len({tuple(tok(t)["input_ids"]) for t in texts})
    assert json.loads((out / "run.json").read_text())["model_calls"] == expected


def test_same_suite_twice_gives_identical_records(tmp_path, tiny_encoder_dir, capsys):
    suite = _suite(tmp_path, langs=("th", "zh"))
    _, a = _run(suite, tiny_encoder_dir, tmp_path / "a", capsys)
    _, b = _run(suite, tiny_encoder_dir, tmp_path / "b", capsys)
    pd.testing.assert_frame_equal(a, b)


def test_a_pool_layer_beyond_the_checkpoint_is_exit_2(tmp_path, tiny_encoder_dir, capsys):
    suite = _suite(tmp_path, langs=("th",), options="{pool_layer: 7}")
    code, _, err = run_cli(["run", suite, "--model", f"tatoeba={tiny_encoder_dir}", "--out", tmp_path / "run", "-q"],
                           capsys)
    assert code == 2 and "tasks[0].options.pool_layer: 7 is not a layer of this 1-layer checkpoint" in err
