"""Homoglyph attack: one letter becomes a look-alike letter of another script (mixed-script text)."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import SCRIPTS, char_script, nfc

from ._rand import pick
from ._unicode import MARK, char_class

_KNOWN_SCRIPTS = frozenset(SCRIPTS)


def _usable(ch: str) -> bool:
    return len(ch) == 1 and char_script(ch) in _KNOWN_SCRIPTS and nfc(ch) == ch and char_class(ch) not in (None, MARK)


@lru_cache(maxsize=None)
def homoglyph_table() -> dict[str, tuple[str, ...]]:
    """letter -> visually confusable letters of another script, from Unicode confusables (UTS #39)
    as shipped by `confusable_homoglyphs`: single code points, NFC-stable, same letter class, and in
    a script xrobust knows by name (so fonts render them), sorted by code point.

    >>> homoglyph_table()["a"]
    ('α', 'а')
    """
    from confusable_homoglyphs.confusables import confusables_data  # loads its JSON: import lazily

    table: dict[str, tuple[str, ...]] = {}
    for ch, entries in confusables_data.items():
        if not _usable(ch):
            continue
        script, cls = char_script(ch), char_class(ch)
        cands = sorted({h for e in entries if _usable(h := e["c"])
                        and char_script(h) != script and char_class(h) == cls
                        and (unicodedata.category(h) == "Lm") == (unicodedata.category(ch) == "Lm")})
        if cands:
            table[ch] = tuple(cands)
    return table


@lru_cache(maxsize=None)
def homoglyph_scripts() -> frozenset[str]:
    """ISO 15924 codes of the scripts with at least one letter in the homoglyph table."""
    return frozenset(char_script(ch) for ch in homoglyph_table())


class _TableScripts:
    """Class attribute computed from the table on first access, so importing stays cheap."""

    def __get__(self, obj: object, owner: type | None = None) -> frozenset[str]:
        return homoglyph_scripts()


@lru_cache(maxsize=1 << 16)
def homoglyph_plan(word: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(code-point index, look-alikes) for each replaceable letter of `word`; a look-alike that would
    compose with the marks after it under NFC is left out."""
    table = homoglyph_table()
    plan = []
    for i, ch in enumerate(word):
        cands = table.get(ch)
        if cands is None:
            continue
        j = i + 1
        while j < len(word) and unicodedata.category(word[j])[0] == "M":
            j += 1
        if j > i + 1:
            marks = word[i + 1:j]
            cands = tuple(h for h in cands if nfc(h + marks) == h + marks)
        if cands:
            plan.append((i, cands))
    return tuple(plan)


@PERTURBATIONS.register("char.homoglyph.v1")
@dataclass(frozen=True)
class Homoglyph(WordEditPerturbation):
    """'paypal' -> 'pаypal' (Cyrillic 'а'); 'мир' -> 'миp' (Latin 'p'): looks the same, tokenises differently."""

    id = "char.homoglyph.v1"
    family = "homoglyph"
    description = "replace one letter with a visually confusable letter of another script (Unicode confusables)"
    scripts = _TableScripts()  # type: ignore[assignment]

    def eligible(self, word: str, lang: str) -> bool:
        return bool(homoglyph_plan(word))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        plan = homoglyph_plan(word)
        if not plan:
            return None
        i, cands = pick(plan, rng)
        return word[:i] + pick(cands, rng) + word[i + 1:]
