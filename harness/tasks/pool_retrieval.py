"""Pool retrieval: queries ranked against one fixed candidate pool (LAReQA, Mewsli-X); metrics mAP@20, accuracy@1.

An example is a query (field `query`) whose label is the tuple of its relevant candidate ids (JSONL column
`relevant`: a list of ids, or one id). The pool is a separate JSONL file named by the task's
`options: {candidates: PATH}`, one row per candidate: `{"id": "c1", "text": "…", "lang": "en"}` (`lang` optional,
default `en`; it is the language the perturbation is told when candidates are perturbed). PATH is absolute or
relative to the suite file's folder, like the paths of `data:` (`path_options`: the suite resolves it before the
adapter sees it).

Every query of every cell and every candidate text is embedded in one deduplicated forward pass: the mean-pooled
hidden states of layer `pool_layer` (the same convention and default as Tatoeba, harness/tasks/retrieval.py).
Candidates are ranked by cosine similarity, ties by pool order; a query's average precision at 20 is
harness.metrics.average_precision_at_k (the code behind `xrobust score --task mewslix`, equal to XTREME's
evaluate.py), so map@20 here is the mean over queries of the same numbers; accuracy@1 says the top candidate is
relevant. A relevant id missing from the pool is a DataError, not a silent zero.

Which side is perturbed: `perturb_queries` (default true; the fields of `perturb_fields`, i.e. `query`) and
`perturb_candidates` (default false; every candidate text of the pool with the cell's perturbation, one RNG per
candidate id), so query side, target side or both. When candidates are perturbed, a query's `applied`,
`edit_rate` and `words_edited` also count the edits to its relevant candidates (the targets it must find); its
`perturbed_fields` and token diagnostics stay about the query. Perturbing a pool of a million entities means
embedding a million new texts per cell.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DataError
from ..metrics import average_precision_at_k
from ..rng import derive_rng
from ..stats import ratio
from ..text import grapheme_edit_rate, nfc
from ..types import Cell, Example, Variant
from .base import ADAPTERS, TASKS, ProgressFn, TaskAdapter, TaskRecipe, as_json, perturb_text_fields, text_column
from .retrieval import RetrievalAdapter, model_depth, pool_layer_option

if TYPE_CHECKING:
    from ..perturbation import Perturbation
    from ..predictor import Predictor

MAP_K = 20  # XTREME-R scores the top 20 of each ranking (mAP@20)
SHOWN_K = 5  # candidates per query written to records (`pred`)
POOL = "candidate_pool"  # Variant field holding the cell's perturbed candidate texts (absent: the clean pool)
OPTIONS = ("candidates", "perturb_candidates", "perturb_queries", "pool_layer")

LAREQA_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
MEWSLIX_LANGS = ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk")
_FORMAT = ("JSONL queries {id, query, relevant: [candidate ids]} per language (`data:`), and the pool as "
           "`options: {candidates: PATH}` with rows {id, text, lang}")

TASKS.register("lareqa", TaskRecipe(
    name="lareqa",
    task_type="pool_retrieval",
    fields=("query",),
    label_names=(),
    languages=LAREQA_LANGS,
    label_field="relevant",
    description="LAReQA on XQuAD-R (Roy et al. 2020): a question retrieves its answer sentence from one pool of the "
                "answer sentences of all 11 languages; relevant = that answer's sentence in every language; map@20. "
                "No default source: google-research-datasets/xquad_r on the hub is SQuAD-style, without the "
                f"sentence breaks that make the pool; bring {_FORMAT}",
))
TASKS.register("mewslix", TaskRecipe(
    name="mewslix",
    task_type="pool_retrieval",
    fields=("query",),
    label_names=(),
    languages=MEWSLIX_LANGS,
    label_field="relevant",
    description="Mewsli-X (XTREME-R): an entity mention in context retrieves its entity from a pool of English "
                "Wikipedia entity descriptions; relevant = the one gold entity id; map@20. Not on the hub (built "
                f"with google-research/google-research's mewsli_x scripts); bring {_FORMAT}",
))


def relevant_ids(row: Mapping[str, Any], col: str, loc: str) -> tuple[str, ...]:
    """The relevant candidate ids of one query row (a non-empty list of ids, or one id), as text."""
    value = row.get(col)
    items = [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value
    if not isinstance(items, list) or not items or not all(
            isinstance(x, (str, int)) and not isinstance(x, bool) and str(x) != "" for x in items):
        raise DataError(f"{loc}: column {col!r} must hold the relevant candidate id(s): a non-empty list of ids or "
                        f"one id, got {value!r}; columns: {sorted(row)}")
    return tuple(dict.fromkeys(str(x) for x in items))


def load_candidates(path: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(ids, NFC texts, languages) of a candidate pool JSONL file; DataError with file:line on a bad row."""
    ids: list[str] = []
    texts: list[str] = []
    langs: list[str] = []
    first: dict[str, int] = {}
    from ..data import jsonl_rows  # harness.data imports the task registry: import on use

    for loc, lineno, row in jsonl_rows(path):
        cid, text, lang = row.get("id"), row.get("text"), row.get("lang", "en")
        if isinstance(cid, bool) or not isinstance(cid, (str, int)) or str(cid) == "":
            raise DataError(f"{loc}: candidate `id` must be a non-empty string or integer, got {cid!r}")
        if not isinstance(text, str):
            raise DataError(f"{loc}: candidate `text` must be a string, got {text!r}")
        if not isinstance(lang, str) or not lang:
            raise DataError(f"{loc}: candidate `lang` must be a language code, got {lang!r}")
        if str(cid) in first:
            raise DataError(f"{loc}: duplicate candidate id {str(cid)!r} (first on line {first[str(cid)]})")
        first[str(cid)] = lineno
        ids.append(str(cid))
        texts.append(nfc(text))
        langs.append(lang)
    if not ids:
        raise DataError(f"{path}: no candidates")
    return tuple(ids), tuple(texts), tuple(langs)


