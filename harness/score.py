"""Score predictions made elsewhere: XTREME's submission formats or our JSONL, through `harness.metrics`.

| task | predictions / references |
|---|---|
| xnli, pawsx, xcopa | `.tsv`/`.txt`: one label per line; `.jsonl`: rows `{"id", "pred"}` / `{"id", "label"}` |
| panx, udpos | `.tsv`: one tag per line (or `token<TAB>tag`), a blank line between sentences; `.jsonl`: `{"id", "tags"}` |
| xquad, mlqa, tydiqa | `.json`: `{question id: answer}` / SQuAD v1.1 dataset; `.jsonl`: `{"id", "pred"}` / `{"id", "answers"}` |
| bucc2018 | `.tsv`: one `source id<TAB>target id` pair per line, both files (blank lines skipped) |
| tatoeba | `.tsv`: one retrieved / gold target index per line; `.jsonl`: `{"id", "pred"}` / `{"id", "label"}` |
| mewslix | `.json`: `{mention id: [entity ids, best first]}` / `{mention id: [gold entity id]}` |

Values are fractions in [0,1] (XTREME prints them ×100). On XTREME's mock_test_data every value equals the one
google-research/xtreme's `evaluate.py` gives ×1/100 (tests/test_score.py; `benchmarks/xtreme_parity.py`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import metrics
from .errors import ConfigError, DataError

CLASSIFICATION_TASKS = ("xnli", "pawsx", "xcopa")
TAGGING_TASKS = ("panx", "udpos")
QA_TASKS = ("xquad", "mlqa", "tydiqa")
RETRIEVAL_TASKS = ("bucc2018", "tatoeba", "mewslix")
TASKS = CLASSIFICATION_TASKS + TAGGING_TASKS + QA_TASKS + RETRIEVAL_TASKS
# Mewsli-X (XTREME-R) scores the top MEWSLIX_K retrieved entities of each mention
MEWSLIX_K = 20
_PRED_KEYS = ("pred", "prediction", "label", "tags", "answer")
_REF_KEYS = ("label", "tags", "answers")


def score_files(task: str, lang: str, predictions: Path | str, references: Path | str) -> dict[str, float]:
    """Metrics of the predictions file against the references file for `task` in `lang`.

    Classification: accuracy. PAN-X and UD-POS: precision, recall, f1 over chunks as XTREME's `evaluate.py`
    computes them (seqeval 0.0.12's chunking, `metrics.entity_scores(..., chunking="xtreme")`; for UD-POS the
    chunks are runs of one bare POS tag, SCONJ and SYM one token each), and accuracy over all tokens.
    QA: exact_match and f1 (SQuAD v1.1 normalisation; MLQA's language-aware one for mlqa).
    BUCC 2018: precision, recall, f1 of the set of predicted sentence pairs against the gold pairs.
    Tatoeba: accuracy, the share of source sentences whose retrieved index is the gold one.
    Mewsli-X: map@20, mean average precision of each mention's top 20 entities (one gold entity: 1/rank).
    """
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; scorable tasks: {', '.join(TASKS)}")
    pred_path, ref_path = Path(predictions), Path(references)
    if task in CLASSIFICATION_TASKS:
        preds, labels = _paired(read_labels(pred_path), read_labels(ref_path), pred_path, ref_path)
        return {"accuracy": metrics.accuracy(labels, preds)}
    if task in TAGGING_TASKS:
        pseqs, gseqs = _paired(read_tags(pred_path), read_tags(ref_path), pred_path, ref_path)
        _check_tokens(pseqs, gseqs, pred_path, ref_path)
        scores = metrics.entity_scores(gseqs, pseqs, chunking="xtreme")
        scores["accuracy"] = metrics.token_accuracy(gseqs, pseqs)
        return scores
    if task == "bucc2018":
        gold_pairs = [v for _, _, v in read_pairs(ref_path)]
        if not gold_pairs:
            raise DataError(f"{ref_path}: no gold pairs")
        return metrics.pair_scores(gold_pairs, [v for _, _, v in read_pairs(pred_path)])
    if task == "tatoeba":
        preds, labels = _paired(read_labels(pred_path), read_labels(ref_path), pred_path, ref_path)
        return {"accuracy": metrics.retrieval_accuracy(labels, preds)}
    if task == "mewslix":
        rankings, entities = read_rankings(pred_path), read_entity_references(ref_path)
        _check_ids(rankings, entities, pred_path, ref_path, "mention")
        ids = list(entities)
        return {f"map@{MEWSLIX_K}": metrics.mean_average_precision_at_k(
            [entities[i] for i in ids], [rankings[i] for i in ids], k=MEWSLIX_K)}
    answers = read_qa_predictions(pred_path)
    golds = read_qa_references(ref_path)
    _check_ids(answers, golds, pred_path, ref_path, "question")
    qids = list(golds)
    return metrics.qa_scores([answers[q] for q in qids], [golds[q] for q in qids], lang if task == "mlqa" else None)


def _check_ids(preds: dict, golds: dict, pred_path: Path, ref_path: Path, what: str) -> None:
    """Every reference id has a prediction and every prediction a reference id."""
    missing = [k for k in golds if k not in preds]
    extra = [k for k in preds if k not in golds]
    if missing or extra:
        raise DataError(f"{pred_path}: {len(missing)} {what}(s) of {ref_path} without a prediction "
                        f"{missing[:3]} and {len(extra)} prediction(s) for unknown {what}s {extra[:3]}")


# A record: (location "file:line", key or None, value). Keys come from JSONL ids; plain files have none.
Record = tuple[str, Any, Any]


def _paired(preds: list[Record], refs: list[Record], pred_path: Path, ref_path: Path) -> tuple[list, list]:
    """Predictions and references in reference order: by id when both carry ids, else by position."""
    if preds and refs and preds[0][1] is not None and refs[0][1] is not None:
        by_id = {k: v for _, k, v in preds}
        missing = [k for _, k, _ in refs if k not in by_id]
        if missing or len(by_id) != len(refs):
            raise DataError(f"{pred_path}: ids do not match {ref_path} ({len(missing)} reference id(s) "
                            f"without a prediction, e.g. {missing[:3]}; {len(by_id)} predictions, {len(refs)} references)")
        return [by_id[k] for _, k, _ in refs], [v for _, _, v in refs]
    if len(preds) != len(refs):
        short, where = (pred_path, preds[-1][0] if preds else f"{pred_path}:1") if len(preds) < len(refs) \
            else (ref_path, refs[-1][0] if refs else f"{ref_path}:1")
        raise DataError(f"{where}: {short} ends after {min(len(preds), len(refs))} item(s); "
                        f"{pred_path} has {len(preds)}, {ref_path} has {len(refs)}")
    return [v for _, _, v in preds], [v for _, _, v in refs]


def _check_tokens(pseqs: list[list[str]], gseqs: list[list[str]], pred_path: Path, ref_path: Path) -> None:
    for i, (p, g) in enumerate(zip(pseqs, gseqs), 1):
        if len(p) != len(g):
            raise DataError(f"{pred_path}: sentence {i} has {len(p)} tags but {ref_path} has {len(g)}")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc})") from None


def _jsonl(path: Path, keys: tuple[str, ...]) -> list[Record]:
    out: list[Record] = []
    seen: dict[str, str] = {}
    from .data import jsonl_rows

    for loc, _, row in jsonl_rows(path):
        if row.get("id") in (None, ""):
            raise DataError(f"{loc}: expected a JSON object with an `id`")
        key = next((k for k in keys if k in row), None)
        if key is None:
            raise DataError(f"{loc}: no value field; expected one of {list(keys)}")
        rid = str(row["id"])
        if rid in seen:
            raise DataError(f"{loc}: duplicate id {rid!r} (first at {seen[rid]})")
        seen[rid] = loc
        out.append((loc, rid, row[key]))
    return out


def read_labels(path: Path) -> list[Record]:
    """One label per line (XTREME; a trailing empty line is ignored), or JSONL rows with `id` and a label."""
    if path.suffix == ".jsonl":
        recs = _jsonl(path, _PRED_KEYS + _REF_KEYS)
        for loc, _, v in recs:
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise DataError(f"{loc}: expected a label (string or integer), got {v!r}")
        return [(loc, k, str(v)) for loc, k, v in recs]
    lines = _lines(path)
    out: list[Record] = []
    for lineno, line in enumerate(lines, 1):
        label = line.strip()
        if not label:
            raise DataError(f"{path}:{lineno}: empty line; expected one label per line")
        out.append((f"{path}:{lineno}", None, label))
    return out


def read_tags(path: Path) -> list[Record]:
    """Sentences of tags: blank-line-separated blocks of `tag` or `token<TAB>tag` lines, or JSONL `tags` lists."""
    if path.suffix == ".jsonl":
        recs = _jsonl(path, ("tags", "pred", "prediction", "labels"))
        for loc, _, v in recs:
            if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
                raise DataError(f"{loc}: expected a list of tag strings, got {v!r}")
        return recs
    out: list[Record] = []
    block: list[str] = []
    start = 1
    for lineno, line in enumerate(_lines(path), 1):
        line = line.strip()
        if not line:
            if block:
                out.append((f"{path}:{start}", None, block))
            block, start = [], lineno + 1
            continue
        if not block:
            start = lineno
        block.append(line.split("\t")[-1].strip())
    if block:
        out.append((f"{path}:{start}", None, block))
    if not out:
        raise DataError(f"{path}: no tags")
    return out


def _load_json(path: Path) -> Any:
    text = "\n".join(_lines(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None


def read_qa_predictions(path: Path) -> dict[str, str]:
    """`{question id: answer text}` (SQuAD/XTREME) or JSONL rows `{"id", "pred"}`."""
    if path.suffix == ".jsonl":
        items = [(loc, k, v) for loc, k, v in _jsonl(path, _PRED_KEYS)]
    else:
        data = _load_json(path)
        if not isinstance(data, dict):
            raise DataError(f"{path}: expected a JSON object {{question id: answer}}, got {type(data).__name__}")
        items = [(f"{path}: question {k!r}", k, v) for k, v in data.items()]
    out: dict[str, str] = {}
    for loc, k, v in items:
        if not isinstance(v, str):
            raise DataError(f"{loc}: expected an answer string, got {v!r}")
        out[str(k)] = v
    return out


def read_qa_references(path: Path) -> dict[str, list[str]]:
    """Question id -> gold answer texts, from a SQuAD v1.1 dataset JSON or JSONL rows `{"id", "answers"}`."""
    if path.suffix == ".jsonl":
        return {k: _answer_texts(v, loc) for loc, k, v in _jsonl(path, ("answers",))}
    data = _load_json(path)
    articles = data.get("data") if isinstance(data, dict) else data
    if not isinstance(articles, list):
        raise DataError(f"{path}: expected a SQuAD dataset ({{\"data\": [articles]}})")
    out: dict[str, list[str]] = {}
    for a, article in enumerate(articles):
        for p, para in enumerate(_get_list(article, "paragraphs", f"{path}: data[{a}]")):
            for q, qa in enumerate(_get_list(para, "qas", f"{path}: data[{a}].paragraphs[{p}]")):
                loc = f"{path}: data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa, dict) or "id" not in qa:
                    raise DataError(f"{loc}: question without an `id`")
                qid = str(qa["id"])
                if qid in out:
                    raise DataError(f"{loc}: duplicate question id {qid!r}")
                out[qid] = _answer_texts(qa.get("answers"), loc)
    if not out:
        raise DataError(f"{path}: no questions")
    return out


def read_pairs(path: Path) -> list[Record]:
    """BUCC 2018: one `source id<TAB>target id` pair per line (line stripped as XTREME's evaluate.py does; blank
    lines skipped, which evaluate.py would count as an empty "pair"). May be empty (no pair mined)."""
    out: list[Record] = []
    for lineno, line in enumerate(_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not all(fields):
            raise DataError(f"{path}:{lineno}: expected `source id<TAB>target id`, got {line!r}")
        out.append((f"{path}:{lineno}", None, (fields[0], fields[1])))
    return out


def _json_object(path: Path, what: str) -> dict:
    data = _load_json(path)
    if not isinstance(data, dict) or not data:
        raise DataError(f"{path}: expected a non-empty JSON object {{{what}}}")
    return data


def read_rankings(path: Path) -> dict[str, list[str]]:
    """Mewsli-X predictions: `{mention id: [entity ids, best first]}` (only the first 20 are scored)."""
    out: dict[str, list[str]] = {}
    for key, ranking in _json_object(path, "mention id: [entity ids]").items():
        if not isinstance(ranking, list) or not all(isinstance(e, str) for e in ranking):
            raise DataError(f"{path}: mention {key!r}: expected a list of entity id strings, got {ranking!r}")
        out[key] = ranking
    return out


def read_entity_references(path: Path) -> dict[str, str]:
    """Mewsli-X gold: `{mention id: [gold entity id]}`, a one-element list (stripped, as evaluate.py does)."""
    out: dict[str, str] = {}
    for key, gold in _json_object(path, "mention id: [gold entity id]").items():
        if not isinstance(gold, list) or len(gold) != 1 or not isinstance(gold[0], str) or not gold[0].strip():
            raise DataError(f"{path}: mention {key!r}: expected a one-element list [gold entity id], got {gold!r}")
        out[key] = gold[0].strip()
    return out


def _get_list(obj: Any, key: str, loc: str) -> list:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, list):
        raise DataError(f"{loc}: expected a list `{key}`")
    return value


def _answer_texts(answers: Any, loc: str) -> list[str]:
    if not isinstance(answers, list) or not answers:
        raise DataError(f"{loc}: expected a non-empty list of gold answers")
    texts = [a.get("text") if isinstance(a, dict) else a for a in answers]
    if not all(isinstance(t, str) for t in texts):
        raise DataError(f"{loc}: gold answers must be strings or objects with a `text` string")
    return texts
