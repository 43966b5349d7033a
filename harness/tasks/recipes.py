"""Built-in dataset recipes. XTREME-R task types beyond classification plug in here."""
from __future__ import annotations

from .base import TASKS, TaskRecipe

XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGS = ("de", "en", "es", "fr", "ja", "ko", "zh")

TASKS.register("xnli", TaskRecipe(
    name="xnli",
    task_type="sequence_classification",
    fields=("premise", "hypothesis"),
    label_names=("entailment", "neutral", "contradiction"),
    languages=XNLI_LANGS,
    hf_source={"id": "facebook/xnli", "config": "{lang}", "split": "test"},
    description="XNLI natural language inference (Conneau et al. 2018), sentence pairs, 3 labels",
))

TASKS.register("pawsx", TaskRecipe(
    name="pawsx",
    task_type="sequence_classification",
    fields=("sentence1", "sentence2"),
    label_names=("0", "1"),
    languages=PAWSX_LANGS,
    hf_source={"id": "google-research-datasets/paws-x", "config": "{lang}", "split": "test"},
    description="PAWS-X paraphrase identification (Yang et al. 2019), sentence pairs, 1 = paraphrase",
))
