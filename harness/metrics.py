"""Task metrics as pure functions, matching the official scorers XTREME uses (values are fractions in [0,1]).

Classification accuracy; token accuracy; entity precision/recall/F1 over chunks, either as seqeval >= 1.0 scores
them (IOB2, default mode) or as XTREME's `evaluate.py` does (seqeval 0.0.12's chunking, `chunking="xtreme"`);
SQuAD v1.1 exact match / F1 (XQuAD, TyDiQA-GoldP) and MLQA's language-aware variant (`mlqa_evaluation_v1.py`:
Unicode punctuation, per-language articles, mixed segmentation for zh).
"""
from __future__ import annotations

import functools
import re
import string
import sys
import unicodedata
import warnings
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from . import stats
from .errors import DataError

# Built on first use (0.4-0.8 s over every code point), not at import: most runs never score MLQA.
@functools.lru_cache(maxsize=1)
def mlqa_punct() -> frozenset[str]:
    """MLQA's punctuation: every Unicode P* character plus ASCII string.punctuation (which adds the ASCII
    symbols $+<=>^`| that Unicode files under S*)."""
    return frozenset({chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
                     | set(string.punctuation))


_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")
# MLQA's article patterns, verbatim in effect: Arabic drops every "ال" substring (its `\sال^` branch never
# matches), Hindi and Chinese have none.
MLQA_ARTICLES: dict[str, re.Pattern[str] | None] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "ar": re.compile(r"\sال^|ال"),
    "hi": None,
    "zh": None,
}
# Languages MLQA segments per CJK character; ja is our extension (MLQA has no Japanese).
MIXED_SEGMENTATION_LANGS = frozenset({"zh", "ja"})
_CJK = re.compile(r"[\u4e00-\u9fa5]")


def accuracy(labels: Sequence[str], preds: Sequence[str]) -> float:
    """Share of predictions equal to their label.

    >>> accuracy(["a", "b", "b"], ["a", "b", "a"])
    0.6666666666666666
    """
    _same_length(labels, preds, "labels", "predictions")
    if not labels:
        raise DataError("accuracy: no examples")
    # the runner's own implementation, so `xrobust score` and `xrobust run` cannot disagree
    return stats.accuracy(np.asarray(labels, dtype=object), np.asarray(preds, dtype=object))


def token_accuracy(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]) -> float:
    """Share of tokens, over all sentences, whose predicted tag equals the gold tag (POS accuracy).

    >>> token_accuracy([["NOUN", "VERB"], ["DET"]], [["NOUN", "NOUN"], ["DET"]])
    0.6666666666666666
    """
    _check_seqs(gold_seqs, pred_seqs)
    pairs = [(g, p) for gs, ps in zip(gold_seqs, pred_seqs) for g, p in zip(gs, ps)]
    if not pairs:
        raise DataError("token_accuracy: no tokens")
    return sum(g == p for g, p in pairs) / len(pairs)


ENTITY_CHUNKINGS = ("seqeval", "xtreme")


