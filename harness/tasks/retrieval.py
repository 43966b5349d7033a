"""Sentence retrieval: Tatoeba (a sentence in language xx, its English translation); metric accuracy@1.

Each row is a gold pair, so an example's label is its own id. Within one cell (task, language, perturbation,
severity, seed) every source is compared with every target of that cell by the cosine similarity of
mean-pooled hidden states (pooled over all real tokens, <s> and </s> included, as XTREME's default);
accuracy@1 is counted source -> target (`accuracy_xx_en`, what XTREME reports) and target -> source
(`accuracy_en_xx`). The candidate pool is the cell's own targets, so values depend on the pool size:
`limit: 100` retrieves among 100 sentences, not XTREME's 1000. Ties (identical embeddings, e.g. duplicate
texts or all-zero vectors) go to the lowest index in data order, the same rule numpy's argmax applies;
correctness is by index (the retrieved row must be the gold row), as XTREME's evaluation compares indices.

Layer (`options: {pool_layer: k}`): k indexes `hidden_states` of the transformers model, so 0 is the
embedding output and k the output of transformer layer k (1-based). XTREME's `scripts/run_tatoeba.sh` passes
`--specific_layer 7` (12-layer models) or `13` (24-layer XLM-R large) to `third_party/evaluate_retrieval.py`,
which indexes the layer outputs *after* the embeddings; in our convention those are 8 and 14, the defaults
for 12- and 24-layer checkpoints. (The script also gives xlm-roberta-base the 24-layer setting, which does not
fit its 12 layers.) Other depths default to the middle layer, max(1, n_layers // 2).

LAReQA and Mewsli-X are not registered here: LAReQA retrieves answer sentences from one multilingual pool
in which each question has a correct answer in every language (scored by mAP@20), Mewsli-X links mentions
to entity descriptions in a pool of about a million English Wikipedia entities (mAP@20). Neither is a
row-paired accuracy@1 within one language's sentences, so this adapter would report a different task
under their names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..errors import ConfigError
from ..stats import ratio
from ..types import Variant
from .base import ADAPTERS, TASKS, ProgressFn, TaskAdapter, TaskRecipe, text_column

if TYPE_CHECKING:
    from ..predictor import Predictor

# language -> LASER/XTREME Tatoeba code, for the 36 languages the google/xtreme builder has (tatoeba.<code>)
TATOEBA_HF_CODES = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa", "et": "est",
    "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "id": "ind",
    "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz", "ko": "kor", "ml": "mal", "mr": "mar",
    "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh", "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl",
    "tr": "tur", "ur": "urd", "vi": "vie", "zh": "cmn",
}
# run_tatoeba.sh also evaluates these; google/xtreme has no config for them (bring the LASER files as `data:`)
TATOEBA_EXTRA = ("az", "lt", "pl", "ro", "uk")
TATOEBA_LANGS = tuple(sorted((*TATOEBA_HF_CODES, *TATOEBA_EXTRA)))
# hidden_states index XTREME pools for a model of this depth (its --specific_layer + 1, see the module doc)
XTREME_POOL_LAYER = {12: 8, 24: 14}

TASKS.register("tatoeba", TaskRecipe(
    name="tatoeba",
    task_type="retrieval",
    fields=("source", "target"),
    label_names=(),
    languages=TATOEBA_LANGS,
    hf_source={"id": "google/xtreme", "split": "validation"},
    hf_configs={lang: {"config": f"tatoeba.{code}"} for lang, code in TATOEBA_HF_CODES.items()},
    hf_missing=TATOEBA_EXTRA,
    perturbable=("source",),
    description="Tatoeba bitext retrieval (Artetxe & Schwenk 2019, LASER v1 as in XTREME): source = sentence in "
                "the language, target = its English translation; accuracy@1 among the cell's targets. JSONL "
                "fields source/target (google/xtreme: source_sentence/target_sentence, mapped automatically); "
                f"{' '.join(TATOEBA_EXTRA)} need `data:`",
))

HF_COLUMNS = {"source": "source_sentence", "target": "target_sentence"}  # google/xtreme's tatoeba.* columns


def default_pool_layer(n_layers: int) -> int:
    """The hidden_states index pooled when the suite does not set `pool_layer`.

    >>> default_pool_layer(24), default_pool_layer(12), default_pool_layer(6), default_pool_layer(1)
    (14, 8, 3, 1)
    """
    return XTREME_POOL_LAYER.get(n_layers, max(1, n_layers // 2))


def model_depth(predictor: "Predictor") -> int | None:
    """num_hidden_layers of the predictor's model config, or None when it does not say."""
    config = getattr(getattr(predictor, "model", None), "config", None)
    n = getattr(config, "num_hidden_layers", None)
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def pool_layer_option(options: Mapping[str, Any], n_layers: int | None, where: str) -> int:
    """The validated `pool_layer` option (default: default_pool_layer) for a model with `n_layers` layers."""
    if n_layers is None:
        raise ConfigError(f"{where}: cannot tell how many layers the checkpoint has (no num_hidden_layers in its "
                          "config), so the pooled layer cannot be checked")
    value = options.get("pool_layer")
    if value is None:
        return default_pool_layer(n_layers)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= n_layers:
        raise ConfigError(f"{where}.options.pool_layer: {value!r} is not a layer of this {n_layers}-layer checkpoint; "
                          f"use an integer 0..{n_layers} (0 = embedding output, k = output of layer k)")
    return value


class Retrieved(NamedTuple):
    """What one example retrieved: the id of the row whose target its source found, and vice versa."""

    target_id: str
    source_id: str


