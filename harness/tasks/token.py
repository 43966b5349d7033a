"""Token classification (NER, POS): a tuple of words in, one tag per word out.

Recipes: PAN-X / WikiANN NER (`panx`), UD-POS (`udpos`) and the Hindi–English code-mixed NER and POS samples
(`ner_hi_en`, `pos_hi_en`). Words are perturbed as one text (joined with single spaces) and mapped back through
the perturbation's alignment, so the word count and the tags never change. Model inputs are built as XTREME's
`run_tag.py` / `utils_preprocess.py` build them: each word tokenized on its own, only its first sub-token labelled,
and a sentence longer than `max_length` sub-tokens split into consecutive pieces rather than truncated.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DataError
from ..perturbation import PerturbResult, map_span
from ..rng import derive_rng
from ..stats import ratio
from ..text import grapheme_edit_rate, nfc
from ..types import Cell, Example, Variant
from .base import ADAPTERS, TASKS, ProgressFn, TaskAdapter, TaskRecipe, as_json
from .classification import reconcile_labels
from .codemixed import CodeMixedMeta

if TYPE_CHECKING:
    from ..perturbation import Perturbation
    from ..predictor import Predictor

FIELD = "tokens"
METRIC_VARIANTS = ("ner", "pos")
NER_METRICS = ("entity_f1", "entity_precision", "entity_recall", "token_accuracy")
POS_METRICS = ("token_accuracy",)
_OPTIONS = ("label_map", "protect_answers")


# --- data ---------------------------------------------------------------------------------------------------
def _sequence(row: Mapping[str, Any], col: str, what: str, loc: str) -> list[Any]:
    value = row.get(col)
    if value is None:
        raise DataError(f"{loc}: {what} column {col!r} is missing; columns: {sorted(row)}")
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise DataError(f"{loc}: {what} column {col!r} must be a list, got {type(value).__name__}")
    return list(value)


def _tag(value: Any, i: int, col: str, recipe: TaskRecipe, loc: str) -> str:
    """A tag name; integers index the recipe's label names (the ClassLabel order of google/xtreme)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= value < len(recipe.label_names):
            raise DataError(f"{loc}: {col}[{i}] = {value} is not a tag index (0..{len(recipe.label_names) - 1}) "
                            f"of {recipe.name}")
        return recipe.label_names[int(value)]
    if not isinstance(value, str):
        raise DataError(f"{loc}: {col}[{i}] = {value!r} must be a tag name or index")
    if value not in recipe.label_names:
        raise DataError(f"{loc}: {col}[{i}] = {value!r} is not one of {list(recipe.label_names)} ({recipe.name})")
    return value


# --- perturbation: words <-> one text ------------------------------------------------------------------------
def map_words(words: Sequence[str], res: PerturbResult) -> tuple[str, ...] | None:
    """The perturbed words of `" ".join(words)` perturbed into `res`, or None when an edit crossed a word boundary.

    Each single-space gap between words is mapped through the alignment; the words are the text between the
    mapped gaps, so a character inserted at a word's edge stays with that word and the words joined with single
    spaces give `res.text` exactly. A gap that an edit cut, replaced or removed makes the mapping inexact.

    >>> from harness.perturbation import splice
    >>> text, al = splice("ab cd", [(3, 5, "cxd")])
    >>> map_words(("ab", "cd"), PerturbResult(text, True, 2, 1, 0.5, al))
    ('ab', 'cxd')
    """
    original = " ".join(words)
    if res.text != original and not res.alignment:
        return None  # a changed text without an alignment cannot be mapped
    new = res.text
    out: list[str] = []
    start = pos = 0
    for w in words[:-1]:
        pos += len(w)
        gs, ge, exact = map_span(res.alignment, pos, pos + 1)
        if not exact or gs < start or new[gs:ge] != " ":
            return None
        out.append(new[start:gs])
        start, pos = ge, pos + 1
    out.append(new[start:])
    if " ".join(out) != new:
        return None
    return tuple(out)


