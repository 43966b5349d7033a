"""Attacks (harness/attack.py, attacks/search/): exact outcomes on hand-built models whose decision hangs on one word.

The trigger models are tiny XLM-R checkpoints with hand-set weights: every token embedding is zero except the
trigger word "hungry" (and, for token classification and QA, the target word "Augusta"); one attention head looks
only at the trigger, one feed-forward unit fires where the target meets the trigger. So
  * classification (XNLI labels): entailment iff the input holds the token "▁hungry", else neutral;
  * token classification (PAN-X tags): "Augusta" is B-PER iff the sentence holds "▁hungry", every other word O;
  * extractive QA: the answer is "Augusta" iff the question holds "▁hungry", else the first context token;
  * multiple choice: a choice scores 2 with "▁hungry" in its input, else 0 (a tie goes to the first choice).
Every other word leaves the logits exactly unchanged, so the queries an attack spends can be counted by hand.
"""
from __future__ import annotations

import doctest
import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from _util import run_cli, write_jsonl

import harness.attack
from harness.attack import ATTACKS, FAILED, SKIPPED, SUCCEEDED, make_attack, outcome_stats
from harness.errors import ConfigError
from harness.predictor import HFPredictor
from harness.runner import RECORD_COLUMNS, ROW_COLUMNS
from harness.suite import load_suite
from harness.tasks import get_recipe, make_adapter
from harness.text import ill_formed, nfc
from harness.types import Answer, Cell, Example

from attacks.search import FamilyCandidates, PlannedEdits, ProtectGold, find_sites, word_families

TRIGGER, TARGET = "hungry", "Augusta"
HEADS = {"xnli": "sequence_classification", "panx": "token_classification", "xquad": "question_answering",
         "xcopa": "multiple_choice"}
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
NLI = ("entailment", "neutral", "contradiction")
RECIPES = ("attack.bad_characters.v1", "attack.deepwordbug.v1", "attack.pruthi.v1", "attack.textbugger_char.v1")

XNLI_ROWS = [
    {"id": "c1", "premise": "The pilots were hungry", "hypothesis": "They ate lunch", "label": "entailment"},
    {"id": "c2", "premise": "The pilots ate lunch", "hypothesis": "They were happy", "label": "entailment"},
    {"id": "c3", "premise": "They ate lunch", "hypothesis": "The pilots slept", "label": "neutral"},
]
PANX_ROWS = [
    {"id": "t1", "tokens": ["Augusta", "was", "very", "hungry", "today"], "ner_tags": ["B-PER", "O", "O", "O", "O"]},
    {"id": "t2", "tokens": ["Augusta", "ate", "lunch"], "ner_tags": ["B-PER", "O", "O"]},
]
CONTEXT = "Yesterday Augusta ate lunch ."
XCOPA_ROWS = [
    {"id": "m1", "premise": "The pilots ate lunch", "question": "effect", "choice1": "They slept",
     "choice2": "They were hungry", "label": 1},
]
XQUAD_ROWS = [
    {"id": "q1", "question": "Who was hungry ?", "context": CONTEXT, "answers": {"text": ["Augusta"], "answer_start": [10]}},
    {"id": "q2", "question": "Who ate lunch ?", "context": CONTEXT, "answers": {"text": ["Augusta"], "answer_start": [10]}},
]