def nearest(table: np.ndarray, src: Sequence[int], tgt: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of unit-length `table` as sources and targets -> (nearest target position per source, nearest source
    position per target) by cosine; ties go to the lowest position.

    Similarities are computed between distinct rows only and then expanded, so texts with the same token ids get
    bit-identical scores and a tie really is a tie (a BLAS kernel may round one dot product differently by position).

    >>> t = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> [x.tolist() for x in nearest(t, [0, 0], [0, 0])]
    [[0, 0], [0, 0]]
    """
    if not len(src):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    su, s_inv = np.unique(np.asarray(src), return_inverse=True)
    tu, t_inv = np.unique(np.asarray(tgt), return_inverse=True)
    sim = (table[su] @ table[tu].T)[np.ix_(s_inv.reshape(-1), t_inv.reshape(-1))]
    return sim.argmax(axis=1), sim.argmax(axis=0)


@ADAPTERS.register("retrieval")
class RetrievalAdapter(TaskAdapter):
    """Mean-pooled sentence embeddings, cosine nearest neighbour within each cell, accuracy@1 both ways."""

    task_type = "retrieval"
    head = "encoder"
    metrics = ("accuracy_xx_en", "accuracy_en_xx")
    higher_is_better = {"accuracy_xx_en": True, "accuracy_en_xx": True}

    def __init__(self, recipe: TaskRecipe, predictor: "Predictor", options: Mapping[str, Any], where: str = "task"):
        if recipe.fields != ("source", "target"):
            raise ConfigError(f"{where}: retrieval recipes have the fields (source, target), {recipe.name} has "
                              f"{recipe.fields}")
        unknown = sorted(set(options) - {"pool_layer", "label_map", "protect_answers"})
        if unknown:
            raise ConfigError(f"{where}.options: unknown retrieval option(s) {unknown}; known: ['pool_layer']")
        if options.get("label_map"):
            raise ConfigError(f"{where}.label_map: retrieval has no label names (each row is its own gold pair)")
        if options.get("protect_answers"):
            raise ConfigError(f"{where}.protect_answers: only extractive QA has answer spans to protect")
        self.recipe = recipe
        self.where = where
        self.pool_layer = pool_layer_option(options, model_depth(predictor), where)

    @classmethod
    def parse_row(cls, recipe: TaskRecipe, row: Mapping[str, Any], columns: Mapping[str, str],
                  label_col: str, loc: str) -> tuple[dict[str, Any], Any]:
        """Source and target text (google/xtreme's source_sentence/target_sentence are recognised); no label:
        the gold target of a row is the row's own target, so the example id serves as label."""
        fields = {}
        for f in recipe.fields:
            col = columns.get(f, f)
            if f not in columns and col not in row and HF_COLUMNS[f] in row:
                col = HF_COLUMNS[f]
            fields[f] = text_column(row, col, f, recipe, loc)
        return fields, None

    def embed(self, predictor: "Predictor", texts: Sequence[str],
              progress: ProgressFn | None = None) -> tuple[np.ndarray, list[int]]:
        """Unit-length float64 embeddings, one row per distinct token sequence (one forward call), and each
        text's row; zero vectors stay zero."""
        if not texts:
            return np.zeros((0, 0)), []
        enc = predictor.tokenizer(list(texts), truncation=True, max_length=predictor.max_length)
        features = [tuple(x) for x in enc["input_ids"]]
        unique = list(dict.fromkeys(features))
        vecs = predictor.forward(unique, f"mean_hidden:{self.pool_layer}", progress)
        table = np.stack([np.asarray(v, dtype=np.float64).reshape(-1) for v in vecs])
        norms = np.linalg.norm(table, axis=1, keepdims=True)
        position = {f: i for i, f in enumerate(unique)}
        return table / np.where(norms > 0, norms, 1.0), [position[f] for f in features]

    def predict(self, predictor: "Predictor", groups: Sequence[Sequence[Variant]],
                progress: ProgressFn | None = None) -> list[list[Retrieved]]:
        """Embed every distinct text of every cell once, then retrieve within each cell."""
        texts = list(dict.fromkeys(v.fields[f] for g in groups for v in g for f in ("source", "target")))
        table, rows = self.embed(predictor, texts, progress)
        row = dict(zip(texts, rows))
        out = []
        for g in groups:
            ids = [v.example.id for v in g]
            s2t, t2s = nearest(table, [row[v.fields["source"]] for v in g], [row[v.fields["target"]] for v in g])
            out.append([Retrieved(ids[s2t[i]], ids[t2s[i]]) for i in range(len(g))])
        return out

    def example_stats(self, variants: Sequence[Variant], preds: Sequence[Retrieved]) -> np.ndarray:
        """[source -> target correct, target -> source correct, 1] per example."""
        rows = [[p.target_id == v.example.id, p.source_id == v.example.id, 1] for v, p in zip(variants, preds)]
        return np.array(rows, dtype=float).reshape(-1, 3)

    @classmethod
    def sums_metrics(cls, recipe: TaskRecipe, sums: np.ndarray) -> dict[str, np.ndarray]:
        return {"accuracy_xx_en": ratio(0, 2)(sums), "accuracy_en_xx": ratio(1, 2)(sums)}

    def record_fields(self, variant: Variant, pred: Retrieved) -> dict[str, Any]:
        ok = pred.target_id == variant.example.id
        return {"label": variant.example.id, "pred": pred.target_id, "score": float(ok), "correct": ok}
