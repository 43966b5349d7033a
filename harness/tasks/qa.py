"""Extractive question answering (XQuAD, MLQA, TyDiQA-GoldP): a question and a context -> an answer span.

Answers are character spans of the context (`Answer(text, start)`). When a perturbation edits the context, every
answer moves with it through the perturbation's alignment (`map_span`); an edit that cuts an answer boundary marks
the variant `label_lost` (the answer snaps to the edited region's edges). `protect_answers` edits only the text
around the answers. The recipes perturb the question by default (the gold answers then stay exactly what the
annotators marked); a suite's `perturb_fields: [context]` or `[question, context]` perturbs the context too.
Prediction follows the run_squad recipe: overlapping windows of the context, n-best start/end
decoding over all windows of an example, the best-scoring span's characters as the answer text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DataError
from ..metrics import exact_match, f1
from ..perturbation import Span, map_span
from ..rng import derive_rng
from ..stats import ratio
from ..text import grapheme_edit_rate, nfc
from ..types import Answer, Cell, Example, Variant
from .base import ADAPTERS, TASKS, ProgressFn, TaskAdapter, TaskRecipe, as_json, text_column
from .classification import split_groups

if TYPE_CHECKING:
    from ..perturbation import Perturbation
    from ..predictor import Predictor

BOM = "\ufeff"
DEFAULT_OPTIONS = {"doc_stride": 128, "n_best": 20, "max_answer_length": 30}
ADAPTER_KEYS = ("label_map", "protect_answers")  # what make_adapter adds to a suite's `options`
# a perturbed context: (text, answers, applied, words edited, label lost, code-mixing indices reported)
ContextEdit = tuple[str, tuple[Answer, ...], bool, int, bool, list[float]]


@dataclass(frozen=True)
class Window:
    """One model input of a (question, context) pair: token ids, and per token its character span in the
    context (None for question and special tokens)."""

    ids: tuple[int, ...]
    spans: tuple[tuple[int, int] | None, ...]


# --------------------------------------------------------------------------------------------- data
def parse_answers(raw_context: str, value: Any, col: str, loc: str) -> tuple[str, tuple[Answer, ...]]:
    """SQuAD-style answers checked against the raw context, then moved onto the normalised context.

    The context is NFC-normalised and a leading U+FEFF (a byte-order mark left in some XQuAD translations) is
    dropped; answer offsets are recomputed for both. An answer whose boundary NFC would move is refused.

    >>> parse_answers("\\ufeffab cd", {"text": ["cd"], "answer_start": [4]}, "answers", "f:1")
    ('ab cd', (Answer(text='cd', start=3),))
    """
    pairs = _answer_pairs(value, col, loc)
    context = nfc(raw_context)
    lead = len(context) - len(context.lstrip(BOM))
    context = context[lead:]
    out = []
    for i, (text, start) in enumerate(pairs):
        if raw_context[start:start + len(text)] != text:
            raise DataError(f"{loc}: answer {i} {text!r} is not the context's text at answer_start {start} "
                            f"(context there: {raw_context[start:start + len(text)]!r})")
        s = max(len(nfc(raw_context[:start])) - lead, 0)
        e = max(len(nfc(raw_context[:start + len(text)])) - lead, 0)
        want = nfc(text).lstrip(BOM) if start < lead else nfc(text)
        if context[s:e] != want or not want:
            raise DataError(f"{loc}: answer {i} {text!r} at {start}: Unicode NFC normalisation of the context moves "
                            "the answer's boundary (it starts or ends inside a composed character)")
        out.append(Answer(want, s))
    return context, tuple(out)


def _answer_pairs(value: Any, col: str, loc: str) -> list[tuple[str, int]]:
    """(text, start) pairs from {"text": [...], "answer_start": [...]} or a list of {"text", "answer_start"}."""
    if isinstance(value, Mapping) and "text" in value and "answer_start" in value:
        texts, starts = value["text"], value["answer_start"]
    elif isinstance(value, list) and all(isinstance(a, Mapping) for a in value):
        texts, starts = [a.get("text") for a in value], [a.get("answer_start") for a in value]
    else:
        raise DataError(f"{loc}: column {col!r} must hold SQuAD-style answers "
                        f"{{'text': [...], 'answer_start': [...]}}, got {value!r}")
    if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
        raise DataError(f"{loc}: {col!r} needs lists 'text' and 'answer_start' of the same length, got {value!r}")
    if not texts:
        raise DataError(f"{loc}: no gold answer in {col!r}; extractive QA scores only answerable questions")
    for t, s in zip(texts, starts):
        if not isinstance(t, str) or not t or isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise DataError(f"{loc}: answer ({t!r}, {s!r}) in {col!r}: text must be non-empty text and "
                            "answer_start a character offset >= 0")
    return list(zip(texts, starts))


# ------------------------------------------------------------------------------------------ decoding
def best_span(windows: Sequence[Window], logits: Sequence[np.ndarray], n_best: int,
              max_answer_length: int) -> tuple[int, int] | None:
    """Character span of the best answer over all windows of one example, or None when no span is valid.

    In each window the `n_best` highest start and end logits among context tokens are paired; a pair is valid
    when end >= start and it spans at most `max_answer_length` sub-tokens; its score is start + end logit.
    Ties keep the first (window order, then start rank, then end rank).
    """
    best: tuple[float, int, int] | None = None
    for w, lg in zip(windows, logits):
        ctx = np.array([i for i, sp in enumerate(w.spans) if sp is not None], dtype=int)
        if not len(ctx):
            continue
        start, end = np.asarray(lg, dtype=np.float64)[ctx, 0], np.asarray(lg, dtype=np.float64)[ctx, 1]
        k = min(n_best, len(ctx))
        si = np.argsort(-start, kind="stable")[:k]
        ei = np.argsort(-end, kind="stable")[:k]
        length = ctx[ei][None, :] - ctx[si][:, None] + 1
        score = np.where((length >= 1) & (length <= max_answer_length), start[si][:, None] + end[ei][None, :], -np.inf)
        flat = int(np.argmax(score))
        top = float(score.flat[flat])
        if np.isfinite(top) and (best is None or top > best[0]):
            s_tok, e_tok = ctx[si[flat // k]], ctx[ei[flat % k]]
            best = (top, w.spans[s_tok][0], w.spans[e_tok][1])
    return None if best is None else (best[1], best[2])


# ------------------------------------------------------------------------------------------- adapter
@ADAPTERS.register("extractive_qa")
class ExtractiveQAAdapter(TaskAdapter):
    """Question + context -> answer span; metrics SQuAD (or MLQA) F1 and exact match, max over gold answers."""

    task_type = "extractive_qa"
    head = "question_answering"
    metrics = ("f1", "exact_match")
    higher_is_better = {"f1": True, "exact_match": True}

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        if set(recipe.fields) != {"question", "context"}:
            raise ConfigError(f"{where}: extractive QA needs the fields question and context, "
                              f"recipe has {recipe.fields}")
        self.recipe = recipe
        unknown = sorted(set(options) - set(DEFAULT_OPTIONS) - set(ADAPTER_KEYS))
        if unknown:
            raise ConfigError(f"{where}.options: unknown option(s) {unknown} for extractive QA "
                              f"(known: {sorted(DEFAULT_OPTIONS)})")
        if options.get("label_map"):
            raise ConfigError(f"{where}.label_map: extractive QA has no label classes to map; remove it")
        opts = {k: options.get(k, v) for k, v in DEFAULT_OPTIONS.items()}
        for k, v in opts.items():
            low = 0 if k == "doc_stride" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ConfigError(f"{where}.options.{k}: expected an integer >= {low}, got {v!r}")
        tokenizer = predictor.tokenizer
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError(f"{where}: extractive QA needs a fast (Rust) tokenizer for character offsets; "
                              f"{type(tokenizer).__name__} is not one")
        self._specials = tokenizer.num_special_tokens_to_add(pair=True)
        # the tokenizer needs room for more than `doc_stride` context tokens beside a one-token question
        limit = predictor.max_length - self._specials - 1
        if opts["doc_stride"] >= limit:
            raise ConfigError(f"{where}.options.doc_stride: {opts['doc_stride']} must be smaller than max_length "
                              f"{predictor.max_length} minus {self._specials} special tokens minus 1 (= {limit}); "
                              "lower doc_stride or raise --max-length")
        self.doc_stride: int = opts["doc_stride"]
        self.n_best: int = opts["n_best"]
        self.max_answer_length: int = opts["max_answer_length"]
        self.protect_answers = bool(options.get("protect_answers", False))
        self._mlqa = recipe.metric_variant == "mlqa"

    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], tuple[Answer, ...]]:
        """Question and context (NFC) and the gold answers, checked against the context."""
        question = text_column(row, columns.get("question", "question"), "question", recipe, loc)
        ccol = columns.get("context", "context")
        raw = row.get(ccol)
        if not isinstance(raw, str):
            text_column(row, ccol, "context", recipe, loc)  # raises the shared "missing / not text" error
        if label_col not in row:
            raise DataError(f"{loc}: answers column {label_col!r} is missing; columns: {sorted(row)}")
        context, answers = parse_answers(raw, row[label_col], label_col, loc)
        return {"question": question, "context": context}, answers

    # --- perturbation ------------------------------------------------------------------------------------
    def perturb(self, example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
        """Perturb the chosen fields; answers move with the context (or stay untouched with protect_answers)."""
        new = dict(example.fields)
        applied, words, lost = False, 0, False
        answers: tuple[Answer, ...] = example.label
        cmis: list[float] = []
        for f in fields:
            if f == "context":
                text, answers, ok, n, lost, cmi = self._perturb_context(example, pert, cell)
            else:
                res = pert.perturb(example.fields[f], cell.severity, derive_rng(cell.seed, pert.id, cell.severity,
                                                                               example.id, f), example.lang)
                text, ok, n = res.text, res.applied, res.n_edited
                cmi = [float(res.meta["cmi"])] if "cmi" in res.meta else []
            if ok:
                new[f], applied, words = text, True, words + n
            cmis.append(sum(cmi) / len(cmi) if cmi else float("nan"))
        rate = 0.0
        if applied:
            rate = grapheme_edit_rate("\n".join(example.fields[f] for f in fields), "\n".join(new[f] for f in fields))
        cmi_all = sum(cmis) / len(cmis) if cmis and not any(np.isnan(cmis)) else float("nan")
        return Variant(example, new, applied, rate, words, cmi_all, label=answers, label_lost=lost)

    def _perturb_context(self, ex: Example, pert: "Perturbation", cell: Cell) -> ContextEdit:
        """(context, answers, applied, words edited, label lost, field CMIs) after perturbing the context."""
        if self.protect_answers:
            return _perturb_around_answers(ex, pert, cell)
        context = ex.fields["context"]
        res = pert.perturb(context, cell.severity, derive_rng(cell.seed, pert.id, cell.severity, ex.id, "context"),
                           ex.lang)
        cmi = [float(res.meta["cmi"])] if "cmi" in res.meta else []
        if not res.applied:
            return context, ex.label, False, 0, False, cmi
        # a perturbation that changed the text without saying where cannot place the answers: the whole context
        # is then one edited region, so every answer is flagged lost rather than silently misplaced
        alignment = res.alignment or ((Span(0, len(context), 0, len(res.text)),) if res.text != context else ())
        answers, lost = [], False
        for a in ex.label:
            s, e, exact = map_span(alignment, a.start, a.end)
            answers.append(Answer(res.text[s:e], s))
            lost = lost or not exact or s == e
        return res.text, tuple(answers), True, res.n_edited, lost, cmi

    # --- prediction ----------------------------------------------------------------------------------------
    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[str]]:
        """Answer text per variant: all windows of all distinct (question, context) pairs in one forward pass."""
        pairs = list(dict.fromkeys((v.fields["question"], v.fields["context"]) for g in groups for v in g))
        if not pairs:
            return [[] for _ in groups]
        windows = self.windows(predictor.tokenizer, predictor.max_length, pairs)
        logits = predictor.forward([w.ids for ws in windows for w in ws], "span_logits", progress)
        answers: dict[tuple[str, str], str] = {}
        k = 0
        for pair, ws in zip(pairs, windows):
            span = best_span(ws, logits[k:k + len(ws)], self.n_best, self.max_answer_length)
            k += len(ws)
            answers[pair] = "" if span is None else pair[1][span[0]:span[1]]
        flat = [answers[(v.fields["question"], v.fields["context"])] for g in groups for v in g]
        return split_groups(flat, groups)

    def windows(self, tokenizer: Any, max_length: int, pairs: Sequence[tuple[str, str]]) -> list[list[Window]]:
        """Overlapping windows (`doc_stride` tokens of overlap) of each (question, context) pair."""
        room = max_length - self._specials - self.doc_stride - 1
        questions = [q for q, _ in pairs]
        lengths = [len(ids) for ids in tokenizer(questions, add_special_tokens=False)["input_ids"]]
        questions = [q if n <= room else _cut_question(tokenizer, q, room) for q, n in zip(questions, lengths)]
        enc = tokenizer(questions, [c for _, c in pairs], truncation="only_second", max_length=max_length,
                        stride=self.doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True)
        out: list[list[Window]] = [[] for _ in pairs]
        for i, (ids, offsets, sample) in enumerate(zip(enc["input_ids"], enc["offset_mapping"],
                                                        enc["overflow_to_sample_mapping"])):
            spans = tuple((int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(offsets, enc.sequence_ids(i)))
            out[sample].append(Window(tuple(ids), spans))
        return out

    # --- scoring -------------------------------------------------------------------------------------------
    def _scores(self, variant: Variant, pred: str) -> tuple[float, float]:
        golds = [a.text for a in variant.gold]
        lang = variant.example.lang if self._mlqa else None
        return exact_match(pred, golds, lang), f1(pred, golds, lang)

    def example_stats(self, variants: Sequence[Variant], preds: Sequence[str]) -> np.ndarray:
        rows = [(*self._scores(v, p), 1.0) for v, p in zip(variants, preds)]
        return np.array(rows, dtype=float).reshape(len(rows), 3)

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        return {"f1": ratio(1, 2)(sums), "exact_match": ratio(0, 2)(sums)}

    def record_fields(self, variant: Variant, pred: str) -> dict[str, Any]:
        em, f = self._scores(variant, pred)
        return {"label": as_json([a.text for a in variant.gold]), "pred": pred, "score": f, "correct": em == 1.0}


def _cut_question(tokenizer: Any, question: str, room: int) -> str:
    """The question cut at a token boundary to at most `room` tokens (run_squad's max_query_length): the
    tokenizer can only overlap windows when more than `doc_stride` context tokens fit beside the question."""
    for keep in range(room, -1, -1):  # a prefix can re-tokenize longer; cut earlier until it fits
        enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) <= room:
            return question
        question = question[:enc["offset_mapping"][keep - 1][1]] if keep else ""
    return question


def _perturb_around_answers(ex: Example, pert: "Perturbation", cell: Cell) -> ContextEdit:
    """Perturb each stretch of context outside the answer spans with its own RNG; answers stay byte-identical."""
    context = ex.fields["context"]
    cuts = sorted({0, len(context), *(p for a in ex.label for p in (a.start, a.end))})
    inside = [any(a.start <= s and e <= a.end for a in ex.label) for s, e in zip(cuts, cuts[1:])]
    pieces, applied, words, cmi = [], False, 0, []
    moved = {}  # old offset -> new offset of every cut
    out_len = 0
    for i, ((s, e), protected) in enumerate(zip(zip(cuts, cuts[1:]), inside)):
        moved[s] = out_len
        text = context[s:e]
        if not protected and text.strip():
            res = pert.perturb(text, cell.severity, derive_rng(cell.seed, pert.id, cell.severity, ex.id, "context", i),
                               ex.lang)
            if "cmi" in res.meta:
                cmi.append(float(res.meta["cmi"]))
            if res.applied:
                text, applied, words = res.text, True, words + res.n_edited
        pieces.append(text)
        out_len += len(text)
    moved[len(context)] = out_len
    new = "".join(pieces)
    answers = tuple(Answer(a.text, moved[a.start]) for a in ex.label)
    return new, answers, applied, words, False, cmi


# --------------------------------------------------------------------------------------------- recipes
QA_FIELDS = ("question", "context")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
MLQA_LANGS = ("ar", "de", "en", "es", "hi", "vi", "zh")
TYDIQA_LANGS = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")  # XTREME's TyDiQA-GoldP languages

_QA_COMMON = dict(task_type="extractive_qa", fields=QA_FIELDS, label_names=(), label_field="answers",
                  perturbable=("question",))

TASKS.register("xquad", TaskRecipe(
    name="xquad", languages=XQUAD_LANGS, **_QA_COMMON,
    hf_source={"id": "google/xquad", "config": "xquad.{lang}", "split": "validation"},
    description="XQuAD extractive QA (Artetxe et al. 2020): SQuAD v1.1 dev translated into 10 languages; "
                "SQuAD v1.1 EM/F1",
))

TASKS.register("mlqa", TaskRecipe(
    name="mlqa", languages=MLQA_LANGS, **_QA_COMMON,
    hf_source={"id": "facebook/mlqa", "config": "mlqa.{lang}.{lang}", "split": "test"},
    metric_variant="mlqa",
    description="MLQA extractive QA (Lewis et al. 2020), context and question in the same language; "
                "MLQA's language-aware EM/F1",
))

TASKS.register("tydiqa", TaskRecipe(
    name="tydiqa", languages=TYDIQA_LANGS, **_QA_COMMON,
    hf_source={"id": "google-research-datasets/tydiqa", "config": "secondary_task", "split": "validation"},
    hf_filter={"id": "{lang_name}-"},  # one multilingual config; ids start with the language name ("arabic-…")
    description="TyDiQA-GoldP extractive QA (Clark et al. 2020), gold passage; SQuAD v1.1 EM/F1",
))
