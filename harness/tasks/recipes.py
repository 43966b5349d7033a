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

SNIPS_INTENTS = ("AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook", "SearchCreativeWork",
                 "SearchScreeningEvent")

TASKS.register("snips_intent", TaskRecipe(
    name="snips_intent",
    task_type="sequence_classification",
    fields=("text",),
    label_names=SNIPS_INTENTS,
    languages=("en", "es", "fr", "hi"),
    label_field="intent",
    description="SNIPS intent detection (Coucke et al. 2018), 7 intents; es/fr/hi are the test sets of Stickland et "
                "al. 2023, whose rows pair each `clean` utterance with its real-world `noisy` version (use `fields: "
                "{text: clean}` and `realworld.paired.v1`; their English file has only the noisy side). No default "
                "Hugging Face source (no hub copy of these test sets); give a `data:` section.",
))