def entity_scores(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]],
                  chunking: str = "seqeval") -> dict[str, float]:
    """Micro precision, recall and F1 over entity chunks.

    `chunking="seqeval"`: seqeval >= 1.0 (our dependency), IOB2 default mode. `chunking="xtreme"`: the chunks and
    formulas of seqeval 0.0.12, which XTREME's `evaluate.py` ran when its expected scores were recorded (see
    `xtreme_chunks`). Both agree on well-formed `B-`/`I-` tags; they differ on tags without a prefix (UD-POS).

    >>> entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    {'precision': 0.0, 'recall': 0.0, 'f1': 0.0}
    >>> entity_scores([["CCONJ"]], [["SCONJ"]])["f1"], entity_scores([["CCONJ"]], [["SCONJ"]], "xtreme")["f1"]
    (1.0, 0.0)
    """
    _check_seqs(gold_seqs, pred_seqs)
    if chunking == "xtreme":
        return _xtreme_entity_scores(gold_seqs, pred_seqs)
    if chunking != "seqeval":
        raise ValueError(f"chunking must be one of {ENTITY_CHUNKINGS}, got {chunking!r}")
    from seqeval.metrics import f1_score, precision_score, recall_score

    y, p = [list(s) for s in gold_seqs], [list(s) for s in pred_seqs]
    with warnings.catch_warnings():  # bare tags (UD-POS) are chunks of their own
        warnings.filterwarnings("ignore", message=".*seems not to be NE tag", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*ill-defined")  # no entities: seqeval's documented 0.0
        return {"precision": float(precision_score(y, p)), "recall": float(recall_score(y, p)), "f1": float(f1_score(y, p))}


# seqeval 0.0.12's chunker reads the first character of a tag as its position letter and the text after the last
# "-" (the whole tag if it has none) as its chunk type. "NOUN" is letter "N", type "NOUN"; seqeval >= 1.0 takes
# the type of a bare tag to be the rest after its first character ("OUN"), so CCONJ and SCONJ share type "CONJ".
_CLOSE_AFTER = frozenset("ES")      # a chunk always ends after an E or S letter
_INSIDE = frozenset("BI")           # after B or I, a chunk ends when the next letter is one of _BREAK
_BREAK = frozenset("BSO")
_OPEN = frozenset("BS")             # B and S always start a chunk
_OPEN_IF = frozenset("EI")          # E and I start one when the previous letter is one of _OPEN_AFTER
_OPEN_AFTER = frozenset("ESO")
_NEUTRAL = frozenset("O.")          # letters for which a type change neither ends (as previous) nor starts (as current)


def _letter_and_type(tag: str) -> tuple[str, str]:
    if not tag:
        raise DataError("empty tag")
    return tag[0], tag.rsplit("-", 1)[-1]


def xtreme_chunks(seqs: Sequence[Sequence[str]]) -> list[tuple[str, int, int]]:
    """Chunks `(type, first, last)` as seqeval 0.0.12's `get_entities` finds them in a list of sentences.

    Positions count through all sentences with one "O" after each (so every sentence's chunks are closed by it,
    and a sentence of n tags advances the position by n + 1). Independently written from that version's rules:
    a chunk ends before the current tag when the previous letter is E or S, or is B/I followed by B, S or O, or
    when the type changes after a letter other than O and "."; a chunk starts at the current tag when its
    letter is B or S, or is E/I after E, S or O, or when the type changes to a letter other than O and ".".

    >>> xtreme_chunks([["NOUN", "NOUN", "SCONJ", "SCONJ", "VERB"], ["B-PER", "I-PER", "O", "X"]])
    [('NOUN', 0, 1), ('SCONJ', 2, 2), ('SCONJ', 3, 3), ('VERB', 4, 4), ('PER', 6, 7), ('X', 9, 9)]
    """
    stream = [t for sent in seqs for t in (*sent, "O")] + ["O"]
    chunks: list[tuple[str, int, int]] = []
    prev_letter, prev_type, begin = "O", "", 0
    for i, tag in enumerate(stream):
        letter, type_ = _letter_and_type(tag)
        changed = prev_type != type_
        if (prev_letter in _CLOSE_AFTER or (prev_letter in _INSIDE and letter in _BREAK)
                or (changed and prev_letter not in _NEUTRAL)):
            chunks.append((prev_type, begin, i - 1))
        if (letter in _OPEN or (letter in _OPEN_IF and prev_letter in _OPEN_AFTER)
                or (changed and letter not in _NEUTRAL)):
            begin = i
        prev_letter, prev_type = letter, type_
    return chunks


def _xtreme_entity_scores(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]) -> dict[str, float]:
    gold, pred = set(xtreme_chunks(gold_seqs)), set(xtreme_chunks(pred_seqs))
    correct = len(gold & pred)
    # seqeval 0.0.12's arithmetic: F1 = 2PR/(P+R) from the float P and R (not 2tp/(pred+gold)); 0 for 0/0
    precision = correct / len(pred) if pred else 0.0
    recall = correct / len(gold) if gold else 0.0
    f1_value = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1_value}


