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

_EDITED_TEXT: ContextVar[str | _Unnormalized | None] = ContextVar("xrobust_edited_text", default=None)
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

    def __hash__(self) -> int:
        # equal alphabets have equal members; a frozenset keeps its hash, the field tuple would not
        return hash(self.members)

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


class _Unnormalized:
    """A text set by AlphabetEdit.perturb, NFC-normalized by `edited_text` when first asked for."""

    __slots__ = ("raw", "normalized")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.normalized: str | None = None


def edited_text(word: str) -> str:
    """The text being edited, or `word` itself when called outside `editing` (e.g. edit_word alone)."""
    text = _EDITED_TEXT.get()
    if text is None:
        return word
    if type(text) is _Unnormalized:
        if text.normalized is None:
            text.normalized = nfc(text.raw)
        return text.normalized
    return text



@dataclass(frozen=True)
class AlphabetEdit(WordEditPerturbation):
    """A word edit that draws letters from same-script alphabets (insert, substitute).

    Subclasses implement `sites(clusters, lang, text)`: the (position, alphabet) pairs where the word
    can be edited, and may turn them into whatever `edit_word` reads fastest (`options`). The text
    being edited is made available to them (`editing`), and a word's sites and options are cached
    when its alphabets come from keyboard layouts, i.e. do not depend on the text.
    """

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        # `editing(nfc(text))`, without a generator per call, normalizing only when a word asks
        token = _EDITED_TEXT.set(_Unnormalized(text))
        try:
            return super().perturb(text, severity, rng, lang)
        finally:
            _EDITED_TEXT.reset(token)

    @abstractmethod
    def sites(self, clusters: list[str], lang: str, text: str) -> Iterator[tuple[int, Alphabet]]:
        """Where in the word (cluster index) an edit can go, with the alphabet to draw from."""

    def options(self, word: str, clusters: list[str], sites: tuple[tuple[int, Alphabet], ...]) -> tuple:
        """What `edit_word` draws from for a word with these sites (by default the sites themselves)."""
        return sites

    def candidates(self, word: str, lang: str) -> tuple[tuple[int, Alphabet], ...]:
        """The word's sites, cached when they do not depend on the rest of the text."""
        entry = self._memo(lang).get(word)
        if entry is None:
            entry = self._remember(word, lang)
            if entry is None:
                return tuple(self.sites(graphemes(word), lang, edited_text(word)))
        return entry[0]

    def word_options(self, word: str, lang: str) -> tuple:
        """`options` of the word's sites, cached like them."""
        memos = self.__dict__.get(_MEMO)  # self._memo(lang), inlined: edit_word's hot path
        memo = memos.get(lang) if memos is not None else None
        entry = memo.get(word) if memo is not None else None
        if entry is None:
            entry = self._remember(word, lang)
            if entry is None:
                clusters = graphemes(word)
                return self.options(word, clusters, tuple(self.sites(clusters, lang, edited_text(word))))
        return entry[1]

    def eligible(self, word: str, lang: str) -> bool:
        entry = self._memo(lang).get(word)
        if entry is None:
            entry = self._remember(word, lang)
            if entry is None:
                return any(True for _ in self.sites(graphemes(word), lang, edited_text(word)))
        return bool(entry[0])

    def _eligible_indices(self, words: list[str], lang: str) -> list[int]:
        if type(self).eligible is not AlphabetEdit.eligible:  # a subclass decides: ask it word by word
            return super()._eligible_indices(words, lang)
        entries = list(map(self._memo(lang).get, words))
        if None in entries:
            for i, entry in enumerate(entries):
                if entry is None:
                    entries[i] = self._remember(words[i], lang) or (self.eligible(words[i], lang),)
        return [i for i, entry in enumerate(entries) if entry[0]]

    def _memo(self, lang: str) -> dict[str, tuple[tuple, tuple]]:
        """word -> (sites, options) of this perturbation's text-independent words in `lang`.

        Kept on the instance (outside its fields: equality, hash and repr ignore it) rather than in
        an lru_cache keyed by the perturbation, whose dataclass hash is recomputed on every call."""
        memos = self.__dict__.get(_MEMO)
        if memos is None:
            memos = {}
            object.__setattr__(self, _MEMO, memos)
        memo = memos.get(lang)
        if memo is None:
            memo = memos[lang] = {}
        return memo

    def _remember(self, word: str, lang: str) -> tuple[tuple, tuple] | None:
        """Compute and remember the sites and options of a text-independent word; None for other words."""
        if not text_independent(word, lang):
            return None
        memo = self._memo(lang)
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        clusters = graphemes(word)
        sites = tuple(self.sites(clusters, lang, word))
        entry = memo[word] = (sites, self.options(word, clusters, sites))
        return entry

    def __getstate__(self) -> dict[str, object]:  # pickles and copies leave the memo behind
        return {k: v for k, v in self.__dict__.items() if k != _MEMO}


_MEMO = "_xrobust_site_memo"
_MEMO_SIZE = 65536
