"""Build tiny XLM-R checkpoints offline: tokenizer, classifier, fine-tuning, and the cached demo model.

The demo model behind ``xrobust demo`` is built once from the data shipped in ``harness/demo_data``
(see its README for sources, licences and measured accuracy) and the English→X lexicons in
``harness/resources/lexicons`` (its README has their sources and licences), and cached under the
user cache dir.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from harness.errors import CheckpointError, ConfigError, DataError
from harness.resources import LEXICON_DIR as _LEXICON_RESOURCE

ProgressFn = Callable[[str, int, int], None]
"""Progress callback: (description, completed, total)."""

PairExample = tuple[str, str, str]
"""A sentence-pair training example: (premise, hypothesis, label name)."""

PairTransform = Callable[[PairExample, random.Random], PairExample]
"""A per-epoch augmentation of one training pair, driven by a private RNG."""

NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
XNLI_LANGUAGES: tuple[str, ...] = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)
DEMO_DATA_DIR = Path(__file__).resolve().parent / "demo_data"
# The en->X lexicons live in harness/resources/lexicons, shared with the code-switching perturbations.
LEXICON_DIR = Path(str(_LEXICON_RESOURCE))
CACHE_ENV_VAR = "XROBUST_CACHE_DIR"
DEMO_MANIFEST = "xrobust_demo.json"
SPM_FILE = "sentencepiece.bpe.model"
# Bump when the build code changes what a given recipe produces, so stale caches are not reused.
BUILD_FORMAT_VERSION = 1
_TMP_PREFIX = ".tmp-demo-model-"
_ENGLISH_WORD = re.compile(r"[A-Za-z'-]+")  # the lexicons' headwords are ASCII letters, ' and -


@dataclass(frozen=True)
class DemoRecipe:
    """Every parameter that determines the demo model (all of them go into the cache key)."""

    vocab_size: int = 16000
    hidden_size: int = 128
    num_layers: int = 2
    heads: int = 2
    dropout: float = 0.1
    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    max_length: int = 128
    # CoSDA-ML-style code-switching: share of English words replaced by a lexicon translation
    # into a random XNLI language, re-sampled every epoch; 0 turns augmentation off. Measured
    # (demo_data/README.md): mean non-English accuracy +1.3 points over 9 paired runs (+2.2 at
    # this setting, 3 seeds); English -2.6 over the 9 (+0.1 at this setting).
    codeswitch_ratio: float = 0.5
    # Share of training pairs code-switched in each epoch (the rest stay English).
    codeswitch_share: float = 1.0
    train_limit: int | None = None
    lexicon_limit: int | None = None


DEMO_RECIPE = DemoRecipe()


# --------------------------------------------------------------------------- data


def load_nli_pairs(path: Path, limit: int | None = None) -> list[PairExample]:
    """Read an XNLI-style JSONL file into (premise, hypothesis, label) tuples."""
    pairs: list[PairExample] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read NLI data ({exc})") from exc
    for lineno, line in enumerate(lines, start=1):
        if limit is not None and len(pairs) >= limit:
            break
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append((str(row["premise"]), str(row["hypothesis"]), str(row["label"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{lineno}: not an NLI row with premise/hypothesis/label ({exc})") from exc
    if not pairs:
        raise DataError(f"{path}: no NLI rows")
    return pairs


def load_lexicon(path: Path, limit: int | None = None) -> dict[str, list[str]]:
    """Read an ``en<TAB>x`` TSV lexicon into {english word: [translations]}."""
    lexicon: dict[str, list[str]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read lexicon ({exc})") from exc
    for lineno, line in enumerate(lines[:limit] if limit is not None else lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise DataError(f"{path}:{lineno}: expected 'english<TAB>translation'")
        lexicon.setdefault(parts[0], []).append(parts[1])
    return lexicon


def demo_lexicons(limit: int | None = None, lexicon_dir: Path = LEXICON_DIR) -> dict[str, dict[str, list[str]]]:
    """Load the shipped en→X lexicons for the 14 non-English XNLI languages, keyed by language."""
    langs = [lang for lang in XNLI_LANGUAGES if lang != "en"]
    return {lang: load_lexicon(lexicon_dir / f"en-{lang}.tsv", limit) for lang in langs}


# --------------------------------------------------------------------------- tokenizer


def train_tokenizer(
    texts: Iterable[str],
    out_dir: Path,
    vocab_size: int,
    *,
    character_coverage: float = 0.9999,
) -> Path:
    """Train a unigram SentencePiece tokenizer with XLM-R's id layout and save it for AutoTokenizer."""
    import sentencepiece as spm
    from transformers import XLMRobertaTokenizer

    lines = [t.replace("\n", " ").strip() for t in texts]
    lines = [t for t in lines if t]
    if not lines:
        raise DataError("train_tokenizer: no non-empty text to train on")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = io.BytesIO()
    try:
        # unk=0, bos=1, eos=2, no pad: XLMRobertaTokenizer then maps <s>=0 <pad>=1 </s>=2 <unk>=3, piece+1.
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_writer=model,
            model_type="unigram",
            vocab_size=vocab_size,
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            hard_vocab_limit=False,
            character_coverage=character_coverage,
            input_sentence_size=0,
            num_threads=2,  # the model depends on the thread count; fixed for reproducibility
            minloglevel=2,
        )
    except RuntimeError as exc:
        raise CheckpointError(f"SentencePiece training failed: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="xrobust-spm-") as tmp:
        (Path(tmp) / SPM_FILE).write_bytes(model.getvalue())
        # from_pretrained on a folder, not XLMRobertaTokenizer(vocab_file=...): the latter silently
        # yields a 5-token tokenizer in transformers 5.
        tokenizer = XLMRobertaTokenizer.from_pretrained(tmp)
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(str(out_dir))
    (out_dir / SPM_FILE).write_bytes(model.getvalue())
    return out_dir


# --------------------------------------------------------------------------- model


from harness.predictor import no_hf_progress_bars as _no_hf_progress_bars  # noqa: E402


def build_classifier(
    out_dir: Path,
    tokenizer_dir: Path,
    label_names: Sequence[str],
    *,
    hidden_size: int,
    num_layers: int,
    heads: int,
    seed: int,
    dropout: float = 0.1,
) -> Path:
    """Create a randomly initialised XLM-R sequence classifier (with its tokenizer) in ``out_dir``."""
    import torch
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    if len(set(label_names)) != len(label_names) or len(label_names) < 2:
        raise CheckpointError(f"label_names must be at least 2 distinct names, got {list(label_names)}")
    if hidden_size % heads != 0:
        raise CheckpointError(f"hidden_size {hidden_size} is not a multiple of heads {heads}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{tokenizer_dir}: cannot load tokenizer ({exc})") from exc
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden_size,
        max_position_embeddings=514,
        type_vocab_size=1,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)},
    )
    return _save_new(XLMRobertaForSequenceClassification, config, tokenizer, out_dir, seed)


