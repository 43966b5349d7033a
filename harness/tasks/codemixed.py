"""Code-mixed classification recipes (SentiMix, DravidianCodeMix, GLUECoS NLI) and the code-mixing index
each example carries.

Every recipe computes, at load time, the example's code-mixing index (CMI, Gambäck & Das 2014) from the
row's per-token language tags (`lang_ids`) into `meta["cmi"]`, which the runner writes to the records'
`cmi` column; rows without tags get NaN (a CMI is never guessed from the text). The records' `lang` is the
pair (`hi-en`), whose matrix language `harness.languages` knows, so reports slice by pair and by CMI.

None of these sets has a Hugging Face hub copy with the same labels, so none has a default source:
suites give a `data:` section (the shared samples are in `../shared/data/code_mixed/`).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..errors import DataError
from .base import TASKS, TaskRecipe

# Tags of tokens that belong to no language (Gambäck & Das's "language independent" tokens): punctuation,
# URLs, mentions, emoji, numbers (`other`, `univ`), named entities (`ne`, `acro`), unknown (`unk`, `undef`).
NON_LANGUAGE_TAGS = frozenset({"other", "univ", "ne", "acro", "unk", "undef"})
# Tags of language tokens that belong to no single language of the pair: they count in the utterance's
# language tokens but can never be its matrix language (as Gambäck's reference code treats the EMNLP 2016
# CS workshop tags `mixed`, `ambiguous` and `fw`).
UNASSIGNED_TAGS = frozenset({"mixed", "ambiguous", "fw"})


def cmi_from_tags(tags: Iterable[str]) -> float:
    """Code-mixing index (0–100) of one utterance from one language tag per token.

    CMI = 100 × (N − max_i w_i) / N over the N language tokens (tags case-insensitive), w_i the tokens of
    language i; 0 when N = 0. The same formula as `attacks/codemix/cmi.py` (harness never imports attacks),
    extended to the data sets' `ne`/`mixed`/`ambiguous`/`fw`/`unk` tags.

    >>> cmi_from_tags(["hi", "hi", "en", "other"])   # N = 3, matrix hi (2): 100 × 1/3
    33.333333333333336
    >>> cmi_from_tags(["es", "en", "mixed", "ne"]), cmi_from_tags(["EN", "en"]), cmi_from_tags(["other"])
    (66.66666666666667, 0.0, 0.0)
    """
    counts = Counter(t.lower() for t in tags)
    for t in NON_LANGUAGE_TAGS:
        counts.pop(t, None)
    n = sum(counts.values())
    if n == 0:
        return 0.0
    matrix = max((c for t, c in counts.items() if t not in UNASSIGNED_TAGS), default=0)
    return 100.0 * (n - matrix) / n


@dataclass(frozen=True)
class CodeMixedMeta:
    """Load-time meta of a code-mixed row: `cmi` from the tags in `tags_column` (NaN without them).

    A row's `lang_pair` (e.g. "hin-eng"), when present, must be the suite's pair (`hi-en`), so a file is
    never evaluated under another pair's name.
    """

    tags_column: str = "lang_ids"
    tokens_column: str = "tokens"

    def __call__(self, row: Mapping[str, Any], lang: str, loc: str) -> dict[str, Any]:
        _check_pair(row.get("lang_pair"), lang, loc)
        tags = row.get(self.tags_column)
        if tags is None:
            return {"cmi": math.nan}
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise DataError(f"{loc}: {self.tags_column!r} must be a list of language tags, got {tags!r}")
        tokens = row.get(self.tokens_column)
        if isinstance(tokens, list) and len(tokens) != len(tags):
            raise DataError(f"{loc}: {len(tags)} language tags in {self.tags_column!r} for {len(tokens)} "
                            f"tokens in {self.tokens_column!r}")
        return {"cmi": cmi_from_tags(tags)}


def _check_pair(pair: Any, lang: str, loc: str) -> None:
    """DataError when a row's ISO 639-3 pair (`hin-eng`) names another pair than the task language `hi-en`."""
    if not isinstance(pair, str) or "-" not in lang:
        return
    import langcodes

    try:
        code = "-".join(langcodes.standardize_tag(part) for part in pair.split("-"))
    except ValueError:
        raise DataError(f"{loc}: lang_pair {pair!r} is not a pair of language codes") from None
    if code != lang:
        raise DataError(f"{loc}: the row's lang_pair is {pair!r} ({code}) but the task language is {lang!r}; "
                        "check the data path of this language")


_META = CodeMixedMeta()
_NO_HUB = "No default Hugging Face source (no hub copy with these labels); give a `data:` section."

TASKS.register("sentimix", TaskRecipe(
    name="sentimix",
    task_type="sequence_classification",
    fields=("text",),
    label_names=("positive", "negative", "neutral"),
    languages=("hi-en", "es-en"),
    description="SentiMix (SemEval-2020 Task 9, Patwa et al. 2020): Hinglish / Spanglish tweet sentiment, 3 labels; "
                "per-token language ids give each example's CMI. The hub's `lince-benchmark/lince` (config "
                "sa_spaeng) holds only the Spanglish part, as a loading script. " + _NO_HUB,
    example_meta=_META,
))

TASKS.register("dravidian_sentiment", TaskRecipe(
    name="dravidian_sentiment",
    task_type="sequence_classification",
    fields=("text",),
    label_names=("positive", "negative", "mixed_feelings", "unknown_state"),
    languages=("ta-en", "ml-en"),
    description="DravidianCodeMix sentiment (Chakravarthi et al. 2022): Tamil-English / Malayalam-English YouTube "
                "comments, 4 labels; no language tags (CMI NaN). The hub's `community-datasets/tamilmixsentiment` "
                "is the 2020 Tamil set with capitalised labels and a `not-Tamil` class. " + _NO_HUB,
    example_meta=_META,
))

TASKS.register("dravidian_offensive", TaskRecipe(
    name="dravidian_offensive",
    task_type="sequence_classification",
    fields=("text",),
    label_names=("not_offensive", "offensive_untargeted", "offensive_targeted_individual",
                 "offensive_targeted_group", "offensive_targeted_other"),
    languages=("kn-en",),
    description="DravidianCodeMix offensive-language identification (Chakravarthi et al. 2022): Kannada-English "
                "YouTube comments, 5 labels; no language tags (CMI NaN). The hub's "
                "`community-datasets/offenseval_dravidian` (kannada) spells the labels differently "
                "(`Offensive_Targeted_Insult_Individual`, …) and adds `not-Kannada`. " + _NO_HUB,
    example_meta=_META,
))

TASKS.register("gluecos_nli", TaskRecipe(
    name="gluecos_nli",
    task_type="sequence_classification",
    fields=("premise", "hypothesis"),
    label_names=("entailment", "contradictory"),
    languages=("hi-en",),
    description="GLUECoS code-mixed NLI (Khanuja et al. 2020): Hinglish Bollywood dialogue premise, hypothesis, "
                "2 labels; no language tags (CMI NaN). GLUECoS ships download scripts, not a hub dataset. " + _NO_HUB,
    example_meta=_META,
))