def entity_f1(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]],
              chunking: str = "seqeval") -> float:
    """Micro F1 over entity chunks (`entity_scores`; default: seqeval >= 1.0, IOB2, default mode).

    >>> entity_f1([["B-LOC", "O"], ["B-PER"]], [["B-LOC", "O"], ["O"]])
    0.6666666666666666
    """
    return entity_scores(gold_seqs, pred_seqs, chunking)["f1"]


def normalize_answer(text: str, lang: str | None = None) -> str:
    """SQuAD v1.1 normalisation when `lang` is None, else MLQA's for `lang` (lower, punctuation, articles, spaces).

    >>> normalize_answer("The Eiffel-Tower!")
    'eiffeltower'
    >>> normalize_answer("«الكتاب»", "ar")
    'كتاب'
    >>> normalize_answer("电化 battery。", "zh")
    '电 化 battery'
    """
    text = text.lower()
    if lang is None:
        text = "".join(ch for ch in text if ch not in _SQUAD_PUNCT)
        return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())
    punct = mlqa_punct()
    text = "".join(ch for ch in text if ch not in punct)
    articles = MLQA_ARTICLES.get(lang)
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = _mixed_segmentation(text) if lang in MIXED_SEGMENTATION_LANGS else text.split()
    return " ".join(t for t in tokens if t.strip())


def _mixed_segmentation(text: str) -> list[str]:
    """Each CJK character (or punctuation mark) a token; runs of anything else split on whitespace."""
    out: list[str] = []
    run = ""
    for ch in text:
        if _CJK.match(ch) or ch in mlqa_punct():
            out.extend(run.split())
            run = ""
            out.append(ch)
        else:
            run += ch
    out.extend(run.split())
    return out


