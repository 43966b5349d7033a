"""Same-script letter alphabets for insertion and substitution.

`alphabet(lang, script, text)` is, in order of preference:
1. the letters of `script` on the language's keyboard layout (unshifted and shifted keys);
2. the union of the letters of `script` on every shipped layout;
3. for scripts without a layout (Hani, Hang, Hira, Kana, Mymr, Khmr, ...), the distinct base letters
   of that script's letter clusters in `text`, the text being edited.
Only free letters count (no modifier letters, vowel signs or conjoining jamo), one code point each,
NFC-stable. Alphabets are cached; the text being edited reaches `eligible`/`edit_word` through
`editing(text)`, a context variable, because WordEditPerturbation passes them only the word.
"""
from __future__ import annotations

import random
from abc import abstractmethod
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from harness.perturbation import PerturbResult, WordEditPerturbation
from harness.text import SCRIPTS, char_script, graphemes, is_letter_cluster, nfc

from ._keyboards import lang_layout, layout_chars, layout_index
from ._unicode import carries_marks, is_free_letter

_EDITED_TEXT: ContextVar[str | None] = ContextVar("xrobust_edited_text", default=None)
_KNOWN_SCRIPTS = frozenset(SCRIPTS)


@dataclass(frozen=True)
class Alphabet:
    """The letters of one script to draw from; `pool` holds one case only where the script has two."""

    letters: tuple[str, ...]
    members: frozenset[str]
    pool: tuple[str, ...]  # lowercase forms when the alphabet is cased
    carriers: tuple[str, ...]  # pool letters that can carry marks (no independent vowels)

    @classmethod
    def of(cls, letters: Iterable[str]) -> "Alphabet":
        letters = tuple(sorted(set(letters)))
        cased = any(c.islower() for c in letters)
        pool = tuple(c for c in letters if not (cased and c.isupper()))
        return cls(letters, frozenset(letters), pool, tuple(c for c in pool if carries_marks(c)))

    def __bool__(self) -> bool:
        return bool(self.letters)

    def cased(self, letter: str, upper: bool) -> str:
        """`letter` in upper case when asked and the alphabet has that upper-case letter."""
        if upper:
            up = letter.upper()
            if up in self.members:
                return up
        return letter


EMPTY = Alphabet.of(())


def _letters(chars: Iterable[str], script: str) -> list[str]:
    return [c for c in chars if len(c) == 1 and is_free_letter(c) and char_script(c) == script and nfc(c) == c]


@lru_cache(maxsize=None)
def _all_layouts(script: str) -> Alphabet:
    return Alphabet.of(c for name in layout_index() for c in _letters(layout_chars(name), script))


@lru_cache(maxsize=4096)
def static_alphabet(lang: str, script: str) -> Alphabet:
    """Alphabet from keyboard layouts alone (steps 1-2); EMPTY for scripts without a layout.

    >>> "".join(static_alphabet("en", "Latn").pool)
    'abcdefghijklmnopqrstuvwxyz'
    """
    own = lang_layout(lang)
    if own is not None:
        mine = Alphabet.of(_letters(layout_chars(own), script))
        if mine:
            return mine
    return _all_layouts(script)


@lru_cache(maxsize=256)
def text_alphabets(text: str) -> dict[str, Alphabet]:
    """Per script, the base letters of the letter clusters in `text` (step 3)."""
    found: dict[str, set[str]] = {}
    for g in graphemes(text):
        if is_letter_cluster(g):
            script = char_script(g[0])
            if script in _KNOWN_SCRIPTS:
                found.setdefault(script, set()).update(_letters(g[0], script))
    return {s: Alphabet.of(v) for s, v in found.items()}


def alphabet(lang: str, script: str, text: str = "") -> Alphabet:
    """Letters of `script` to insert or substitute for a `lang` text.

    >>> alphabet("zh", "Hani", "我爱北京").pool
    ('京', '北', '我', '爱')
    """
    if script not in _KNOWN_SCRIPTS:
        return EMPTY
    static = static_alphabet(lang, script)
    if static:
        return static
    return text_alphabets(text).get(script, EMPTY)


@lru_cache(maxsize=65536)
def text_independent(word: str, lang: str) -> bool:
    """True when every letter cluster of `word` has a layout alphabet, so edits of it do not depend
    on the rest of the text (and per-word results can be cached)."""
    return all(static_alphabet(lang, char_script(g[0])) or char_script(g[0]) not in _KNOWN_SCRIPTS
               for g in graphemes(word) if is_letter_cluster(g))


@contextmanager
def editing(text: str) -> Iterator[None]:
    """Make `text` the text being edited for `edited_text` calls inside the block."""
    token = _EDITED_TEXT.set(text)
    try:
        yield
    finally:
        _EDITED_TEXT.reset(token)


def edited_text(word: str) -> str:
    """The text being edited, or `word` itself when called outside `editing` (e.g. edit_word alone)."""
    text = _EDITED_TEXT.get()
    return word if text is None else text



@dataclass(frozen=True)
class AlphabetEdit(WordEditPerturbation):
    """A word edit that draws letters from same-script alphabets (insert, substitute).

    Subclasses implement `sites(clusters, lang, text)`: the (position, alphabet) pairs where the word
    can be edited. The text being edited is made available to them (`editing`), and a word's sites
    are cached when its alphabets come from keyboard layouts, i.e. do not depend on the text.
    """

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        with editing(nfc(text)):
            return super().perturb(text, severity, rng, lang)

    @abstractmethod
    def sites(self, clusters: list[str], lang: str, text: str) -> Iterator[tuple[int, Alphabet]]:
        """Where in the word (cluster index) an edit can go, with the alphabet to draw from."""

    def candidates(self, word: str, lang: str) -> tuple[tuple[int, Alphabet], ...]:
        """The word's sites, cached when they do not depend on the rest of the text."""
        if text_independent(word, lang):
            return _cached_sites(self, word, lang)
        return tuple(self.sites(graphemes(word), lang, edited_text(word)))

    def eligible(self, word: str, lang: str) -> bool:
        if text_independent(word, lang):
            return bool(_cached_sites(self, word, lang))
        return any(True for _ in self.sites(graphemes(word), lang, edited_text(word)))


@lru_cache(maxsize=65536)
def _cached_sites(p: AlphabetEdit, word: str, lang: str) -> tuple[tuple[int, Alphabet], ...]:
    return tuple(p.sites(graphemes(word), lang, word))
