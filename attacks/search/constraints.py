"""Constraints: which words an attack may edit and what they may become.

Word-level: stopwords (small built-in per-language lists, a user list, or none), a minimum word length,
numbers, and gold spans (an extractive-QA answer or a token task's gold entity is never edited: the attack is
on the model, not on the label). Edit-level: the grapheme edit distance between a word and its candidate.
The largest share of words edited is the cell's severity; the engine enforces it (and `max_words`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import regex

from harness.attack import Site
from harness.text import grapheme_edit_distance, graphemes
from harness.types import Example

_DIGIT = regex.compile(r"\p{Nd}")
_ENTITY_TAG = re.compile(r"^[BIES]-")  # IOB2 / IOBES entity tags; POS tags carry none
_PUNCT_EDGES = regex.compile(r"^[\p{P}\p{S}]+|[\p{P}\p{S}]+$")

# Small lists of the most frequent function words, written for xrobust (not taken from another list). A
# language without a list has no stopwords; `stopwords: [..]` in a suite gives any list.
STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "en": "a an the and or but if of in on at to for from by with as is are was were be been being am it its "
          "this that these those he she they we you i me him her them us my your his our their not no do does "
          "did have has had will would can could should there here so than then too very just about into over",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber wenn von in im an am auf zu zum "
          "zur für mit als ist sind war waren sein es er sie wir ihr ich du nicht kein keine hat haben hatte "
          "wird werden auch so noch nur sehr schon dass",
    "fr": "le la les l un une des du de d et ou mais si à au aux en dans sur pour par avec est sont était être "
          "il elle ils elles nous vous je tu ne pas que qui ce cette ces son sa ses leur leurs a ont avait très",
    "es": "el la los las un una unos unas y o pero si de del a al en con por para es son era fue ser está "
          "están él ella ellos ellas nosotros yo tú no que se su sus lo le les muy más ya ha han",
    "it": "il lo la i gli le un uno una e o ma se di del della a al alla in nel nella con per da è sono era "
          "essere lui lei loro noi io tu non che si suo sua ha hanno molto più anche",
    "pt": "o a os as um uma uns umas e ou mas se de do da dos das em no na nos nas com por para é são era ser "
          "está ele ela eles elas nós eu tu não que se seu sua muito mais já tem",
    "nl": "de het een en of maar als van in op aan te voor met door is zijn was waren hij zij ze wij we ik je "
          "jij niet geen dat die dit heeft hebben had zeer ook nog al",
    "ru": "и в во не что он она оно они на я с со как а то все так его но да ты к у же вы за бы по только ее "
          "мне было вот от меня еще нет о из ему теперь когда даже ну ли если уже или быть был была были это",
    "el": "ο η το οι τα του της των τον την και ή αλλά αν σε στο στη στην στον με για από ως είναι ήταν "
          "δεν μη να θα που αυτό αυτός αυτή εγώ εσύ εμείς πολύ",
    "tr": "ve veya ama fakat bir bu şu o da de ile için gibi çok daha en ne mi mı mu mü ki değil var yok ben "
          "sen biz siz onlar olarak olan",
    "hi": "और या लेकिन यदि का के की को में पर से तक लिए है हैं था थे थी हो होना यह वह ये वे मैं तुम हम आप नहीं "
          "न भी ही तो जो कि एक बहुत",
    "ar": "و أو لكن إذا من في على إلى عن مع هذا هذه ذلك تلك هو هي هم نحن أنا أنت لا لم لن ما قد كان كانت "
          "التي الذي أن إن كل بعض",
}.items()}


@lru_cache(maxsize=4096)
def _bare(word: str) -> str:
    """The word without leading/trailing punctuation, case-folded (how stopword lists are matched)."""
    return _PUNCT_EDGES.sub("", word).casefold()


@dataclass(frozen=True)
class Stopwords:
    """Never edit a stopword: the built-in list of the example's language, or the given words for every
    language. Words are matched case-folded, without surrounding punctuation."""

    words: frozenset[str] | None = None  # None: built-in lists

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        stop = self.words if self.words is not None else STOPWORDS.get(site.lang.split("-")[0], frozenset())
        return _bare(site.word) not in stop

    def allows_edit(self, site: Site, new: str) -> bool:
        return True


@dataclass(frozen=True)
class MinWordLength:
    """Edit only words of at least `graphemes` grapheme clusters (Pruthi et al. attack words of 4+ letters)."""

    graphemes: int

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        return len(graphemes(site.word)) >= self.graphemes

    def allows_edit(self, site: Site, new: str) -> bool:
        return True


@dataclass(frozen=True)
class ProtectNumbers:
    """Never edit a word with a decimal digit: changing a number changes the content, not just the spelling."""

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        return not _DIGIT.search(site.word)

    def allows_edit(self, site: Site, new: str) -> bool:
        return True


@dataclass(frozen=True)
class ProtectGold:
    """Never edit a word that overlaps a gold span: an extractive-QA answer in the context, a token task's gold
    entity (a word tagged B-/I-/E-/S-). The spans are found in the text the adapter hands the perturbation;
    QA with `protect_answers` hands over only the text around the answers, so there is nothing left to find."""

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        return not any(s < site.end and site.start < e for s, e in gold_spans(example, site, task_type))

    def allows_edit(self, site: Site, new: str) -> bool:
        return True


def gold_spans(example: Example, site: Site, task_type: str) -> list[tuple[int, int]]:
    """Character spans of gold answers / entities in `site.text` (empty when the text holds none)."""
    if task_type == "extractive_qa" and site.field == "context" and site.text == example.fields["context"]:
        return [(a.start, a.end) for a in example.label]
    if task_type == "token_classification" and site.text == " ".join(example.fields[site.field]):
        return list(_entity_word_spans(tuple(example.fields[site.field]), tuple(example.label)))
    return []


@lru_cache(maxsize=1024)
def _entity_word_spans(words: tuple[str, ...], tags: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    out, pos = [], 0
    for w, t in zip(words, tags):
        if _ENTITY_TAG.match(t):
            out.append((pos, pos + len(w)))
        pos += len(w) + 1
    return tuple(out)


@dataclass(frozen=True)
class MaxWordDistance:
    """A candidate may differ from its word by at most `distance` grapheme edits (Levenshtein on clusters)."""

    distance: int

    def allows_site(self, site: Site, example: Example, task_type: str) -> bool:
        return True

    def allows_edit(self, site: Site, new: str) -> bool:
        return grapheme_edit_distance(site.word, new) <= self.distance


def stopword_constraint(setting: str | Sequence[str]) -> Stopwords | None:
    """`"builtin"` -> the per-language lists, `"none"` -> no constraint, a list -> those words (case-folded)."""
    if setting == "none":
        return None
    if setting == "builtin":
        return Stopwords()
    return Stopwords(frozenset(_bare(w) for w in setting))
