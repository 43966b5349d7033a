"""Keyboard typo: a character becomes a neighbouring key of the writer's keyboard layout."""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import dominant_script, nfc

from ._keyboards import LAYOUT_SCRIPTS, layout_for, load_layout
from ._unicode import LETTER, char_class

Plan = tuple[tuple[int, tuple[str, ...]], ...]  # (code-point index in the word, replacements)


def _same_class(key: str, cls: str) -> bool:
    return all(char_class(ch) == cls for ch in key)


@lru_cache(maxsize=None)
def replacement_table(layout: str) -> dict[str, tuple[str, ...]]:
    """char -> neighbouring keys of the same class (letter->letter, mark->mark, vowel sign->vowel sign),
    on the same shift level, nearest first.

    Upper-case letters missing from the layout's shifted level (e.g. 'É' on AZERTY) take the
    neighbours of their lower-case form, each in its shifted form where the layout has a letter there.
    """
    kb = load_layout(layout)
    shifted = {pair[0]: pair[1] for pair in kb["keys"].values() if pair[0] and pair[1]}
    table: dict[str, tuple[str, ...]] = {}
    for ch, neighbours in kb["neighbors"].items():
        cls = char_class(ch) if len(ch) == 1 else None
        if cls is None:
            continue
        cands = tuple(dict.fromkeys(n for n in neighbours if n and n != ch and nfc(n) == n and _same_class(n, cls)))
        if cands:
            table[ch] = cands
    for ch, cands in list(table.items()):
        up = ch.upper()
        if len(up) == 1 and up != ch and up not in table and char_class(up) == LETTER:
            ups = tuple(dict.fromkeys(_shift(n, shifted) for n in cands))
            table[up] = tuple(n for n in ups if n != up and nfc(n) == n and _same_class(n, LETTER))
    return {ch: cands for ch, cands in table.items() if cands}


def _shift(key: str, shifted: dict[str, str]) -> str:
    s = shifted.get(key)
    if s and _same_class(s, LETTER):
        return s
    up = key.upper()
    return up if len(up) == len(key) else key


@lru_cache(maxsize=1 << 16)
def typo_plan(word: str, lang: str) -> Plan:
    """Where `word` can get a typo on the layout chosen for `lang` and the word's script."""
    layout = layout_for(lang, dominant_script(word))
    if layout is None:
        return ()
    table = replacement_table(layout)
    return tuple((i, table[ch]) for i, ch in enumerate(word) if ch in table)


@PERTURBATIONS.register("char.keyboard.v1")
@dataclass(frozen=True)
class KeyboardTypo(WordEditPerturbation):
    """'hello' -> 'hwllo' (QWERTY); 'किताब' -> 'कितान' (InScript); 'Hello' -> 'Jello' (case kept).

    Layout: the language's own (`lang`='hi' -> hi.json) when it writes the word's script, else the
    default layout of the word's script (Latn -> en, Cyrl -> ru, Deva -> hi, ... see
    SCRIPT_DEFAULT_LAYOUT); words in scripts without a layout (Hani, Hang, ...) are not eligible.
    Letters only become letters and marks only marks, so no mark is ever detached.
    """

    id = "char.keyboard.v1"
    family = "keyboard"
    description = "replace one character with a neighbouring key on the language's keyboard layout"
    scripts = LAYOUT_SCRIPTS

    def eligible(self, word: str, lang: str) -> bool:
        return bool(typo_plan(word, lang))

    def _eligible_indices(self, words: list[str], lang: str) -> list[int]:
        if type(self).eligible is not KeyboardTypo.eligible:  # a subclass decides: ask it word by word
            return super()._eligible_indices(words, lang)
        return [i for i, plan in enumerate(map(typo_plan, words, repeat(lang))) if plan]

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        plan = typo_plan(word, lang)
        if not plan:
            return None
        # pick(plan, rng), then pick(cands, rng): one rng.random() each
        i, cands = plan[int(rng.random() * len(plan))]
        return word[:i] + cands[int(rng.random() * len(cands))] + word[i + 1:]