def top_k(table: np.ndarray, queries: Sequence[int], candidates: Sequence[int], k: int) -> list[list[int]]:
    """Rows of unit-length `table` as queries and candidates -> each query's best `k` candidate positions by
    cosine, ties to the lower position. Scores are computed between distinct rows and then expanded, so candidates
    with the same token ids score bit-identically; queries are taken in chunks to bound memory.

    >>> t = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> top_k(t, [0, 1], [1, 2, 0, 0], k=3)
    [[2, 3, 1], [0, 1, 2]]
    """
    qu, q_inv = np.unique(np.asarray(queries, dtype=int), return_inverse=True)
    cu, c_inv = np.unique(np.asarray(candidates, dtype=int), return_inverse=True)
    n = len(c_inv)
    k = min(k, n)
    step = max(1, 2 ** 24 // max(1, n))
    best: list[list[int]] = []
    for start in range(0, len(qu), step):
        sim = (table[qu[start:start + step]] @ table[cu].T)[:, c_inv.reshape(-1)]
        kth = np.partition(sim, n - k, axis=1)[:, n - k]  # the k-th largest score of each row
        for row, threshold in zip(sim, kth):
            pos = np.flatnonzero(row >= threshold)
            best.append(pos[np.lexsort((pos, -row[pos]))][:k].tolist())
    return [best[i] for i in q_inv.reshape(-1)]


@ADAPTERS.register("pool_retrieval")
class PoolRetrievalAdapter(TaskAdapter):
    """Queries ranked against a fixed candidate pool by cosine of mean-pooled embeddings; map@20 and accuracy@1."""

    task_type = "pool_retrieval"
    head = "encoder"
    path_options = ("candidates",)
    metrics = (f"map@{MAP_K}", "accuracy@1")
    higher_is_better = {f"map@{MAP_K}": True, "accuracy@1": True}

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        unknown = sorted(set(options) - {*OPTIONS, "label_map", "protect_answers"})
        if unknown:
            raise ConfigError(f"{where}.options: unknown pool retrieval option(s) {unknown}; known: {list(OPTIONS)}")
        if options.get("label_map"):
            raise ConfigError(f"{where}.label_map: pool retrieval has no label names (labels are candidate ids)")
        if options.get("protect_answers"):
            raise ConfigError(f"{where}.protect_answers: only extractive QA has answer spans to protect")
        for name, default in (("perturb_queries", True), ("perturb_candidates", False)):
            if not isinstance(options.get(name, default), bool):
                raise ConfigError(f"{where}.options.{name}: expected true or false, got {options[name]!r}")
        self.perturb_queries = bool(options.get("perturb_queries", True))
        self.perturb_candidates = bool(options.get("perturb_candidates", False))
        if not (self.perturb_queries or self.perturb_candidates):
            raise ConfigError(f"{where}.options: perturb_queries and perturb_candidates are both false, so every "
                              "perturbed cell would equal the clean one")
        self.recipe = recipe
        self.where = where
        self.pool_layer = pool_layer_option(options, model_depth(predictor), where)
        self.ids, self.texts, self.langs = load_candidates(candidates_path(options.get("candidates"), where))
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        # (perturbation, severity, seed) -> the cell's candidate texts and words edited per candidate
        self._pools: dict[tuple[str, float, int], tuple[tuple[str, ...], dict[str, int]]] = {}

    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], Any]:
        """The query text and the tuple of relevant candidate ids."""
        fields = {f: text_column(row, columns.get(f, f), f, recipe, loc) for f in recipe.fields}
        return fields, relevant_ids(row, label_col, loc)

    # --- perturbation -------------------------------------------------------------------------------------
    def perturb(self, example: Example, pert: "Perturbation", cell: Cell, fields: tuple[str, ...]) -> Variant:
        """The query perturbed (unless perturb_queries is false) and, with perturb_candidates, the cell's pool."""
        v = perturb_text_fields(example, pert, cell, fields if self.perturb_queries else ())
        if not self.perturb_candidates:
            return v
        texts, edited = self._pool(pert, cell)
        rel = [self.position[c] for c in example.label if c in self.position]
        words = sum(edited.get(self.ids[i], 0) for i in rel)
        applied = v.applied or words > 0 or any(texts[i] != self.texts[i] for i in rel)
        before = [example.fields[f] for f in fields if self.perturb_queries] + [self.texts[i] for i in rel]
        after = [v.fields[f] for f in fields if self.perturb_queries] + [texts[i] for i in rel]
        rate = grapheme_edit_rate("\n".join(before), "\n".join(after)) if applied else 0.0
        return Variant(example, {**v.fields, POOL: texts}, applied, rate, v.n_edited + words, v.cmi)

    def _pool(self, pert: "Perturbation", cell: Cell) -> tuple[tuple[str, ...], dict[str, int]]:
        """Every candidate perturbed with its own RNG (keyed by candidate id), once per (perturbation, severity,
        seed): the pool is shared by all languages of the task."""
        key = (cell.perturbation, cell.severity, cell.seed)
        if key not in self._pools:
            texts, edited = [], {}
            for cid, text, lang in zip(self.ids, self.texts, self.langs):
                res = pert.perturb(text, cell.severity, derive_rng(cell.seed, pert.id, cell.severity, "candidate", cid),
                                   lang)
                texts.append(res.text if res.applied else text)
                if res.applied:
                    edited[cid] = res.n_edited
            self._pools[key] = (tuple(texts), edited)
        return self._pools[key]

    # --- prediction and scoring ---------------------------------------------------------------------------
    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[tuple[str, ...]]]:
        """Each variant's top-20 candidate ids; every query and candidate text of every cell embedded once."""
        for g in groups:
            for v in g:
                missing = [c for c in v.example.label if c not in self.position]
                if missing:
                    raise DataError(f"{self.where}: query {v.example.id!r} ({v.example.lang}): relevant id(s) "
                                    f"{missing} are not in the candidate pool ({len(self.ids)} candidates)")
        pools = [g[0].fields.get(POOL, self.texts) if g else self.texts for g in groups]
        texts = list(dict.fromkeys([*(v.fields["query"] for g in groups for v in g), *(t for p in pools for t in p)]))
        # the Tatoeba adapter's embedding (its only state is pool_layer), so both task types pool identically
        table, rows = RetrievalAdapter.embed(self, predictor, texts, progress)  # type: ignore[arg-type]
        row = dict(zip(texts, rows))
        out = []
        for g, pool in zip(groups, pools):
            ranked = top_k(table, [row[v.fields["query"]] for v in g], [row[t] for t in pool], MAP_K) if g else []
            out.append([tuple(self.ids[i] for i in r) for r in ranked])
        return out

    def example_stats(self, variants: Sequence[Variant], preds: Sequence[tuple[str, ...]]) -> np.ndarray:
        """[average precision at 20, top-1 relevant, 1] per query."""
        rows = [[average_precision_at_k(v.gold, p, MAP_K), bool(p) and p[0] in v.gold, 1]
                for v, p in zip(variants, preds)]
        return np.array(rows, dtype=float).reshape(-1, 3)

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        return {f"map@{MAP_K}": ratio(0, 2)(sums), "accuracy@1": ratio(1, 2)(sums)}

    def record_fields(self, variant: Variant, pred: tuple[str, ...]) -> dict[str, Any]:
        top1 = bool(pred) and pred[0] in variant.gold
        return {"label": as_json(list(variant.gold)), "pred": as_json(list(pred[:SHOWN_K])),
                "score": average_precision_at_k(variant.gold, pred, MAP_K), "correct": top1}


def candidates_path(value: Any, where: str) -> Path:
    """The existing candidate file named by `options.candidates` (already resolved against the suite's folder by
    `TaskSpec.adapter_options`; a relative path left here is taken from the working directory)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.options.candidates: give the candidate pool file (JSONL rows {{id, text, lang}}), "
                          f"an absolute path or one relative to the suite file; got {value!r}")
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{where}.options.candidates: {str(path)!r} is not a file")
    return path