def exact_match(prediction: str, golds: Sequence[str], lang: str | None = None) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0.

    >>> exact_match("the Eiffel Tower", ["Eiffel Tower", "Paris"])
    1.0
    """
    return _max_over(golds, lambda g: float(normalize_answer(prediction, lang) == normalize_answer(g, lang)))


def f1(prediction: str, golds: Sequence[str], lang: str | None = None) -> float:
    """Bag-of-tokens F1 of the normalised prediction, maximised over the gold answers.

    >>> f1("Eiffel Tower in Paris", ["the Eiffel Tower"])
    0.6666666666666666
    """
    return _max_over(golds, lambda g: _token_f1(normalize_answer(prediction, lang).split(),
                                                normalize_answer(g, lang).split()))


def _token_f1(pred: list[str], gold: list[str]) -> float:
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def _max_over(golds: Sequence[str], fn: Callable[[str], float]) -> float:
    if isinstance(golds, str) or not golds:
        raise DataError(f"expected a non-empty list of gold answers, got {golds!r}")
    return max(fn(g) for g in golds)


def qa_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]], lang: str | None = None) -> dict[str, float]:
    """Mean exact match and F1 over questions (`lang` None: SQuAD v1.1; else MLQA's normalisation).

    >>> qa_scores(["Paris", "a dog"], [["Paris"], ["the cat"]])
    {'exact_match': 0.5, 'f1': 0.5}
    """
    _same_length(golds, predictions, "questions", "predictions")
    if not golds:
        raise DataError("qa_scores: no questions")
    n = len(golds)
    return {"exact_match": sum(exact_match(p, g, lang) for p, g in zip(predictions, golds)) / n,
            "f1": sum(f1(p, g, lang) for p, g in zip(predictions, golds)) / n}


def _ranking(retrieved: object) -> Sequence:
    # one retrieved id (a string or an integer) is a ranking of length one
    return [retrieved] if isinstance(retrieved, (str, int)) else retrieved  # type: ignore[return-value]


def retrieval_accuracy(gold: Sequence, retrieved: Sequence, k: int = 1) -> float:
    """Share of queries whose gold id is among the first `k` retrieved ids (k=1: Tatoeba's accuracy, P@1).

    `retrieved[i]` is query i's ranking (best first) or just its top id. Ids are compared as given (XTREME's
    evaluate.py compares Tatoeba's indices as strings, so "07" is not "7").

    >>> retrieval_accuracy(["3", "0", "7"], ["3", "1", "7"])
    0.6666666666666666
    >>> retrieval_accuracy(["3", "0"], [["3", "5"], ["1", "0"]], k=2)
    1.0
    """
    _same_length(gold, retrieved, "queries", "rankings")
    if not gold:
        raise DataError("retrieval_accuracy: no queries")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    hits = sum(g in _ranking(r)[:k] for g, r in zip(gold, retrieved))
    return hits / len(gold)


def average_precision_at_k(relevant: object, ranking: Sequence, k: int) -> float:
    """Average precision of one ranking over its first `k` entries: the mean, over the relevant ids, of the
    precision at the rank where each is first retrieved (0 for one not in the top k), normalised by
    min(#relevant, k) so that a perfect top k scores 1. With one relevant id it is 1/rank (0 past rank k), the
    reciprocal rank Mewsli-X reports as MAP@k.

    >>> average_precision_at_k("Q7", ["Q1", "Q2", "Q7"], k=20)
    0.3333333333333333
    >>> average_precision_at_k({"a", "b"}, ["a", "x", "b", "a"], k=3)  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    gold = {relevant} if isinstance(relevant, (str, int)) else set(relevant)  # type: ignore[arg-type]
    if not gold:
        raise DataError("average_precision_at_k: no relevant ids")
    found: set = set()
    total = 0.0
    for rank, item in enumerate(_ranking(ranking)[:k], 1):
        if item in gold and item not in found:  # a repeated relevant id counts once, where first retrieved
            found.add(item)
            total += len(found) / rank
    return total / min(len(gold), k)


def mean_average_precision_at_k(relevant: Sequence, rankings: Sequence, k: int = 20) -> float:
    """MAP@k: the mean over queries of `average_precision_at_k`. `relevant[i]` is query i's relevant id (or a
    collection of them), `rankings[i]` its retrieved ids, best first. Mewsli-X (XTREME-R) reports MAP@20 with one
    gold entity per mention, i.e. the mean reciprocal rank within the top 20.

    >>> mean_average_precision_at_k(["Q1", "Q2"], [["Q1", "Q9"], ["Q9", "Q8", "Q7", "Q2"]], k=20)  # (1 + 1/4) / 2
    0.625
    """
    _same_length(relevant, rankings, "queries", "rankings")
    if not relevant:
        raise DataError("mean_average_precision_at_k: no queries")
    return sum(average_precision_at_k(g, r, k) for g, r in zip(relevant, rankings)) / len(relevant)


def pair_scores(gold_pairs: Sequence[tuple], predicted_pairs: Sequence[tuple]) -> dict[str, float]:
    """Precision, recall and F1 of a set of predicted pairs against the gold pairs (BUCC 2018 bitext mining:
    (source sentence id, target sentence id); duplicates count once and a pair's order matters).

    XTREME's arithmetic: P = correct/#predicted, R = correct/#gold, F1 = 2PR/(P+R) from the float P and R; all
    three 0 when no predicted pair is gold (no prediction at all included).

    >>> pair_scores([("de-1", "en-1"), ("de-2", "en-2")], [("de-1", "en-1"), ("de-2", "en-3"), ("de-3", "en-3")])
    {'precision': 0.3333333333333333, 'recall': 0.5, 'f1': 0.4}
    """
    gold, pred = {tuple(p) for p in gold_pairs}, {tuple(p) for p in predicted_pairs}
    if not gold:
        raise DataError("pair_scores: no gold pairs")
    correct = len(gold & pred)
    if not correct:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    precision, recall = correct / len(pred), correct / len(gold)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


def _same_length(a: Sequence, b: Sequence, what_a: str, what_b: str) -> None:
    if len(a) != len(b):
        raise DataError(f"{len(a)} {what_a} but {len(b)} {what_b}")


def _check_seqs(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]) -> None:
    _same_length(gold_seqs, pred_seqs, "gold sentences", "predicted sentences")
    for i, (g, p) in enumerate(zip(gold_seqs, pred_seqs)):
        if len(g) != len(p):
            raise DataError(f"sentence {i + 1}: {len(g)} gold tags but {len(p)} predicted tags")