TINY_HEADS = {
    "sequence_classification": "XLMRobertaForSequenceClassification",
    "token_classification": "XLMRobertaForTokenClassification",
    "question_answering": "XLMRobertaForQuestionAnswering",
    "multiple_choice": "XLMRobertaForMultipleChoice",
    "encoder": "XLMRobertaModel",
}


def build_tiny_model(
    out_dir: Path,
    tokenizer_dir: Path,
    head: str,
    label_names: Sequence[str] = (),
    *,
    hidden_size: int = 32,
    num_layers: int = 1,
    heads: int = 2,
    seed: int = 0,
) -> Path:
    """A randomly initialised small XLM-R with the given head (see TINY_HEADS), saved like a real checkpoint
    (safetensors + tokenizer) so it loads through the same code path. Test fixtures use it for the task
    types whose behaviour, not accuracy, is under test."""
    import transformers
    from transformers import AutoTokenizer, XLMRobertaConfig

    if head not in TINY_HEADS:
        raise CheckpointError(f"unknown head {head!r} (known: {sorted(TINY_HEADS)})")
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    labels = dict(enumerate(label_names)) if label_names else {0: "LABEL_0", 1: "LABEL_1"}
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=heads, intermediate_size=4 * hidden_size, max_position_embeddings=514,
        type_vocab_size=1, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, id2label=labels, label2id={n: i for i, n in labels.items()},
    )
    return _save_new(getattr(transformers, TINY_HEADS[head]), config, tokenizer, out_dir, seed)


def _save_new(model_cls: Any, config: Any, tokenizer: Any, out_dir: Path, seed: int) -> Path:
    import torch

    # Weight init draws from torch's global generator; fork it so callers' RNG state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _no_hf_progress_bars():
        model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return out_dir