def trigger_model(base: Path, out: Path, head: str) -> Path:
    """Rewrite the weights of a tiny XLM-R (build_tiny_model) so its output depends only on TRIGGER (and TARGET)."""
    import torch
    import transformers

    auto = {"sequence_classification": "AutoModelForSequenceClassification",
            "token_classification": "AutoModelForTokenClassification",
            "question_answering": "AutoModelForQuestionAnswering",
            "multiple_choice": "AutoModelForMultipleChoice"}[head]
    tok = transformers.AutoTokenizer.from_pretrained(str(base))
    model = getattr(transformers, auto).from_pretrained(str(base))
    sd = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}

    def piece(word: str) -> int:
        ids = tok(word, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1, f"{word!r} must be one piece of the fixture tokenizer, got {ids}"
        return ids[0]

    emb, layer = "roberta.embeddings.", "roberta.encoder.layer.0."
    for k in sd:
        if k.endswith("LayerNorm.weight"):
            sd[k] += 1.0
    # after the embedding LayerNorm the trigger is 4(e2 - e3), the target 4(e0 - e1), every other token 0
    sd[emb + "word_embeddings.weight"][piece(TRIGGER), 2:4] = torch.tensor([1.0, -1.0])
    sd[emb + "word_embeddings.weight"][piece(TARGET), 0:2] = torch.tensor([1.0, -1.0])
    # head 0 attends to trigger tokens only (score 30 against 0) and copies them; head 1 copies nothing
    sd[layer + "attention.self.query.bias"][0] = 5.0
    sd[layer + "attention.self.key.weight"][0, 2] = 6.0
    sd[layer + "attention.self.value.weight"][2, 2] = sd[layer + "attention.self.value.weight"][3, 3] = 1.0
    sd[layer + "attention.output.dense.weight"] = torch.eye(model.config.hidden_size)
    # one feed-forward unit: 10 (h0 - h1 + h2 - h3) - 100 is +13 where target and trigger meet, <= -20 elsewhere;
    # it writes into dimension 4
    sd[layer + "intermediate.dense.weight"][0, :4] = torch.tensor([10.0, -10.0, 10.0, -10.0])
    sd[layer + "intermediate.dense.bias"][0] = -100.0
    sd[layer + "output.dense.weight"][4, 0] = 1.0
    if head == "sequence_classification":  # <s> sees 4(e2 - e3) with the trigger, 0 without
        sd["classifier.dense.weight"] = torch.eye(model.config.hidden_size)
        sd["classifier.out_proj.weight"][0, 2:4] = torch.tensor([1.0, -1.0])
        sd["classifier.out_proj.bias"][:] = torch.tensor([0.0, 1.0, -5.0])  # entailment 2.0 vs neutral 1.0
    elif head == "token_classification":
        sd["classifier.weight"][1, 4] = 10.0  # B-PER ~51 where dimension 4 fired, 0 elsewhere; O is 10
        sd["classifier.bias"][:] = -10.0
        sd["classifier.bias"][0] = 10.0
    elif head == "question_answering":
        sd["qa_outputs.weight"][:, 4] = 10.0  # start and end at the target; all 0 (first token wins) otherwise
    else:  # the pooler sees 4(e2 - e3) at <s> with the trigger, 0 without
        sd["roberta.pooler.dense.weight"] = torch.eye(model.config.hidden_size)
        sd["classifier.weight"][0, 2:4] = torch.tensor([1.0, -1.0])
    model.load_state_dict(sd)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope="module")
def trigger_dirs(tmp_path_factory, tiny_tokenizer_dir) -> dict[str, Path]:
    from harness.modelbuild import build_tiny_model

    out = {}
    for task, head in HEADS.items():
        labels = NLI if task == "xnli" else PANX_TAGS if task == "panx" else ()
        base = build_tiny_model(tmp_path_factory.mktemp(f"base-{task}"), tiny_tokenizer_dir, head, labels)
        out[task] = trigger_model(base, tmp_path_factory.mktemp(f"trigger-{task}"), head)
    return out


@pytest.fixture(scope="module")
def trigger_data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("trigger-data")
    write_jsonl(d / "xnli.jsonl", XNLI_ROWS)
    write_jsonl(d / "panx.jsonl", PANX_ROWS)
    write_jsonl(d / "xquad.jsonl", XQUAD_ROWS)
    write_jsonl(d / "xcopa.jsonl", XCOPA_ROWS)
    return d


@pytest.fixture(scope="module")
def units(trigger_dirs, trigger_data):
    """(adapter, predictor, examples) per task, loaded as the runner loads them."""
    from harness.data import load_examples
    from harness.suite import DataSpec

    out = {}
    for task, head in HEADS.items():
        recipe = get_recipe(task)
        predictor = HFPredictor(str(trigger_dirs[task]), head=head)
        adapter = make_adapter(recipe, predictor, {}, where=task)
        examples = load_examples(recipe, DataSpec(format="jsonl", path=str(trigger_data / f"{task}.jsonl")), "en")
        out[task] = (adapter, predictor, examples)
    return out


def _attack(units, task, aid, severity=0.5, params=None, fields=None, pick=None):
    adapter, predictor, examples = units[task]
    examples = [e for e in examples if pick is None or e.id in pick]
    fields = fields or adapter.recipe.default_perturbable
    return make_attack(aid, params).run(adapter, predictor, examples, Cell(task, "en", aid, severity, 0), fields)


