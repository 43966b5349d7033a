"""Shared fixtures: offline environment, the shared sample data, and a tiny XLM-R built on the fly."""
from __future__ import annotations

import os

# Set before anything imports transformers/datasets: each hub lookup takes ~50 s to fail offline.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TINY_LABELS = ("entailment", "neutral", "contradiction")
# Several scripts, so the fixture tokenizer has pieces for Latin, Cyrillic, Greek, Arabic,
# Devanagari, Thai and Han text.
TINY_TOKENIZER_LANGS = ("en", "de", "ru", "el", "ar", "hi", "th", "zh")


@pytest.fixture(autouse=True)
def _private_prediction_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own prediction cache: the user's is never touched, and no test sees another's outputs."""
    monkeypatch.setenv("XROBUST_PREDICTION_CACHE_DIR", str(tmp_path_factory.mktemp("prediction-cache")))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the shared sample data (../shared/data next to the repository)."""
    if not (SHARED_DATA / "xtreme_r" / "xnli").is_dir():
        pytest.fail(
            f"shared sample data not found at {SHARED_DATA} (expected xtreme_r/xnli/ inside); "
            "the tests need the ../shared/data checkout beside the repository"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A unigram SentencePiece tokenizer (~2000 pieces) in XLM-R's layout, trained on XNLI rows in 8 languages."""
    from harness.modelbuild import load_nli_pairs, train_tokenizer

    texts: list[str] = []
    for lang in TINY_TOKENIZER_LANGS:
        for premise, hypothesis, _ in load_nli_pairs(shared_data / "xtreme_r" / "xnli" / f"{lang}.jsonl", 60):
            texts += [premise, hypothesis]
    return train_tokenizer(texts, tmp_path_factory.mktemp("tiny-tokenizer"), vocab_size=2000)


@pytest.fixture(scope="session")
def tiny_classifier_dir(
    tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path, shared_data: Path
) -> Path:
    """A 1-layer, hidden-32 XLM-R NLI classifier, briefly fine-tuned so its predictions vary."""
    # A tiny transformer from scratch sits at the label prior for hundreds of steps on NLI; fitting
    # 128 pairs for 20 epochs (~3 s) gets past that, so predictions depend on the input (all of
    # seeds 0-3 gave at least 2 labels on the first 100 English test rows).
    from harness.modelbuild import build_classifier, fine_tune, load_nli_pairs

    model_dir = build_classifier(
        tmp_path_factory.mktemp("tiny-classifier"), tiny_tokenizer_dir, TINY_LABELS,
        hidden_size=32, num_layers=1, heads=2, seed=0,
    )
    train = load_nli_pairs(shared_data / "xtreme_r" / "xnli_train" / "en.jsonl", 128)
    fine_tune(model_dir, train, epochs=20, batch_size=8, lr=3e-3, seed=0)
    return model_dir


PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X")


def _tiny(tmp_path_factory, tokenizer_dir: Path, head: str, labels=(), seed: int = 0) -> Path:
    from harness.modelbuild import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp(f"tiny-{head}"), tokenizer_dir, head, labels, seed=seed)


@pytest.fixture(scope="session")
def tiny_ner_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """Untrained 1-layer XLM-R token classifier with the PAN-X IOB2 tags."""
    return _tiny(tmp_path_factory, tiny_tokenizer_dir, "token_classification", PANX_TAGS)


@pytest.fixture(scope="session")
def tiny_pos_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """Untrained 1-layer XLM-R token classifier with the 17 UPOS tags."""
    return _tiny(tmp_path_factory, tiny_tokenizer_dir, "token_classification", UPOS_TAGS)


@pytest.fixture(scope="session")
def tiny_qa_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """Untrained 1-layer XLM-R extractive QA model (start/end head)."""
    return _tiny(tmp_path_factory, tiny_tokenizer_dir, "question_answering")


@pytest.fixture(scope="session")
def tiny_choice_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """Untrained 1-layer XLM-R multiple-choice model."""
    return _tiny(tmp_path_factory, tiny_tokenizer_dir, "multiple_choice")


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    """Untrained 1-layer XLM-R encoder (no head), for retrieval."""
    return _tiny(tmp_path_factory, tiny_tokenizer_dir, "encoder")