def _load_for_training(model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        with _no_hf_progress_bars():
            model = AutoModelForSequenceClassification.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{model_dir}: cannot load checkpoint ({exc})") from exc
    return tokenizer, model


def _label_ids(pairs: Sequence[PairExample], label2id: Mapping[str, int], model_dir: Path) -> list[int]:
    ids = []
    for i, (_, _, label) in enumerate(pairs):
        if label not in label2id:
            raise DataError(f"training example {i}: label {label!r} not in {model_dir} labels {sorted(label2id)}")
        ids.append(label2id[label])
    return ids


def fine_tune(
    model_dir: Path,
    train_examples: Iterable[PairExample],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: ProgressFn | None = None,
    transform: PairTransform | None = None,
    max_length: int = 128,
) -> dict[str, Any]:
    """Fine-tune the sentence-pair classifier in ``model_dir`` in place; returns training metrics."""
    import torch

    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError(f"fine_tune: epochs, batch_size and lr must be positive (got {epochs}, {batch_size}, {lr})")
    pairs = list(train_examples)
    if not pairs:
        raise DataError("fine_tune: no training examples")
    tokenizer, model = _load_for_training(Path(model_dir))
    labels = _label_ids(pairs, model.config.label2id, Path(model_dir))
    rng = random.Random(seed)
    steps_per_epoch = math.ceil(len(pairs) / batch_size)
    total = steps_per_epoch * epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    epoch_loss: list[float] = []
    correct = seen = step = 0
    started = time.perf_counter()
    model.train()
    # Dropout draws from torch's global generator; fork it so callers' RNG state is untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            order = list(range(len(pairs)))
            rng.shuffle(order)
            loss_sum, correct, seen = 0.0, 0, 0
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = [transform(pairs[i], rng) if transform else pairs[i] for i in idx]
                enc = tokenizer(
                    [b[0] for b in batch], [b[1] for b in batch],
                    padding=True, truncation=True, max_length=max_length, return_tensors="pt",
                )
                target = torch.tensor([labels[i] for i in idx])
                out = model(**enc, labels=target)
                optimizer.zero_grad()
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                loss_sum += out.loss.item() * len(idx)
                correct += int((out.logits.argmax(-1) == target).sum())
                seen += len(idx)
                step += 1
                if progress is not None:
                    progress("Fine-tuning", step, total)
            epoch_loss.append(loss_sum / seen)
    model.eval()
    with _no_hf_progress_bars():
        model.save_pretrained(str(model_dir))
    return {
        "examples": len(pairs),
        "epochs": epochs,
        "steps": step,
        "epoch_loss": [round(x, 4) for x in epoch_loss],
        "last_epoch_train_accuracy": round(correct / seen, 4),
        "seconds": round(time.perf_counter() - started, 2),
    }


def predict_pairs(model_dir: Path, pairs: Iterable[tuple[str, str]], *, batch_size: int = 64) -> list[str]:
    """Predict label names for (premise, hypothesis) pairs with the checkpoint in ``model_dir``."""
    import torch

    tokenizer, model = _load_for_training(Path(model_dir))
    model.eval()
    items = [(p[0], p[1]) for p in pairs]
    predictions: list[str] = []
    with torch.inference_mode():
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            enc = tokenizer(
                [c[0] for c in chunk], [c[1] for c in chunk],
                padding=True, truncation=True, max_length=512, return_tensors="pt",
            )
            ids = model(**enc).logits.argmax(-1).tolist()
            predictions.extend(model.config.id2label[i] for i in ids)
    return predictions


# --------------------------------------------------------------------------- code-switching


def code_switcher(
    lexicons: Mapping[str, Mapping[str, Sequence[str]]], ratio: float, share: float = 1.0
) -> PairTransform:
    """CoSDA-ML-style transform: in ``share`` of pairs, replace ``ratio`` of English words by translations."""
    langs = sorted(lexicons)

    def switch_text(text: str, rng: random.Random) -> str:
        return _ENGLISH_WORD.sub(lambda m: _translate(m.group(), rng) if rng.random() < ratio else m.group(), text)

    def _translate(word: str, rng: random.Random) -> str:
        key = word.lower()
        options = [lang for lang in langs if key in lexicons[lang]]
        if not options:
            return word
        translation = rng.choice(lexicons[rng.choice(options)][key])
        return translation[:1].upper() + translation[1:] if word[:1].isupper() else translation

    def transform(example: PairExample, rng: random.Random) -> PairExample:
        if rng.random() >= share:
            return example
        return (switch_text(example[0], rng), switch_text(example[1], rng), example[2])

    return transform


# --------------------------------------------------------------------------- demo model


def _demo_files(data_dir: Path, lexicon_dir: Path) -> dict[str, Path]:
    """The demo build's input files keyed by a stable name (the cache key hashes name -> content)."""
    files = {"xnli_train/en.jsonl": data_dir / "xnli_train" / "en.jsonl"}
    langs = [lang for lang in XNLI_LANGUAGES if lang != "en"]
    files.update({f"lexicons/en-{lang}.tsv": lexicon_dir / f"en-{lang}.tsv" for lang in langs})
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise DataError(f"demo data missing (broken install?): {', '.join(missing)}")
    return files


def demo_data_files(data_dir: Path = DEMO_DATA_DIR, lexicon_dir: Path = LEXICON_DIR) -> list[Path]:
    """The shipped files the demo build reads (English train pairs and the 14 lexicons)."""
    return list(_demo_files(data_dir, lexicon_dir).values())


def demo_model_key(recipe: DemoRecipe | None = None, data_dir: Path = DEMO_DATA_DIR,
                   lexicon_dir: Path = LEXICON_DIR) -> str:
    """A short hash of the recipe, the build format, transformers' major version and the data files."""
    import transformers

    recipe = recipe or DEMO_RECIPE
    material = {
        "format": BUILD_FORMAT_VERSION,
        "transformers_major": transformers.__version__.split(".")[0],
        "recipe": dataclasses.asdict(recipe),
        "files": {name: _sha256(f) for name, f in _demo_files(data_dir, lexicon_dir).items()},
    }
    blob = json.dumps(material, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_root() -> Path:
    """The xrobust cache directory: ``$XROBUST_CACHE_DIR`` or the platform's user cache dir."""
    import platformdirs

    override = os.environ.get(CACHE_ENV_VAR)
    return Path(override) if override else Path(platformdirs.user_cache_dir("xrobust"))


def tokenizer_corpus(
    train_pairs: Sequence[PairExample], lexicons: Mapping[str, Mapping[str, Sequence[str]]]
) -> list[str]:
    """Tokenizer training text: English pairs plus lexicon words, lower- and capitalised."""
    lines = [text for pair in train_pairs for text in pair[:2]]
    for lang in sorted(lexicons):
        words = [w for translations in lexicons[lang].values() for w in translations]
        lines.extend(words)
        # lexicons are lower-case; sentence-initial capitals would otherwise all be <unk>
        lines.extend(w[:1].upper() + w[1:] for w in words if w[:1].upper() != w[:1])
    return lines


def build_demo_model(
    out_dir: Path, recipe: DemoRecipe | None = None, progress: ProgressFn | None = None
) -> dict[str, Any]:
    """Build the demo checkpoint into ``out_dir`` from the shipped data; returns the build manifest."""
    import torch
    import transformers

    started = time.perf_counter()
    recipe = recipe or DEMO_RECIPE
    out_dir = Path(out_dir)
    demo_data_files()
    report = progress or (lambda *_: None)
    report("Preparing demo data", 0, 1)
    train = load_nli_pairs(DEMO_DATA_DIR / "xnli_train" / "en.jsonl", recipe.train_limit)
    lexicons = demo_lexicons(recipe.lexicon_limit)
    report("Preparing demo data", 1, 1)
    report("Training tokenizer", 0, 1)
    with tempfile.TemporaryDirectory(prefix="xrobust-tok-") as tok_dir:
        train_tokenizer(tokenizer_corpus(train, lexicons), Path(tok_dir), recipe.vocab_size)
        report("Training tokenizer", 1, 1)
        build_classifier(
            out_dir, Path(tok_dir), NLI_LABELS,
            hidden_size=recipe.hidden_size, num_layers=recipe.num_layers, heads=recipe.heads, seed=recipe.seed,
            dropout=recipe.dropout,
        )
    transform = None
    if recipe.codeswitch_ratio > 0 and recipe.codeswitch_share > 0:
        transform = code_switcher(lexicons, recipe.codeswitch_ratio, recipe.codeswitch_share)
    metrics = fine_tune(
        out_dir, train, epochs=recipe.epochs, batch_size=recipe.batch_size, lr=recipe.lr,
        seed=recipe.seed, progress=progress, transform=transform, max_length=recipe.max_length,
    )
    manifest = {
        "key": demo_model_key(recipe),
        "recipe": dataclasses.asdict(recipe),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "training": metrics,
        "build_seconds": round(time.perf_counter() - started, 2),
        "data": "harness/demo_data and harness/resources/lexicons (see their README.md for sources and licences)",
    }
    (out_dir / DEMO_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def ensure_demo_model(progress: ProgressFn | None = None, *, recipe: DemoRecipe | None = None) -> Path:
    """Return the cached demo checkpoint dir, building it once (temp dir + atomic rename) if absent."""
    recipe = recipe or DEMO_RECIPE
    root = cache_root()
    final = root / f"demo-model-{demo_model_key(recipe)}"
    if (final / DEMO_MANIFEST).is_file():
        return final
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_builds(root)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=root))
    except OSError as exc:
        raise CheckpointError(f"cannot create demo model cache under {root} ({exc}); set {CACHE_ENV_VAR}") from exc
    try:
        build_demo_model(tmp, recipe, progress)
        if final.exists() and not (final / DEMO_MANIFEST).is_file():
            shutil.rmtree(final)  # incomplete (e.g. copied by hand): replace it, never reuse it
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / DEMO_MANIFEST).is_file():  # lost a race only if the winner is complete
                raise
    except OSError as exc:
        raise CheckpointError(f"cannot store demo model in {final} ({exc})") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _remove_stale_builds(root: Path, max_age_s: float = 6 * 3600) -> None:
    # Temp dirs left by killed builds; a build takes minutes, so old ones are not in progress.
    now = time.time()
    for path in root.glob(f"{_TMP_PREFIX}*"):
        try:
            if now - path.stat().st_mtime > max_age_s:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