def _changed_words(before: str, after: str) -> list[int]:
    a, b = before.split(), after.split()
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


# --- the must-show: `xrobust run` on all three goal types, exact outcomes --------------------------------------
def test_constructed_case_exact_outcomes_through_xrobust_run(trigger_dirs, trigger_data, tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text(textwrap.dedent(f"""\
        name: trigger
        tasks:
          - {{task: xnli, data: {{format: jsonl, path: "{trigger_data}/xnli.jsonl"}}, languages: [en]}}
          - {{task: panx, data: {{format: jsonl, path: "{trigger_data}/panx.jsonl"}}, languages: [en]}}
          - {{task: xquad, data: {{format: jsonl, path: "{trigger_data}/xquad.jsonl"}}, languages: [en]}}
        attacks:
          - {{id: attack.deepwordbug.v1, severities: [0.5]}}
          - {{id: attack.textbugger_char.v1, severities: [0.5], params: {{max_queries: 3}}}}
        stats: {{bootstrap_samples: 100}}
        """), encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", suite, "--out", out, "-q"] + [a for t in ("xnli", "panx", "xquad")
                                                 for a in ("--model", f"{t}={trigger_dirs[t]}")]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    rec = pd.read_parquet(out / "records.parquet")
    rows = pd.read_csv(out / "rows.csv")
    assert list(rec.columns) == RECORD_COLUMNS and list(rows.columns) == ROW_COLUMNS
    r = rec.set_index(["perturbation", "example_id"])
    dwb, tb = "attack.deepwordbug.v1", "attack.textbugger_char.v1"

    # Queries by hand. DeepWordBug: 1 clean input + one <unk> probe per editable word (not a stopword, has
    # candidates) + the 4 candidates (swap, substitute, delete, insert: always 4 distinct) of each word tried.
    # Only the "hungry" probe moves the model, so that word is tried first, and one of its candidates flips it.
    # c1: words pilots, hungry, ate, lunch (The/were/They are stopwords): 1 + 4 + 4 = 9.
    # c3: no trigger, nothing moves: every word of 4 is tried and fails: 1 + 4 + 4*4 = 21.
    # t1: Augusta is the gold entity (protected), was/very stopwords: hungry, today: 1 + 2 + 4 = 7.
    # q1: the question (QA's default field): Who, hungry ("?" has no candidate, was a stopword): 1 + 2 + 4 = 7.
    expected = {"c1": (SUCCEEDED, 9, 1), "c2": (SKIPPED, 1, 0), "c3": (FAILED, 21, 0),
                "t1": (SUCCEEDED, 7, 1), "t2": (SKIPPED, 1, 0), "q1": (SUCCEEDED, 7, 1), "q2": (SKIPPED, 1, 0)}
    for ex, (status, queries, words) in expected.items():
        got = r.loc[(dwb, ex)]
        assert (got["attack_outcome"], got["queries"], got["words_edited"]) == (status, queries, words), ex
        assert bool(got["applied"]) == (words > 0)
    # exactly the known word was edited, and the model fails on the result
    premise = json.loads(r.loc[(dwb, "c1"), "perturbed_fields"])["premise"]
    assert _changed_words(XNLI_ROWS[0]["premise"], premise) == [3] and r.loc[(dwb, "c1"), "pred"] == "neutral"
    tokens = json.loads(r.loc[(dwb, "t1"), "perturbed_fields"])["tokens"]
    assert [i for i, (a, b) in enumerate(zip(PANX_ROWS[0]["tokens"], tokens)) if a != b] == [3]
    assert json.loads(r.loc[(dwb, "t1"), "pred"]) == ["O"] * 5
    question = json.loads(r.loc[(dwb, "q1"), "perturbed_fields"])["question"]
    assert _changed_words(XQUAD_ROWS[0]["question"], question) == [2] and r.loc[(dwb, "q1"), "score"] == 0.0
    # clean predictions as constructed
    assert list(rec[rec.perturbation == "clean"]["correct"]) == [True, False, True, True, False, True, False]

    # TextBugger with a budget of 3 inputs: the clean one and two deletion probes; no candidate is ever scored
    for ex in ("c1", "c3", "t1", "q1"):
        got = r.loc[(tb, ex)]
        assert (got["attack_outcome"], got["queries"], got["words_edited"], bool(got["applied"])) == (FAILED, 3, 0, False)

    # rows: success rate over attacked examples, accuracy under attack, mean queries, mean share of words edited
    first = rows.groupby(["task", "perturbation"]).first()
    assert first.loc[("xnli", dwb), ["value", "attack_success_rate", "mean_queries"]].tolist() == [1 / 3, 0.5, 15.0]
    assert first.loc[("xnli", dwb), "mean_word_edit_share"] == pytest.approx(1 / 7)
    assert first.loc[("panx", dwb), ["value", "attack_success_rate", "mean_queries"]].tolist() == [0.0, 1.0, 7.0]
    assert first.loc[("panx", dwb), "mean_word_edit_share"] == pytest.approx(1 / 5)
    assert first.loc[("xquad", dwb), ["value", "attack_success_rate", "mean_queries"]].tolist() == [0.0, 1.0, 7.0]
    assert first.loc[("xquad", dwb), "mean_word_edit_share"] == pytest.approx(1 / 4)
    for task in ("xnli", "panx", "xquad"):
        assert first.loc[(task, tb), ["attack_success_rate", "mean_queries"]].tolist() == [0.0, 3.0]
        assert math.isnan(first.loc[(task, tb), "mean_word_edit_share"])
        assert rows[rows.perturbation == "clean"][["attack_success_rate", "mean_queries"]].isna().all().all()


# --- engine behaviour on the same models, through the library --------------------------------------------------
def test_outcome_fields_and_edits(units):
    run = _attack(units, "xnli", "attack.deepwordbug.v1")
    c1, c2, c3 = run.outcomes
    assert [o.status for o in run.outcomes] == [SUCCEEDED, SKIPPED, FAILED]
    (edit,) = c1.edits
    assert (edit.site.field, edit.site.index, edit.site.word) == ("premise", 3, TRIGGER)
    assert edit.new != TRIGGER and run.variants[0].fields["premise"] == f"The pilots were {edit.new}"
    assert (c1.n_words, c1.clean_score, c1.score, c1.word_share) == (7, 1.0, 0.0, 1 / 7)
    assert run.preds == ["neutral", "neutral", "neutral"]
    assert c2.reason == "the clean prediction already fails the goal"
    assert c3.reason == "no edit within the limits met the goal" and c3.edits == ()
    # the predictions the search scored are the adapter's own predictions of the returned variants
    adapter, predictor, _ = units["xnli"]
    assert adapter.predict(predictor, [run.variants])[0] == run.preds


def test_multiple_choice_goal_flips_the_chosen_answer(units):
    # the gold choice 2 holds the trigger; editing it ties the two choices, and the tie goes to choice 1.
    # Sites: pilots, ate, lunch (premise), slept (choice1), hungry (choice2); They/The/were are stopwords and the
    # question keyword is never perturbed: 1 + 5 probes + hungry's 4 candidates = 10 queries
    run = _attack(units, "xcopa", "attack.deepwordbug.v1")
    (o,) = run.outcomes
    assert (o.status, o.queries, run.preds) == (SUCCEEDED, 10, ["0"])
    assert [(e.site.field, e.site.word) for e in o.edits] == [("choice2", TRIGGER)]
    assert run.variants[0].fields["question"] == "effect" and run.variants[0].fields["choice1"] == "They slept"


def test_beam_search_pruthi_counts_every_candidate_of_every_word(units):
    # greedy (beam width 1) over all words of >= 4 letters: pilots, hungry, lunch ("ate" is too short), 4 distinct
    # candidates each (swap, delete, insert, keyboard): step 1 scores 12, one of hungry's flips the label
    run = _attack(units, "xnli", "attack.pruthi.v1", pick={"c1"})
    (o,) = run.outcomes
    assert (o.status, o.queries, [e.site.word for e in o.edits]) == (SUCCEEDED, 13, [TRIGGER])
    # c3 cannot be flipped. Words of >= 4 letters: lunch, pilots, slept (They/The are stopwords, ate too short);
    # max_edits = floor(0.5 * 6) = 3. With beam width 3 and every score tied (nothing moves the model):
    # step 1: 3 words x 4 = 12; step 2: the first 3 plans (all on lunch) x (4 + 4 for pilots, slept) = 24;
    # step 3: the first 3 of those x 4 for slept = 12; then every plan has 3 edits: 1 + 12 + 24 + 12 = 49
    wide = _attack(units, "xnli", "attack.pruthi.v1", params={"beam_width": 3}, pick={"c3"})
    (o,) = wide.outcomes
    assert (o.status, o.queries, o.edits, wide.variants[0].applied) == (FAILED, 49, (), False)
    # max_words: 1 stops the beam after step 1
    (o,) = _attack(units, "xnli", "attack.pruthi.v1", params={"beam_width": 3, "max_words": 1}, pick={"c3"}).outcomes
    assert (o.status, o.queries) == (FAILED, 13)


def test_query_budget_and_severity_limits(units):
    (o,) = _attack(units, "xnli", "attack.deepwordbug.v1", params={"max_queries": 1}, pick={"c1"}).outcomes
    assert (o.status, o.queries, o.reason) == (FAILED, 1, "query budget exhausted")
    # 6 inputs: clean + 4 probes + the first candidate of hungry, which already flips it
    (o,) = _attack(units, "xnli", "attack.deepwordbug.v1", params={"max_queries": 6}, pick={"c1"}).outcomes
    assert (o.status, o.queries) == (SUCCEEDED, 6)
    # severity 0.1 of 7 words allows no edit at all: failed before any query beyond the clean one
    (o,) = _attack(units, "xnli", "attack.deepwordbug.v1", severity=0.1, pick={"c1"}).outcomes
    assert (o.status, o.queries, o.reason) == (FAILED, 1, "severity 0.1 allows no edit of 7 words")


def test_one_model_pass_per_search_step_for_all_examples(units):
    adapter, predictor, examples = units["xnli"]
    calls = []

    class Counting:
        """The predictor, counting calls to predict (the classifier goal's one model pass)."""

        def __getattr__(self, name):
            return getattr(predictor, name)

        def predict(self, inputs, progress=None):
            calls.append(len(inputs))
            return predictor.predict(inputs, progress)

    cell = Cell("xnli", "en", "attack.deepwordbug.v1", 0.5, 0)
    make_attack("attack.deepwordbug.v1").run(adapter, Counting(), [examples[0], examples[2]], cell,
                                             ("premise", "hypothesis"))
    # clean (2 inputs); probes of both (4 + 4); c1's hungry candidates with c3's first word's (4 + 4, c1 done);
    # c3's three remaining words, 4 candidates each
    assert calls == [2, 8, 8, 4, 4, 4]


def test_outcomes_do_not_depend_on_the_batch(units):
    adapter, predictor, examples = units["xnli"]
    together = _attack(units, "xnli", "attack.bad_characters.v1")
    alone = [_attack(units, "xnli", "attack.bad_characters.v1", pick={e.id}) for e in examples]
    assert together.outcomes == [a.outcomes[0] for a in alone]
    assert together.outcomes == _attack(units, "xnli", "attack.bad_characters.v1").outcomes  # deterministic
    # Bad Characters edits invisibly: homoglyphs or format characters, the word looks the same
    (edit,) = together.outcomes[0].edits
    assert edit.site.word == TRIGGER and len(edit.new) in (6, 7)


def test_token_and_qa_goals_protect_gold_spans(units):
    adapter, predictor, examples = units["panx"]
    run = _attack(units, "panx", "attack.deepwordbug.v1", severity=1.0, params={"stopwords": "none"})
    t1 = run.outcomes[0]
    assert t1.status == SUCCEEDED and run.variants[0].fields["tokens"][0] == TARGET
    assert run.variants[0].label is None  # tags stay the example's own: word count kept
    # QA on question and context: the answer word in the context is never a site
    adapter, predictor, examples = units["xquad"]
    cell = Cell("xquad", "en", "x", 1.0, 0)
    sites, n_words = find_sites(adapter, examples[0], cell, ("question", "context"))
    assert n_words == 4 + 5
    editable = [s.word for s in sites if ProtectGold().allows_site(s, examples[0], "extractive_qa")]
    assert editable == ["Who", "was", "hungry", "?", "Yesterday", "ate", "lunch", "."]
    run = _attack(units, "xquad", "attack.deepwordbug.v1", severity=1.0, fields=("question", "context"), pick={"q1"})
    assert run.outcomes[0].status == SUCCEEDED and TARGET in run.variants[0].fields["context"]
    assert run.variants[0].gold == (Answer(TARGET, 10),)


def test_sites_follow_the_adapters_perturbation_path(units):
    adapter, predictor, _ = units["xquad"]
    ex = Example("q", "en", {"question": "Who won ?", "context": "Ann met Bob and Bob met Ann ."},
                 (Answer("Bob", 8), Answer("Bob", 16)))
    adapter.protect_answers = True
    try:  # with protect_answers the adapter hands over the stretches around the answers, one piece each
        sites, n = find_sites(adapter, ex, Cell("xquad", "en", "x", 1.0, 0), ("context",))
    finally:
        adapter.protect_answers = False
    # stretches "Ann met " | " and " | " met Ann ." around the two protected "Bob"s
    assert [(s.piece, s.word) for s in sites] == [(0, "Ann"), (0, "met"), (1, "and"), (2, "met"), (2, "Ann"), (2, ".")]
    assert n == 6


def test_planned_edits_keep_an_exact_alignment():
    pe = PlannedEdits((("ab cd ef", ((0, "xab"), (2, "f"))),))
    res = pe.perturb("ab cd ef", 0.5, None, "en")
    assert (res.text, res.applied, res.n_edited) == ("xab cd f", True, 2)
    assert [(s.old_start, s.old_end, s.new_start, s.new_end) for s in res.alignment] == [(0, 2, 0, 3), (6, 8, 7, 8)]
    assert not pe.perturb("other text", 0.5, None, "en").applied


SCRIPT_WORDS = {"hi": "किताबें", "th": "ภาษาไทย", "ar": "العربية", "ru": "привет", "ko": "한국어", "ta": "தமிழ்"}


def test_recipes_are_registered():
    assert set(RECIPES) <= set(ATTACKS.names())


@pytest.mark.parametrize("aid", RECIPES)
def test_candidates_are_script_safe(aid):
    attack = make_attack(aid, {"candidates": 8})
    fams = word_families(attack.families, attack.family_params, 1, aid)
    cands = FamilyCandidates(fams, 8)
    from harness.attack import Site

    total = 0
    for lang, word in SCRIPT_WORDS.items():
        site = Site("text", 0, word, 0, 0, len(word), word, lang)
        got = cands.for_site(site, (0, aid, "ex"))
        assert got == cands.for_site(site, (0, aid, "ex"))  # deterministic
        assert len(set(got)) == len(got) and word not in got
        for new in got:
            assert nfc(new) == new and not any(ch.isspace() for ch in new)
            assert ill_formed(new) <= ill_formed(word), (word, new)
        total += len(got)
    assert total > 0


def test_stopwords_numbers_and_word_length_constraints(units):
    adapter, predictor, _ = units["xnli"]
    ex = Example("n", "en", {"premise": "In 1960s the pilots were hungry", "hypothesis": "Yes"}, "entailment")
    attack = make_attack("attack.deepwordbug.v1")
    sites, _, n = attack._sites(adapter, ex, Cell("xnli", "en", "x", 1.0, 0), ("premise", "hypothesis"), True)
    assert [s.word for s in sites] == ["pilots", "hungry", "Yes"] and n == 7
    mine = make_attack("attack.deepwordbug.v1", {"stopwords": ["Pilots"], "protect_numbers": False,
                                                 "min_word_length": 4})
    sites, _, _ = mine._sites(adapter, ex, Cell("xnli", "en", "x", 1.0, 0), ("premise", "hypothesis"), True)
    assert [s.word for s in sites] == ["1960s", "were", "hungry"]


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="search must be one of"):
        make_attack("attack.deepwordbug.v1", {"search": "random"})
    with pytest.raises(ConfigError, match="threshold must be in"):
        make_attack("attack.deepwordbug.v1", {"threshold": 0})
    with pytest.raises(ConfigError, match="not a word-edit family"):
        make_attack("attack.deepwordbug.v1", {"families": ["char.whitespace.split.v1"]})
    with pytest.raises(ConfigError, match="allowed:"):
        make_attack("attack.pruthi.v1", {"beam": 2})
    with pytest.raises(ConfigError, match="did you mean 'attack.pruthi.v1'"):
        make_attack("attack.pruthy.v1")