# --- model inputs ---------------------------------------------------------------------------------------------
def chunk_words(n_pieces: Sequence[int], budget: int) -> list[range]:
    """Consecutive word ranges whose sub-token counts fit `budget`, packed greedily as XTREME's preprocessing does.

    >>> chunk_words([2, 3, 1, 4], 5)
    [range(0, 2), range(2, 4)]
    """
    out: list[range] = []
    start = used = 0
    for i, k in enumerate(n_pieces):
        if i > start and used + k > budget:
            out.append(range(start, i))
            start, used = i, 0
        used += k
    out.append(range(start, len(n_pieces)))
    return out


class WordEncoder:
    """Sub-token ids of words and the model features of a sentence, for one tokenizer and `max_length`."""

    def __init__(self, tokenizer: Any, max_length: int):
        self.tokenizer = tokenizer
        self.head, self.tail = _special_tokens(tokenizer)
        self.prefix = len(self.head)  # special tokens before the words (XLM-R: <s>)
        self.budget = max_length - len(self.head) - len(self.tail)
        if self.budget < 1:
            raise ConfigError(f"--max-length {max_length} leaves no room for words beside the special tokens")
        self.unk = tokenizer.unk_token_id
        self._pieces: dict[str, tuple[int, ...]] = {}

    def learn(self, words: set[str]) -> None:
        """Tokenize the words not seen yet, each on its own (XLM-R gives a word its leading "▁" piece)."""
        todo = sorted(w for w in words if w not in self._pieces)
        if not todo:
            return
        for w, ids in zip(todo, self.tokenizer(todo, add_special_tokens=False)["input_ids"]):
            # as XTREME: a word with no sub-token (whitespace) or more than fit in one input becomes <unk>
            self._pieces[w] = tuple(ids) if 0 < len(ids) <= self.budget else (self.unk,)

    def pieces(self, word: str) -> tuple[int, ...]:
        self.learn({word})
        return self._pieces[word]

    def encode(self, words: Sequence[str]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """(feature ids with special tokens, position of each word's first sub-token) per chunk of the sentence."""
        self.learn(set(words))
        pieces = [self._pieces[w] for w in words]
        out = []
        for r in chunk_words([len(p) for p in pieces], self.budget):
            ids: list[int] = []
            first: list[int] = []
            for i in r:
                first.append(self.prefix + len(ids))
                ids.extend(pieces[i])
            out.append(((*self.head, *ids, *self.tail), tuple(first)))
        return out


def _special_tokens(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The special token ids the tokenizer puts before and after one sequence (XLM-R: <s> and </s>)."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for k in range(len(full) - len(bare) + 1):
        if full[k:k + len(bare)] == bare:
            return tuple(full[:k]), tuple(full[k + len(bare):])
    raise ConfigError("the tokenizer changes a word's sub-tokens when it adds special tokens; cannot build inputs")


# --- entity chunks (seqeval >= 1.0, IOB2, default mode) -------------------------------------------------------
def entity_chunks(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Chunks `(type, first, last)` of one sentence as seqeval's default-mode `get_entities` finds them.

    A tag's letter is its first character and its type the text after the first "-" (without one: all after the
    letter), as seqeval >= 1.0 reads it. seqeval closes every sentence with "O", which ends any chunk of B/I/E/S
    tags, so the chunks of a corpus are those of its sentences and entity counts add up per sentence.

    >>> sorted(entity_chunks(["B-PER", "I-PER", "O", "I-LOC", "B-ORG", "I-LOC"]))
    [('LOC', 3, 3), ('LOC', 5, 5), ('ORG', 4, 4), ('PER', 0, 1)]
    """
    chunks: set[tuple[str, int, int]] = set()
    prev_letter, prev_type, begin = "O", "", 0
    for i, tag in enumerate((*tags, "O")):
        letter, type_ = tag[:1], tag[1:].split("-", 1)[-1] or "_"
        changed = prev_type != type_
        if prev_letter in ("E", "S") or (prev_letter in ("B", "I") and letter in ("B", "S", "O")) \
                or (prev_letter not in ("O", ".") and changed):
            chunks.add((prev_type, begin, i - 1))
        if letter in ("B", "S") or (prev_letter in ("E", "S", "O") and letter in ("E", "I")) \
                or (letter not in ("O", ".") and changed):
            begin = i
        prev_letter, prev_type = letter, type_
    return chunks


def entity_counts(gold: Sequence[str], pred: Sequence[str]) -> tuple[int, int, int]:
    """(correct, predicted, gold) entity chunks of one sentence.

    >>> entity_counts(["B-PER", "I-PER", "O"], ["B-PER", "O", "B-LOC"])
    (0, 2, 1)
    """
    g, p = entity_chunks(gold), entity_chunks(pred)
    return len(g & p), len(p), len(g)


def entity_prf(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Micro precision, recall, F1 from summed [tp, predicted, gold] (..., 3), with seqeval's arithmetic
    (0 for 0/0; F1 = 2PR/(P+R)), so the values equal seqeval's bit for bit."""
    tp, npred, ngold = sums[..., 0], sums[..., 1], sums[..., 2]
    p = np.where(npred > 0, tp / np.where(npred > 0, npred, 1.0), 0.0)
    r = np.where(ngold > 0, tp / np.where(ngold > 0, ngold, 1.0), 0.0)
    pr = p + r
    f = np.where(pr > 0, 2.0 * p * r / np.where(pr > 0, pr, 1.0), 0.0)
    return {"entity_f1": f, "entity_precision": p, "entity_recall": r}


# --- adapter --------------------------------------------------------------------------------------------------
@ADAPTERS.register("token_classification")
class TokenClassificationAdapter(TaskAdapter):
    """Words -> one tag each. NER (`metric_variant="ner"`): seqeval entity F1 (primary), precision, recall and
    token accuracy; POS (`"pos"`): token accuracy."""

    task_type = "token_classification"
    head = "token_classification"
    needs_token_count = True

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        if recipe.fields != (FIELD,):
            raise ConfigError(f"{where}: token classification takes one field {FIELD!r}, recipe has {recipe.fields}")
        if recipe.metric_variant not in METRIC_VARIANTS:
            raise ConfigError(f"{where}: recipe {recipe.name} needs metric_variant in {METRIC_VARIANTS}, "
                              f"got {recipe.metric_variant!r}")
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(f"{where}.options: unknown option(s) {unknown} for token classification "
                              "(it takes only label_map)")
        if options.get("protect_answers"):
            raise ConfigError(f"{where}.protect_answers: is for extractive QA, not token classification")
        self.recipe = recipe
        self.ner = recipe.metric_variant == "ner"
        self.metrics = self.metrics_for(recipe)
        self.higher_is_better = {m: True for m in self.metrics}
        id2label = predictor.id2label
        mapping = reconcile_labels(recipe.label_names, id2label, options.get("label_map"), where)
        n = max(id2label) + 1 if id2label else 0
        # a class with no dataset tag keeps its checkpoint name (a B-MISC prediction is a wrong entity to seqeval);
        # "model:" only where that name would pass for a dataset tag
        self._decode_table = np.array([mapping.get(i, _foreign(str(id2label.get(i, i)), recipe.label_names))
                                       for i in range(n)], dtype=object)

    @classmethod
    def metrics_for(cls, recipe: TaskRecipe) -> tuple[str, ...]:
        """NER recipes: entity F1 (primary), precision, recall, token accuracy; POS recipes: token accuracy."""
        return NER_METRICS if recipe.metric_variant == "ner" else POS_METRICS

    # --- perturbation ---------------------------------------------------------------------------------------
    def perturb(self, example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
        """Perturb the words as one text with the example's own RNG; map each word back (see map_words).

        When the mapping is inexact (an edit crossed a word boundary), the example keeps its words and counts as
        not applied, so the applied rate shows it. A word an edit emptied keeps its original text."""
        if FIELD not in fields:
            return self.clean_variant(example)
        words = tuple(example.fields[FIELD])
        rng = derive_rng(cell.seed, pert.id, cell.severity, example.id, FIELD)
        res = pert.perturb(" ".join(words), cell.severity, rng, example.lang)
        cmi = float(res.meta["cmi"]) if "cmi" in res.meta else float("nan")
        mapped = map_words(words, res) if res.applied else None
        if mapped is None:
            return Variant(example, example.fields, False, 0.0, 0, cmi)
        new = tuple(m if m or not w else w for w, m in zip(words, mapped))
        n_edited = sum(a != b for a, b in zip(words, new))
        if not n_edited:
            return Variant(example, example.fields, False, 0.0, 0, cmi)
        rate = grapheme_edit_rate(" ".join(words), " ".join(new))
        return Variant(example, {**example.fields, FIELD: new}, True, rate, n_edited, cmi)

    # --- prediction -----------------------------------------------------------------------------------------
    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[tuple[str, ...]]]:
        """Tags for every variant of every cell, from one deduplicated pass over all their features."""
        enc = WordEncoder(predictor.tokenizer, predictor.max_length)
        enc.learn({w for g in groups for v in g for w in v.fields[FIELD]})
        plans = [[enc.encode(v.fields[FIELD]) for v in g] for g in groups]
        features = [f for plan in plans for chunks in plan for f, _ in chunks]
        outputs = predictor.forward(features, "token_logits", progress) if features else []
        out: list[list[tuple[str, ...]]] = []
        k = 0
        for plan in plans:
            preds = []
            for chunks in plan:
                ids: list[int] = []
                for _, first in chunks:
                    ids.extend(np.asarray(outputs[k])[list(first)].argmax(axis=-1).tolist())
                    k += 1
                preds.append(tuple(self._decode_table[ids]))
            out.append(preds)
        return out

    # --- scoring --------------------------------------------------------------------------------------------
    def example_stats(self, variants: Sequence[Variant], preds: Sequence[tuple[str, ...]]) -> np.ndarray:
        """NER: [correct entities, predicted entities, gold entities, correct tags, tags]; POS: the last two."""
        rows = []
        for v, p in zip(variants, preds):
            gold = v.gold
            acc = [sum(a == b for a, b in zip(gold, p)), len(gold)]
            rows.append([*entity_counts(gold, p), *acc] if self.ner else acc)
        return np.array(rows, dtype=float).reshape(len(rows), 5 if self.ner else 2)

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        if recipe.metric_variant != "ner":
            return {"token_accuracy": ratio(0, 1)(sums)}
        return {**entity_prf(sums[..., :3]), "token_accuracy": ratio(0, 1)(sums[..., 3:])}

    def record_fields(self, variant: Variant, pred: tuple[str, ...]) -> dict[str, Any]:
        gold = tuple(variant.gold)
        ok = tuple(pred) == gold
        if self.ner:
            tp, npred, ngold = entity_counts(gold, pred)
            score = 2 * tp / (npred + ngold) if npred + ngold else 1.0
        else:
            score = sum(a == b for a, b in zip(gold, pred)) / len(gold) if gold else 1.0
        return {"label": as_json(list(gold)), "pred": as_json(list(pred)), "score": float(score), "correct": ok}

    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """(`{"tokens": words}`, tags) from a row's word list and tag list columns; DataError naming `loc`."""
        col = columns.get(FIELD, FIELD)
        words = _sequence(row, col, "token", loc)
        tags = _sequence(row, label_col, "tag", loc)
        if not words:
            raise DataError(f"{loc}: column {col!r} has no tokens")
        if len(words) != len(tags):
            raise DataError(f"{loc}: {len(words)} tokens in {col!r} but {len(tags)} tags in {label_col!r}")
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise DataError(f"{loc}: {col}[{i}] = {w!r} is not a string")
        labels = tuple(_tag(t, i, label_col, recipe, loc) for i, t in enumerate(tags))
        return {FIELD: tuple(nfc(w) for w in words)}, labels


def _foreign(name: str, label_names: Sequence[str]) -> str:
    return f"model:{name}" if name in label_names else name


# --- recipes --------------------------------------------------------------------------------------------------
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")  # google/xtreme ClassLabel order
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X")  # the 17 UPOS tags, in google/xtreme's ClassLabel order
# XTREME-R's 48 WikiANN languages (google-research/xtreme scripts/train_panx.sh); google/xtreme has PAN-X.<lang>
# configs for XTREME's 40, not for the XTREME-R additions az gu lt pa pl qu ro uk.
PANX_LANGS = tuple(sorted((
    "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my zh kk tr "
    "et fi hu qu pl uk az lt pa gu ro").split()))
# google/xtreme's UD-POS configs are named by the English language name (XTREME's 33 languages).
UDPOS_CONFIGS = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "kk": "Kazakh", "ko": "Korean", "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ur": "Urdu",
    "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
}
# XTREME-R's 38 UD-POS languages (google-research/xtreme scripts/preprocess_udpos.sh) add lt pl ro uk wo.
UDPOS_LANGS = tuple(sorted((*UDPOS_CONFIGS, "lt", "pl", "ro", "uk", "wo")))
# ICON-2016 Hindi–English coarse POS tags, every tag of ../shared/data/code_mixed/pos_hin_eng.jsonl ("null" and
# "~" occur once each in the source).
HI_EN_POS_TAGS = ("#", "$", "@", "CC", "DT", "E", "G_J", "G_N", "G_PRP", "G_PRT", "G_R", "G_SYM", "G_V", "G_X",
                  "PSP", "U", "null", "~")

TASKS.register("panx", TaskRecipe(
    name="panx",
    task_type="token_classification",
    fields=(FIELD,),
    label_names=PANX_TAGS,
    languages=PANX_LANGS,
    hf_source={"id": "google/xtreme", "config": "PAN-X.{lang}", "split": "test"},
    label_field="ner_tags",
    metric_variant="ner",
    hf_missing=("az", "gu", "lt", "pa", "pl", "qu", "ro", "uk"),
    description="WikiANN / PAN-X named entities (Pan et al. 2017; Rahimi et al. 2019 splits), IOB2 PER/ORG/LOC; "
                "entity F1 as seqeval. google/xtreme lacks az gu lt pa pl qu ro uk: give those a `data:` section",
))

TASKS.register("udpos", TaskRecipe(
    name="udpos",
    task_type="token_classification",
    fields=(FIELD,),
    label_names=UPOS_TAGS,
    languages=UDPOS_LANGS,
    hf_source={"id": "google/xtreme", "split": "test", "label_field": "pos_tags"},
    hf_configs={lang: {"config": f"udpos.{name}"} for lang, name in UDPOS_CONFIGS.items()},
    label_field="upos",
    metric_variant="pos",
    hf_missing=("lt", "pl", "ro", "uk", "wo"),
    description="Universal Dependencies part-of-speech tags (17 UPOS), token accuracy. Data files use `upos`, "
                "google/xtreme `pos_tags`; it lacks lt pl ro uk wo: give those a `data:` section",
))

TASKS.register("ner_hi_en", TaskRecipe(
    name="ner_hi_en",
    task_type="token_classification",
    fields=(FIELD,),
    label_names=PANX_TAGS,
    languages=("hi-en",),
    label_field="tags",
    metric_variant="ner",
    example_meta=CodeMixedMeta(),  # checks lang_pair; the file has no word language ids, so cmi is NaN
    description="Hindi–English code-mixed tweets NER (Singh et al. 2018; = LinCE ner_hineng), IOB2 PER/ORG/LOC; "
                "GPL-3.0 source, no hub copy: needs a `data:` section",
))

TASKS.register("pos_hi_en", TaskRecipe(
    name="pos_hi_en",
    task_type="token_classification",
    fields=(FIELD,),
    label_names=HI_EN_POS_TAGS,
    languages=("hi-en",),
    label_field="tags",
    metric_variant="pos",
    example_meta=CodeMixedMeta(),  # cmi of each post from its word language ids (`lang_ids`)
    description="Hindi–English code-mixed Facebook posts, ICON-2016 coarse POS tags (Jamatia & Das), token "
                "accuracy; research use, no hub copy: needs a `data:` section",
))

__all__ = ["TokenClassificationAdapter", "WordEncoder", "chunk_words", "entity_chunks", "entity_counts", "entity_prf",
           "map_words"]
