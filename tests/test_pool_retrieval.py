"""Pool retrieval (LAReQA, Mewsli-X): exact mAP@20 / accuracy@1 on hand-made embeddings, equality with
harness.metrics (what `xrobust score --task mewslix` uses), tie order, candidate-side perturbation, option and data
validation, and end-to-end runs with a tiny encoder on a pool built from the shared Tatoeba sample."""
from __future__ import annotations

import doctest
import json
import math
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from _util import SHARED, run_cli, write_jsonl

import harness.tasks.pool_retrieval as pool_module
from harness.data import load_examples
from harness.errors import ConfigError, DataError
from harness.metrics import mean_average_precision_at_k
from harness.perturbation import make_perturbation
from harness.suite import DataSpec
from harness.tasks import get_recipe, make_adapter
from harness.types import Cell, Example, Variant

TATOEBA = SHARED / "xtreme_r" / "tatoeba"


def _angle(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


class FakeEncoder:
    """One token id per text; forward() returns each text's hand-made embedding and records the call."""

    max_length = 64

    def __init__(self, embeddings: dict[str, list[float]]):
        self.embeddings = embeddings
        self.vocab: dict[str, int] = {}
        self.model = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=12))
        self.calls: list[tuple] = []

    def tokenizer(self, texts, truncation=False, max_length=None):
        return {"input_ids": [[self.vocab.setdefault(t, len(self.vocab))] for t in texts]}

    def forward(self, features, kind="logits", progress=None):
        self.calls.append((list(features), kind))
        text = {i: t for t, i in self.vocab.items()}
        return [np.array(self.embeddings.get(text[f[0]], _angle(179)), dtype=np.float64) for f in features]


def _pool(tmp_path, rows) -> str:
    return str(write_jsonl(tmp_path / "candidates.jsonl", rows))


def _adapter(pred, candidates, recipe="mewslix", **options):
    opts = {"candidates": candidates, "label_map": None, "protect_answers": False, **options}
    return make_adapter(get_recipe(recipe), pred, opts, "tasks[2]")


def _queries(spec: dict[str, tuple[str, ...]]) -> list[Variant]:
    out = []
    for qid, (query, *relevant) in spec.items():
        ex = Example(qid, "de", {"query": query}, tuple(relevant))
        out.append(Variant(ex, ex.fields, False, 0.0, 0))
    return out


# candidates c0..c5 at 0°, 10°, …, 50°; a query at angle a ranks them by |a - angle|
FIVE = [{"id": f"c{i}", "text": f"cand {i}"} for i in range(6)]
EMB = {f"cand {i}": _angle(10 * i) for i in range(6)}


def test_known_ranks_give_exact_map_and_accuracy(tmp_path):
    emb = {**EMB, "q-a": _angle(0), "q-b": _angle(14), "q-c": _angle(49)}
    pred = FakeEncoder(emb)
    adapter = _adapter(pred, _pool(tmp_path, FIVE))
    # q-a (0°): c0 first; q-b (14°): ranking c1 c2 c0 c3 c4 c5, relevant c0 is 3rd and c3 4th;
    # q-c (49°): ranking c5 c4 c3 …, relevant c3 is 3rd -> AP 1/3
    vs = _queries({"a": ("q-a", "c0"), "b": ("q-b", "c0", "c3"), "c": ("q-c", "c3")})
    [preds] = adapter.predict(pred, [vs])
    assert preds == [("c0", "c1", "c2", "c3", "c4", "c5"), ("c1", "c2", "c0", "c3", "c4", "c5"),
                     ("c5", "c4", "c3", "c2", "c1", "c0")]
    ap_b = (1 / 3 + 2 / 4) / 2  # c0 at rank 3 (1 of 2 found), c3 at rank 4 (2 of 2)
    np.testing.assert_allclose(adapter.example_stats(vs, preds), [[1, 1, 1], [ap_b, 0, 1], [1 / 3, 0, 1]])
    values = adapter.metric_values(vs, preds)
    assert values == pytest.approx({"map@20": (1 + ap_b + 1 / 3) / 3, "accuracy@1": 1 / 3}, abs=1e-15)
    # the same numbers as harness.metrics (the code behind `xrobust score --task mewslix`)
    assert values["map@20"] == pytest.approx(
        mean_average_precision_at_k([v.gold for v in vs], preds, k=20), abs=1e-15)
    assert adapter.record_fields(vs[2], preds[2]) == {
        "label": '["c3"]', "pred": '["c5","c4","c3","c2","c1"]', "score": pytest.approx(1 / 3), "correct": False}
    assert adapter.record_fields(vs[1], preds[1])["label"] == '["c0","c3"]'
    # one forward call over 3 queries + 6 candidates, the Tatoeba default layer of a 12-layer model
    [(features, kind)] = pred.calls
    assert kind == "mean_hidden:8" and len(features) == 9