def test_suite_attacks_section_is_validated(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent("""\
        name: s
        tasks:
          - task: xnli
            languages: [en]
          - task: tatoeba
            languages: [de]
        attacks:
          - id: attack.deepwordbug.v2
            severities: [0.3]
          - id: attack.pruthi.v1
            severities: [0.3]
            params: {candidates: 0}
          - id: attack.bad_characters.v1
            severities: [0.3]
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_suite(p, check_files=False)
    msg = str(exc.value)
    assert f"{p}:8: attacks[0].id: unknown attack 'attack.deepwordbug.v2'; did you mean 'attack.deepwordbug.v1'?" in msg
    assert f"{p}:12: attacks[1].params: attack.pruthi.v1: candidates must be an integer >= 1" in msg
    assert f"{p}:13: attacks[2].id: cannot attack tasks[1] (tatoeba)" in msg


def test_attack_cells_follow_perturbation_cells(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent("""\
        name: s
        seeds: [0, 1]
        tasks: [{task: xnli, languages: [en]}]
        perturbations: [{id: char.swap.v1, severities: [0.1]}]
        attacks: [{id: attack.pruthi.v1, severities: [0.2, 0.4]}]
        """), encoding="utf-8")
    loaded = load_suite(p, check_files=False)
    cells = [(c.perturbation, c.severity, c.seed) for c in loaded.cells(0, "en")]
    assert cells == [("clean", 0.0, 0), ("char.swap.v1", 0.1, 0), ("char.swap.v1", 0.1, 1),
                     ("attack.pruthi.v1", 0.2, 0), ("attack.pruthi.v1", 0.2, 1),
                     ("attack.pruthi.v1", 0.4, 0), ("attack.pruthi.v1", 0.4, 1)]
    # a suite without attacks hashes as before the section existed
    q = tmp_path / "t.yaml"
    q.write_text("name: s\ntasks: [{task: xnli, languages: [en]}]\n", encoding="utf-8")
    assert "attacks" not in load_suite(q, check_files=False).suite.model_dump()


def test_doctests():
    assert doctest.testmod(harness.attack).failed == 0
    for none in (None, []):  # perturbation cells, and attack cells where every example was skipped
        assert all(math.isnan(v) for v in outcome_stats(none).values())


# --- the shipped suite on the shared samples ------------------------------------------------------------------
@pytest.mark.slow
def test_attack_suite_on_shared_samples(tiny_classifier_dir, tiny_ner_dir, tiny_qa_dir, tmp_path, capsys):
    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "run"
    code, _, err = run_cli(["run", repo / "suites" / "attacks.yaml", "--out", out, "-q",
                            "--model", f"xnli={tiny_classifier_dir}", "--model", f"panx={tiny_ner_dir}",
                            "--model", f"xquad={tiny_qa_dir}"], capsys)
    assert code == 0, err
    rec = pd.read_parquet(out / "records.parquet")
    rows = pd.read_csv(out / "rows.csv")
    clean = rec[rec.perturbation == "clean"].set_index(["task", "lang", "example_id"])["score"]
    attacked = rec[rec.perturbation.str.startswith("attack.")]
    assert set(attacked.perturbation) == set(RECIPES)
    assert (rec[rec.perturbation == "clean"]["attack_outcome"] == "").all()
    for _, r in attacked.iterrows():
        c = clean.loc[(r.task, r.lang, r.example_id)]
        # skipped exactly when the clean score is already below the goal's threshold (0.5)
        assert (r.attack_outcome == SKIPPED) == (c < 0.5)
        assert (r.attack_outcome == SUCCEEDED) == (r.score < 0.5 <= c)
        assert r.queries >= 1 and (r.queries == 1) >= (r.attack_outcome == SKIPPED)
        if r.perturbation in ("attack.pruthi.v1", "attack.bad_characters.v1"):
            assert r.queries <= 200
    assert (attacked[attacked.task == "xnli"].attack_outcome == SUCCEEDED).sum() > 0
    for (task, lang, pert), g in attacked.groupby(["task", "lang", "perturbation"]):
        row = rows[(rows.task == task) & (rows.lang == lang) & (rows.perturbation == pert)].iloc[0]
        won, lost = (g.attack_outcome == SUCCEEDED).sum(), (g.attack_outcome == FAILED).sum()
        if won + lost:
            assert row.attack_success_rate == pytest.approx(won / (won + lost))
            assert row.mean_queries == pytest.approx(g[g.attack_outcome != SKIPPED].queries.mean())
        else:
            assert math.isnan(row.attack_success_rate) and math.isnan(row.mean_queries)
        if task == "xnli":
            assert row.value == pytest.approx(g.correct.mean())
