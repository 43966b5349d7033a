"""Run TextAttack's own recipes (optional extra `xrobust[textattack]`) on xrobust examples.

TextAttack is imported only inside `run_textattack`, never at module import: `import attacks` must stay free of it
(textattack 0.3.11 pins transformers<5 and costs ~7 s and ~600 MB to import). Its first import tries six NLTK
downloads and then needs NLTK's English stopwords, which fails offline; `_import_textattack` makes it work without
network by (1) putting a private NLTK data folder holding our own English stopword list
(attacks/resources/textattack/english, see the README there) first on `nltk.data.path`, and (2) pointing
TextAttack's cache (`TA_CACHE_DIR`, read once at its import) at a private folder under the xrobust cache dir
(`$XROBUST_CACHE_DIR` or the user cache dir: `<cache>/textattack/`) that holds its `post_install_check_3` flag file.
The user's own `~/.cache/textattack` and NLTK data are never read or written. TextAttack copies `TA_CACHE_DIR` into
HF_HOME, XDG_CACHE_HOME, PYTORCH_TRANSFORMERS_CACHE and TFHUB_CACHE_DIR; we restore those afterwards so the rest
of the process (the prediction cache, Hugging Face) keeps its locations.

Models run through TextAttack's stock `HuggingFaceModelWrapper` (it pads every query to the tokenizer's maximum
length, 512 for XLM-R): numbers are TextAttack's, for comparison with published ones, not fast.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Sequence

from harness.errors import ConfigError
from harness.types import Example

SKIPPED, FAILED, SUCCEEDED = "skipped", "failed", "succeeded"
STOPWORDS_FILE = Path(__file__).resolve().parents[1] / "resources" / "textattack" / "english"
POST_INSTALL_FLAG = "post_install_check_3"  # textattack 0.3.11's shared/utils/install.py
_TA_SIDE_EFFECT_VARS = ("TA_CACHE_DIR", "HF_HOME", "XDG_CACHE_HOME", "PYTORCH_TRANSFORMERS_CACHE", "TFHUB_CACHE_DIR")

# id -> (class in textattack.attack_recipes, citation)
RECIPES: dict[str, tuple[str, str]] = {
    "textattack.deepwordbug.v1": ("DeepWordBugGao2018", "Gao, Lanchantin, Soffa & Qi 2018"),
    "textattack.pruthi2019.v1": ("Pruthi2019", "Pruthi, Dhingra & Lipton 2019"),
    "textattack.textbugger.v1": ("TextBuggerLi2018", "Li, Ji, Du, Li & Wang 2019"),
    "textattack.badchar.v1": ("BadCharacters2021", "Boucher, Shumailov, Anderson & Papernot 2022"),
}
# Why a recipe cannot run offline with textattack 0.3.11 (checked on this version; see tests).
_OFFLINE_BLOCKERS: dict[str, str] = {
    "textattack.textbugger.v1": (
        "TextBuggerLi2018 cannot run offline: it reads shared/intentional_homoglyphs.txt, which the textattack 0.3.11 "
        "wheel does not ship, downloads the paragramcf word embeddings from TextAttack's S3 bucket and the Universal "
        "Sentence Encoder from TF-Hub (needs tensorflow_hub)"),
    "textattack.badchar.v1": (
        "BadCharacters2021 cannot run offline: its homoglyph transformation reads shared/intentional_homoglyphs.txt, "
        "which the textattack 0.3.11 wheel does not ship (and its goals are targeted ones, not the untargeted label "
        "flip of the other recipes)"),
}


class TextAttackUnavailable(ConfigError):
    """A TextAttack recipe that cannot run here (not installed, or needs files/network it cannot get offline)."""


@dataclass(frozen=True)
class TextAttackResult:
    """TextAttack's result for one example: the attacked fields after the attack (unchanged when skipped), the
    outcome, the model queries TextAttack counted (the clean input included), the label name the model gives the
    returned text, and how many words TextAttack changed."""

    fields: dict[str, str]
    outcome: str
    queries: int
    pred: str
    words_changed: int


def unavailable(recipe: str) -> str:
    """Why `recipe` cannot run in this environment ("" when it can); never imports textattack."""
    if recipe not in RECIPES:
        raise ConfigError(f"unknown TextAttack recipe {recipe!r} (known: {', '.join(sorted(RECIPES))})")
    if find_spec("textattack") is None:
        return "textattack is not installed (install the extra: pip install 'xrobust[textattack]')"
    return _OFFLINE_BLOCKERS.get(recipe, "")


def private_dir() -> Path:
    """The bridge's own folder for TextAttack's cache and NLTK data (under the xrobust cache dir)."""
    from harness.modelbuild import cache_root

    return cache_root() / "textattack"


def _import_textattack() -> Any:
    """Import textattack without network (see the module docstring) and return it."""
    if "textattack" in sys.modules:
        return sys.modules["textattack"]
    root = private_dir()
    stop = root / "nltk_data" / "corpora" / "stopwords" / "english"
    if not stop.is_file() or stop.read_bytes() != STOPWORDS_FILE.read_bytes():
        stop.parent.mkdir(parents=True, exist_ok=True)
        stop.write_bytes(STOPWORDS_FILE.read_bytes())
    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / POST_INSTALL_FLAG).touch()
    import nltk.data

    if str(root / "nltk_data") not in nltk.data.path:
        nltk.data.path.insert(0, str(root / "nltk_data"))  # first, so results never depend on the user's NLTK data
    saved = {k: os.environ.get(k) for k in _TA_SIDE_EFFECT_VARS}
    os.environ["TA_CACHE_DIR"] = str(cache)
    try:
        import textattack
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return textattack


def _text(example: Example, field: str) -> str:
    value = example.fields.get(field)
    if not isinstance(value, str):
        raise ConfigError(f"example {example.id}: field {field!r} is not text ({type(value).__name__}); "
                          "TextAttack recipes attack text fields of classification examples only")
    return value


def run_textattack(recipe: str, model_dir: str | Path, examples: Sequence[Example],
                   fields: Sequence[str] = ("premise", "hypothesis"), *, query_budget: int | None = None,
                   seed: int = 0) -> list[TextAttackResult]:
    """Attack each classification example with TextAttack's recipe through its HuggingFaceModelWrapper.

    `fields` become TextAttack's columns in this order (a (premise, hypothesis) pair is tokenised as a sequence
    pair); the gold label must be one of the checkpoint's label names. `query_budget` caps model queries per
    example (TextAttack's `query_budget`; None: unlimited); `seed` goes to `textattack.shared.utils.set_seed`
    before the first example, so a run is repeatable. Raises TextAttackUnavailable with the reason for a recipe
    that cannot run here.
    """
    _check(recipe, query_budget, fields)
    ta = _import_textattack()
    import transformers

    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(model_dir))
    model.to(ta.shared.utils.device)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    return attack_with_model(recipe, model, tokenizer, examples, fields, query_budget=query_budget, seed=seed)


def _check(recipe: str, query_budget: int | None, fields: Sequence[str]) -> None:
    reason = unavailable(recipe)
    if reason:
        raise TextAttackUnavailable(f"{recipe}: {reason}")
    if query_budget is not None and (isinstance(query_budget, bool) or not isinstance(query_budget, int)
                                     or query_budget < 1):
        raise ConfigError(f"{recipe}: query_budget must be a positive integer or None, got {query_budget!r}")
    if not fields:
        raise ConfigError(f"{recipe}: no fields to attack")


def attack_with_model(recipe: str, model: Any, tokenizer: Any, examples: Sequence[Example], fields: Sequence[str],
                      *, query_budget: int | None = None, seed: int = 0,
                      max_word_share: float | None = None) -> list[TextAttackResult]:
    """`run_textattack` on a loaded Hugging Face sequence classifier and its tokenizer. `max_word_share` < 1 adds
    TextAttack's MaxWordsPerturbed(max_percent=...) constraint to the recipe (None or 1: the recipe as published)."""
    _check(recipe, query_budget, fields)
    ta = _import_textattack()
    from collections import OrderedDict

    from textattack import attack_recipes
    from textattack.attack_results import FailedAttackResult, SkippedAttackResult, SuccessfulAttackResult
    from textattack.constraints.overlap import MaxWordsPerturbed
    from textattack.models.wrappers import HuggingFaceModelWrapper

    label2id = dict(model.config.label2id)
    id2label = {int(i): name for i, name in model.config.id2label.items()}
    attack = getattr(attack_recipes, RECIPES[recipe][0]).build(HuggingFaceModelWrapper(model, tokenizer))
    if max_word_share is not None and max_word_share < 1:
        attack.constraints.append(MaxWordsPerturbed(max_percent=max_word_share))
    if query_budget is not None:
        attack.goal_function.query_budget = query_budget
    ta.shared.utils.set_seed(seed)
    out: list[TextAttackResult] = []
    for ex in examples:
        if ex.label not in label2id:
            raise ConfigError(f"example {ex.id}: label {ex.label!r} is not one of the checkpoint's labels "
                              f"{sorted(label2id)}")
        result = attack.attack(OrderedDict((f, _text(ex, f)) for f in fields), int(label2id[ex.label]))
        if isinstance(result, SkippedAttackResult):
            outcome = SKIPPED
        elif isinstance(result, SuccessfulAttackResult):
            outcome = SUCCEEDED
        elif isinstance(result, FailedAttackResult):
            outcome = FAILED
        else:  # MaximizedAttackResult belongs to non-classification goals, which these recipes never use
            raise RuntimeError(f"{recipe}: unexpected TextAttack result {type(result).__name__} for {ex.id}")
        final = result.perturbed_result
        text = final.attacked_text
        changed = result.original_result.attacked_text.all_words_diff(text)
        values = text.tokenizer_input  # one text per column, in column order (a bare str for one column)
        out.append(TextAttackResult(
            fields=dict(zip(fields, (values,) if isinstance(values, str) else values)),
            outcome=outcome, queries=int(final.num_queries), pred=id2label[int(final.output)],
            words_changed=len(changed)))
    return out