def test_rank_past_20_scores_zero_and_ties_go_to_pool_order(tmp_path):
    # 25 candidates; "far" is the gold and sits after 24 identical closer ones
    rows = [{"id": f"n{i}", "text": "near"} for i in range(24)] + [{"id": "gold", "text": "far"}]
    pred = FakeEncoder({"near": _angle(0), "far": _angle(90), "q": _angle(1)})
    adapter = _adapter(pred, _pool(tmp_path, rows))
    vs = _queries({"q1": ("q", "gold"), "q2": ("q", "n23")})
    [preds] = adapter.predict(pred, [vs])
    assert preds[0] == tuple(f"n{i}" for i in range(20))  # 20 kept, the tied ones in file order
    np.testing.assert_array_equal(adapter.example_stats(vs, preds), [[0, 0, 1], [0, 0, 1]])  # n23 ranks 24th
    assert mean_average_precision_at_k([v.gold for v in vs], preds) == 0.0


def test_top_k_doctest():
    assert doctest.testmod(pool_module).failed == 0


def test_candidate_side_perturbation(tmp_path):
    rows = [{"id": "c0", "text": "Die Katze schläft auf dem Sofa.", "lang": "de"},
            {"id": "c1", "text": "Ein Hund bellt laut im Garten.", "lang": "de"}]
    pert = make_perturbation("char.swap.v1", {})
    cell = Cell("mewslix", "es", "char.swap.v1", 1.0, 3)
    ex = Example("q", "es", {"query": "¿Dónde duerme el gato?"}, ("c1",))
    pred = FakeEncoder({})
    both = _adapter(pred, _pool(tmp_path, rows), perturb_candidates=True)
    target_only = _adapter(pred, _pool(tmp_path, rows), perturb_candidates=True, perturb_queries=False)
    query_only = _adapter(pred, _pool(tmp_path, rows))
    vb, vt, vq = (a.perturb(ex, pert, cell, ("query",)) for a in (both, target_only, query_only))
    pool = vb.fields[pool_module.POOL]
    assert pool == vt.fields[pool_module.POOL] and len(pool) == 2
    assert pool[0] != rows[0]["text"] and pool[1] != rows[1]["text"]
    # each candidate's RNG is keyed by its id (not by the query or the language of the cell)
    for i, r in enumerate(rows):
        rng = pool_module.derive_rng(3, "char.swap.v1", 1.0, "candidate", r["id"])
        assert pool[i] == pert.perturb(r["text"], 1.0, rng, "de").text
    assert vt.fields["query"] == ex.fields["query"] and vb.fields["query"] == vq.fields["query"] != ex.fields["query"]
    assert pool_module.POOL not in vq.fields
    assert vt.applied and vt.n_edited > 0
    assert vt.edit_rate == pool_module.grapheme_edit_rate(rows[1]["text"], pool[1])  # its relevant candidate only
    assert vb.n_edited == vq.n_edited + vt.n_edited
    # predict ranks each cell against its own pool: the clean group sees the clean texts
    clean = Variant(ex, ex.fields, False, 0.0, 0)
    pred.embeddings = {rows[0]["text"]: _angle(0), rows[1]["text"]: _angle(90), pool[0]: _angle(90),
                       pool[1]: _angle(0), ex.fields["query"]: _angle(5)}
    assert target_only.predict(pred, [[clean], [vt]]) == [[("c0", "c1")], [("c1", "c0")]]
    assert len(pred.calls[-1][0]) == 5  # the query and four distinct candidate texts, in one call


