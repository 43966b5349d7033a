"""Tiny XLM-R building blocks: tokenizer layout, classifier save/reload, the cached demo model."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from harness import modelbuild as mb
from harness.errors import DataError

PAIRS = [
    ("And he said, Mama, I'm home.", "He didn't say a word."),
    ("Он сказал: мама, я дома.", "Он не сказал ни слова."),
    ("और उसने कहा, माँ, मैं घर आया हूं।", "उसने एक शब्द नहीं कहा।"),
    ("他说，妈妈，我回来了。", "他一句话也没说。"),
]


def _logits(model_dir: Path) -> torch.Tensor:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    enc = tokenizer([p for p, _ in PAIRS], [h for _, h in PAIRS], padding=True, return_tensors="pt")
    with torch.inference_mode():
        return model(**enc).logits


def test_tokenizer_ids_follow_xlmr_layout(tiny_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))
    assert (tok.bos_token, tok.pad_token, tok.eos_token, tok.unk_token) == ("<s>", "<pad>", "</s>", "<unk>")
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == len(tok) - 1
    assert 1000 < len(tok) <= 2002
    ids = tok("And he said, Mama, I'm home.")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    assert 3 not in ids  # English from the training text has no unknown pieces
    pair = tok("a b", "c d")["input_ids"]
    assert pair.count(2) == 3  # <s> A </s></s> B </s>, as XLM-R encodes pairs
    assert tok.model_max_length == 512


def test_classifier_reloads_with_identical_logits(tiny_classifier_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    before = _logits(tiny_classifier_dir)
    AutoModelForSequenceClassification.from_pretrained(str(tiny_classifier_dir)).save_pretrained(str(tmp_path))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_classifier_dir / name).read_bytes())
    assert torch.equal(before, _logits(tmp_path))
    assert torch.equal(before, _logits(tiny_classifier_dir))


def test_classifier_config_labels_and_files(tiny_classifier_dir: Path) -> None:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(tiny_classifier_dir))
    assert config.id2label == {0: "entailment", 1: "neutral", 2: "contradiction"}
    assert config.label2id == {"entailment": 0, "neutral": 1, "contradiction": 2}
    assert (config.hidden_size, config.num_hidden_layers, config.model_type) == (32, 1, "xlm-roberta")
    assert (tiny_classifier_dir / "model.safetensors").is_file()
    assert not (tiny_classifier_dir / "pytorch_model.bin").exists()
    assert (tiny_classifier_dir / "tokenizer.json").is_file()


def test_tiny_classifier_predictions_are_not_constant(tiny_classifier_dir: Path, shared_data: Path) -> None:
    rows = mb.load_nli_pairs(shared_data / "xtreme_r" / "xnli" / "en.jsonl", 100)
    predictions = mb.predict_pairs(tiny_classifier_dir, [(p, h) for p, h, _ in rows])
    assert len(predictions) == 100
    assert len(set(predictions)) >= 2
    assert set(predictions) <= {"entailment", "neutral", "contradiction"}


def test_build_classifier_is_seeded_and_leaves_global_rng_alone(tiny_tokenizer_dir: Path, tmp_path: Path) -> None:
    kwargs = dict(hidden_size=16, num_layers=1, heads=2)
    state = torch.random.get_rng_state()
    a = mb.build_classifier(tmp_path / "a", tiny_tokenizer_dir, ["no", "yes"], seed=1, **kwargs)
    b = mb.build_classifier(tmp_path / "b", tiny_tokenizer_dir, ["no", "yes"], seed=1, **kwargs)
    c = mb.build_classifier(tmp_path / "c", tiny_tokenizer_dir, ["no", "yes"], seed=2, **kwargs)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(_logits(a), _logits(b))
    assert not torch.equal(_logits(a), _logits(c))


def test_fine_tune_is_deterministic_and_reports_metrics(tiny_tokenizer_dir: Path, shared_data: Path, tmp_path: Path) -> None:
    train = mb.load_nli_pairs(shared_data / "xtreme_r" / "xnli_train" / "en.jsonl", 48)
    seen: list[tuple[str, int, int]] = []
    metrics = []
    for name in ("a", "b"):
        model_dir = mb.build_classifier(
            tmp_path / name, tiny_tokenizer_dir, mb.NLI_LABELS, hidden_size=16, num_layers=1, heads=2, seed=0
        )
        state = torch.random.get_rng_state()
        metrics.append(mb.fine_tune(model_dir, train, epochs=2, batch_size=16, lr=1e-3, seed=3,
                                    progress=lambda *a: seen.append(a)))
        assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(_logits(tmp_path / "a"), _logits(tmp_path / "b"))
    assert metrics[0]["steps"] == 6 and metrics[0]["examples"] == 48
    assert metrics[0]["epoch_loss"] == metrics[1]["epoch_loss"]
    assert seen[:6] == [("Fine-tuning", i, 6) for i in range(1, 7)]


def test_fine_tune_rejects_unknown_label(tiny_classifier_dir: Path) -> None:
    with pytest.raises(DataError, match="maybe"):
        mb.fine_tune(tiny_classifier_dir, [("a", "b", "maybe")], epochs=1, batch_size=2, lr=1e-3, seed=0)


def test_load_nli_pairs_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral"}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        mb.load_nli_pairs(bad)


def test_code_switcher_is_seeded_and_keeps_labels() -> None:
    lexicons = {"de": {"home": ["Haus"], "said": ["sagte"]}, "ru": {"home": ["дом"]}}
    switch = mb.code_switcher(lexicons, ratio=1.0)
    example = ("And he said, Mama, I'm home.", "Home again.", "neutral")
    out = switch(example, random.Random(7))
    assert out == switch(example, random.Random(7))
    assert out[2] == "neutral"
    assert out[0].startswith("And he sagte, Mama, I'm ") and out[0].endswith(".")
    assert out[1].split()[0] in {"Haus", "Дом"}  # capitalisation follows the English word
    assert mb.code_switcher(lexicons, ratio=0.0)(example, random.Random(7)) == example


TINY_RECIPE = mb.DemoRecipe(
    vocab_size=1000, hidden_size=16, num_layers=1, heads=2, epochs=1, batch_size=16,
    train_limit=32, lexicon_limit=100, codeswitch_ratio=0.3, codeswitch_share=0.5,
)


def test_ensure_demo_model_builds_once_and_reuses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XROBUST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(mb, "DEMO_RECIPE", TINY_RECIPE)
    builds: list[Path] = []
    real_build = mb.build_demo_model

    def counting_build(out_dir: Path, *args: object, **kwargs: object) -> dict:
        builds.append(Path(out_dir))
        return real_build(out_dir, *args, **kwargs)

    monkeypatch.setattr(mb, "build_demo_model", counting_build)
    events: list[tuple[str, int, int]] = []
    first = mb.ensure_demo_model(lambda *a: events.append(a))
    assert len(builds) == 1 and builds[0] != first  # built elsewhere, then renamed into place
    assert first.parent == tmp_path / "cache"
    assert first.name == f"demo-model-{mb.demo_model_key(TINY_RECIPE)}"
    assert (first / "model.safetensors").is_file() and (first / mb.DEMO_MANIFEST).is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no temp dir left
    assert events and events[-1][0] == "Fine-tuning" and events[-1][1] == events[-1][2]
    manifest = json.loads((first / mb.DEMO_MANIFEST).read_text(encoding="utf-8"))
    assert manifest["recipe"]["hidden_size"] == 16

    assert mb.ensure_demo_model() == first
    assert len(builds) == 1
    labels = mb.predict_pairs(first, [PAIRS[0]])
    assert labels[0] in mb.NLI_LABELS


def test_demo_model_key_covers_recipe_and_data() -> None:
    assert mb.demo_model_key(TINY_RECIPE) == mb.demo_model_key(TINY_RECIPE)
    assert mb.demo_model_key(TINY_RECIPE) != mb.demo_model_key(mb.DemoRecipe())
    other_seed = mb.DemoRecipe(**{**TINY_RECIPE.__dict__, "seed": 1})
    assert mb.demo_model_key(TINY_RECIPE) != mb.demo_model_key(other_seed)


def test_demo_data_is_shipped_and_small() -> None:
    files = [p for p in mb.DEMO_DATA_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 8_000_000
    assert {p.stem for p in (mb.DEMO_DATA_DIR / "xnli").glob("*.jsonl")} == set(mb.XNLI_LANGUAGES)
    assert (mb.DEMO_DATA_DIR / "README.md").is_file()
    assert len(mb.demo_data_files()) == 15
