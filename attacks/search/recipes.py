"""Attack recipes: published character-level attacks as short compositions of the engine's pieces.

Each recipe changes only the defaults of `SearchAttack` (any of them can be overridden in a suite's `params:`).
The severity of an attack cell is the largest share of an example's words the attack may edit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.attack import ATTACKS

from .engine import SearchAttack


@ATTACKS.register("attack.deepwordbug.v1")
@dataclass(frozen=True)
class DeepWordBug(SearchAttack):
    """DeepWordBug (Gao, Lanchantin, Soffa & Qi 2018, "Black-box Generation of Adversarial Text Sequences to
    Evade Deep Learning Classifiers", IEEE S&P Workshops): score each word by how much replacing it moves the
    prediction (their replace-1 score; here the word becomes the tokenizer's unknown token), then edit words in
    that order with one character operation each: swap two adjacent letters, substitute, delete or insert a
    letter (our char.swap / char.substitute / char.delete / char.insert families: grapheme clusters of the word's
    own script), one candidate per operation, stopwords left alone (as TextAttack's recipe does)."""

    id = "attack.deepwordbug.v1"
    description = "DeepWordBug (Gao et al. 2018): word importance by <unk> replacement, greedy swap/substitute/delete/insert"

    families: tuple[str, ...] = ("char.swap.v1", "char.substitute.v1", "char.delete.v1", "char.insert.v1")
    candidates: int = 4
    search: str = "greedy_wir"
    importance: str = "unk"


@ATTACKS.register("attack.pruthi.v1")
@dataclass(frozen=True)
class Pruthi(SearchAttack):
    """Pruthi, Dhingra & Lipton 2019, "Combating Adversarial Misspellings with Robust Word Recognition" (ACL):
    one character edit per word (swap two adjacent letters, drop one, add one, or type a keyboard neighbour; our
    char.swap / char.delete / char.insert / char.keyboard families), words of at least 4 letters, no stopwords,
    found by greedy search: each step tries every candidate at every unedited word and keeps the best (beam
    width 1, TextAttack's GreedySearch). TextAttack caps the attack at one edited word (`max_words: 1` here);
    this recipe lets the severity set the cap. TextAttack also keeps first and last letters fixed, which our
    families do not."""

    id = "attack.pruthi.v1"
    description = "Pruthi et al. 2019: greedy one-character swap/drop/add/keyboard typos on words of 4+ letters"

    families: tuple[str, ...] = ("char.swap.v1", "char.delete.v1", "char.insert.v1", "char.keyboard.v1")
    candidates: int = 4
    search: str = "beam"
    beam_width: int = 1
    min_word_length: int = 4


@ATTACKS.register("attack.textbugger_char.v1")
@dataclass(frozen=True)
class TextBuggerChar(SearchAttack):
    """The character-level bugs of TextBugger (Li, Ji, Du, Li & Wang 2019, "TextBugger: Generating Adversarial Text
    Against Real-world Applications", NDSS), black-box variant: word importance by deleting the word (token tasks,
    which cannot lose a word: the unknown token), then per word a swap of two adjacent letters, a deletion, or a
    visually similar substitution (our char.homoglyph family: a confusable letter of another script). Their
    "insert a space" bug is left out: it splits a word, so it changes the word count (token tasks refuse it) and
    is no single-word edit. Their word-level bug (nearest embedding neighbour) is not a character attack."""

    id = "attack.textbugger_char.v1"
    description = "TextBugger character bugs (Li et al. 2019): importance by deletion, greedy swap/delete/homoglyph"

    families: tuple[str, ...] = ("char.swap.v1", "char.delete.v1", "char.homoglyph.v1")
    candidates: int = 3
    search: str = "greedy_wir"
    importance: str = "delete"


@ATTACKS.register("attack.bad_characters.v1")
@dataclass(frozen=True)
class BadCharacters(SearchAttack):
    """Imperceptible perturbations after Boucher, Shumailov, Anderson & Papernot 2022, "Bad Characters:
    Imperceptible NLP Attacks" (IEEE S&P): homoglyphs (char.homoglyph: confusable letters of another script) and
    invisible characters (char.invisible: zero-width space, joiner, non-joiner) inside words; of their
    reorderings only what our library inserts safely: left-to-right / right-to-left marks (the `bidi` kind),
    which change the encoding but not the display. Bidi overrides that reverse a run of characters, and their
    deletions (a character followed by BACKSPACE / DELETE control characters), are not generated: the library
    has no grapheme-safe family for them. Their search is differential evolution over a perturbation budget;
    here greedy search over words ranked by <unk> importance, no stopwords excluded (nothing is visible)."""

    id = "attack.bad_characters.v1"
    description = "Bad Characters (Boucher et al. 2022): greedy homoglyph and invisible-character insertions"

    families: tuple[str, ...] = ("char.homoglyph.v1", "char.invisible.v1")
    family_params: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"char.invisible.v1": {"kinds": ("zwsp", "zwnj", "zwj", "bidi")}})
    candidates: int = 4
    search: str = "greedy_wir"
    importance: str = "unk"
    stopwords: str | tuple[str, ...] = "none"