def test_options_and_rows_are_validated(tmp_path):
    good = _pool(tmp_path, FIVE)
    pred = FakeEncoder({})
    cases = [({"candidates": None}, r"tasks\[2\]\.options\.candidates: give the candidate pool file"),
             ({"candidates": str(tmp_path / "nope.jsonl")}, r"tasks\[2\]\.options\.candidates: .*nope\.jsonl.* not a file"),
             ({"perturb_candidates": "yes"}, r"tasks\[2\]\.options\.perturb_candidates: expected true or false"),
             ({"perturb_queries": False}, r"both false"),
             ({"k": 10}, r"unknown pool retrieval option\(s\) \['k'\]"),
             ({"pool_layer": 13}, r"tasks\[2\]\.options\.pool_layer"),
             ({"label_map": {"a": 0}}, r"tasks\[2\]\.label_map")]
    for options, msg in cases:
        with pytest.raises(ConfigError, match=msg):
            _adapter(pred, **{"candidates": good, **options})
    bad = {"dup": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}],
           "notext": [{"id": "a", "text": "x"}, {"id": "b"}],
           "noid": [{"text": "x"}]}
    msgs = {"dup": r"dup\.jsonl:2: duplicate candidate id 'a' \(first on line 1\)",
            "notext": r"notext\.jsonl:2: candidate `text` must be a string", "noid": r"noid\.jsonl:1: candidate `id`"}
    for name, rows in bad.items():
        with pytest.raises(DataError, match=msgs[name]):
            _adapter(pred, str(write_jsonl(tmp_path / f"{name}.jsonl", rows)))
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no candidates"):
        _adapter(pred, str(tmp_path / "empty.jsonl"))
    # a relevant id outside the pool fails loudly instead of scoring 0
    adapter = _adapter(pred, good)
    with pytest.raises(DataError, match=r"tasks\[2\]: query 'x' \(de\): relevant id\(s\) \['c9'\] are not in the "
                                        r"candidate pool \(6 candidates\)"):
        adapter.predict(pred, [_queries({"x": ("q", "c1", "c9")})])
    # query rows: `relevant` is a list of ids or one id (integers read as text)
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": "q1", "query": "a", "relevant": ["c1", 7]},
                                               {"id": "q2", "query": "b", "relevant": "c2"},
                                               {"id": "q3", "query": "c", "relevant": []}])
    spec = DataSpec(format="jsonl", path=str(path))
    assert [(e.id, e.label) for e in load_examples(get_recipe("lareqa"), spec, "de", limit=2)] == [
        ("q1", ("c1", "7")), ("q2", ("c2",))]
    with pytest.raises(DataError, match=r"q\.jsonl:3: column 'relevant' must hold the relevant candidate id\(s\)"):
        load_examples(get_recipe("lareqa"), spec, "de")


# --- end to end: queries = Tatoeba sources of two languages, pool = the English targets of both -----------------
def _tatoeba(lang: str, n: int) -> list[dict]:
    return [json.loads(x) for x in (TATOEBA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()[:n]]


def _suite(tmp_path, options: str, n: int = 8) -> tuple:
    cands = []
    for lang in ("de", "zh"):
        rows = _tatoeba(lang, n)
        write_jsonl(tmp_path / f"q-{lang}.jsonl", [{"id": r["id"], "query": r["source"], "relevant": [r["id"]]}
                                                   for r in rows])
        cands += [{"id": r["id"], "text": r["target"], "lang": "en"} for r in rows]
    write_jsonl(tmp_path / "cands.jsonl", cands)
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: pool-test
        seed: 5
        tasks:
          - task: lareqa
            data: {{format: jsonl, path: "q-{{lang}}.jsonl"}}
            languages: [de, zh]
            options: {{candidates: "cands.jsonl", {options}}}
        perturbations:
          - id: char.swap.v1
            severities: [0.5]
        stats: {{bootstrap_samples: 100}}
        """), encoding="utf-8")
    return p, cands


def _run(suite, model, out, capsys):
    code, _, err = run_cli(["run", suite, "--model", f"lareqa={model}", "--out", out, "-q", "--no-cache"], capsys)
    assert code == 0, err
    return pd.read_csv(out / "rows.csv"), pd.read_parquet(out / "records.parquet")


def _clean_rankings(model_dir, queries: list[str], pool: list[str]) -> list[list[int]]:
    """Independent recomputation: hidden_states[1] (the default for 1 layer), mean over tokens, cosine, full sort."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    def embed(texts):
        with torch.inference_mode():
            vs = [model(**tok(t, return_tensors="pt"), output_hidden_states=True).hidden_states[1][0].mean(dim=0)
                  for t in texts]
        return np.array([v.double().numpy() / float(v.norm()) for v in vs])

    sim = embed(queries) @ embed(pool).T
    return [sorted(range(len(pool)), key=lambda j: (-round(s[j], 9), j)) for s in sim]


def test_end_to_end_query_side(tmp_path, tiny_encoder_dir, capsys, monkeypatch):
    suite, cands = _suite(tmp_path, "pool_layer: 1")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the pool path, like data paths, is relative to the suite file
    rows, records = _run(suite, tiny_encoder_dir, tmp_path / "run", capsys)
    assert set(rows["metric"]) == {"map@20", "accuracy@1"} and set(rows["n"]) == {8}
    assert list(rows.loc[rows.metric == "map@20", "higher_is_better"]) == [True] * 4
    # every row's value is recomputed from its records: map@20 = mean score, accuracy@1 = share correct
    for (lang, pert), g in records.groupby(["lang", "perturbation"]):
        sel = rows[(rows.lang == lang) & (rows.perturbation == pert)].set_index("metric")["value"]
        assert sel["map@20"] == pytest.approx(g["score"].mean(), abs=1e-12)
        assert sel["accuracy@1"] == pytest.approx(g["correct"].mean(), abs=1e-12)
        assert (g["correct"] == [json.loads(p)[0] == json.loads(lb)[0] for p, lb in zip(g["pred"], g["label"])]).all()
    swapped = records[records.perturbation == "char.swap.v1"]
    assert swapped["applied"].sum() >= 8 and all(set(json.loads(f)) == {"query"} for f in swapped["perturbed_fields"] if f)
    # clean rankings and map@20 equal an independent computation scored with harness.metrics
    ids = [c["id"] for c in cands]
    for lang in ("de", "zh"):
        data = _tatoeba(lang, 8)
        ranks = _clean_rankings(tiny_encoder_dir, [r["source"] for r in data], [c["text"] for c in cands])
        clean = records[(records.lang == lang) & (records.perturbation == "clean")]
        assert [json.loads(p) for p in clean["pred"]] == [[ids[j] for j in r[:5]] for r in ranks]
        expected = mean_average_precision_at_k([r["id"] for r in data], [[ids[j] for j in r] for r in ranks])
        value = rows[(rows.lang == lang) & (rows.perturbation == "clean") & (rows.metric == "map@20")]["value"]
        assert value.iloc[0] == pytest.approx(expected, abs=1e-12)


def test_end_to_end_target_side_and_bad_pool(tmp_path, tiny_encoder_dir, capsys, monkeypatch):
    suite, cands = _suite(tmp_path, "perturb_candidates: true, perturb_queries: false", n=6)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    rows, records = _run(suite, tiny_encoder_dir, tmp_path / "run", capsys)
    swapped = records[records.perturbation == "char.swap.v1"]
    assert (swapped["perturbed_fields"] == "").all()  # the queries are untouched
    assert swapped["applied"].sum() >= 6 and (swapped.loc[swapped.applied, "edit_rate"] > 0).all()
    # a perturbed relevant candidate moves the query's ranking; the clean cell ranks against the clean pool
    assert (swapped["clean_pred"].values == records.loc[records.perturbation == "clean", "pred"].values).all()
    assert swapped["flipped"].any()
    (tmp_path / "cands.jsonl").unlink()
    code, _, err = run_cli(["run", suite, "--model", f"lareqa={tiny_encoder_dir}", "--out", tmp_path / "run2", "-q"],
                           capsys)
    assert code == 2 and err.strip().endswith(f"suite.yaml:7: tasks[0].options.candidates: {tmp_path / 'cands.jsonl'} "
                                              "is not a file (a relative path is taken from the suite file's folder)")
    assert "Traceback" not in err
