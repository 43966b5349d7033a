"""Dictionary code-switching of English text, in the style of CoSDA-ML (Qin et al., IJCAI 2020).

A share (= severity) of the English words that have a translation in at least one target lexicon
(`harness/resources/lexicons/en-<target>.tsv`) is replaced by a translation into one of `targets`,
the target and the translation drawn per word with the example's RNG. The result carries one
language tag per whitespace token (`token_langs`: 'en', a target code, or 'univ' for tokens without
a letter) and the code-mixing index of the output (`cmi`, see `attacks/codemix/cmi.py`) in its `meta`.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import regex

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, Perturbation, PerturbResult, Span, splice
from harness.resources import lexicon, lexicon_languages
from harness.text import cluster_script, grapheme_edit_rate, graphemes, ill_formed, is_letter_cluster, nfc

from .cmi import UNIVERSAL, cmi, is_universal

SOURCE_LANG = "en"
# A whitespace token = leading punctuation/symbols + an English word (ASCII letters, inner ' ’ -) +
# trailing punctuation/symbols. Tokens with digits or other letters around the word are not words.
_WORD_TOKEN = regex.compile(r"(?P<pre>[\p{P}\p{S}]*)(?P<core>[A-Za-z](?:[A-Za-z'’-]*[A-Za-z])?)(?P<post>[\p{P}\p{S}]*)")
_TOKEN = re.compile(r"\S+")  # stdlib re: the same whitespace as str.split(), so token_langs align with it


@PERTURBATIONS.register("codemix.lexicon.v1")
@dataclass(frozen=True)
class LexiconCodeSwitch(Perturbation):
    """Replace a share of English words by dictionary translations into `targets` (CoSDA-ML style).

    >>> from harness.rng import derive_rng
    >>> p = LexiconCodeSwitch(targets=("de", "es"))
    >>> r = p.perturb("The house is very old.", 1.0, derive_rng(0, "doc"), "en")
    >>> r.text, r.meta["token_langs"], r.meta["cmi"]
    ('Die haus is äußerst alte.', ('de', 'de', 'en', 'de', 'de'), 20.0)

    Only English input is switched (the lexicons are English→X): any other `lang` gives
    `applied=False` with a reason and no tags. Words keep their capitalisation (lower, Title or
    ALL CAPS) and the punctuation attached to them ('house,' -> 'haus,'). Multi-word translations
    (a few in en-sw and en-ur) are skipped, so the whitespace token count never changes.
    `romanize=True` writes non-Latin translations in Latin letters with the romanizer of
    `char.translit.v1` (`attacks.char.translit.romanize_word`, casual scheme: 'नहीं' -> 'nahin',
    '这个' -> 'zhege', 'مرحبا' -> 'mr7ba', 'мир' -> 'mir'); translations it cannot romanize (Japanese
    kanji) are skipped, Latin-script translations keep their diacritics.
    """

    id = "codemix.lexicon.v1"
    family = "codemix"
    description = "replace a share of English words by dictionary translations into target languages (CoSDA-ML)"
    scripts = frozenset({"Latn"})  # the source side: English words in Latin letters
    keeps_token_count = True

    targets: tuple[str, ...] = ("hi", "de", "es", "zh")
    romanize: bool = False

    def __post_init__(self) -> None:
        targets = self.targets
        if isinstance(targets, str) or not isinstance(targets, (list, tuple)):
            raise ConfigError(f"{self.id}: targets must be a list of language codes, got {targets!r}")
        object.__setattr__(self, "targets", tuple(targets))  # YAML gives a list; keep the instance hashable
        available = lexicon_languages()
        unknown = [t for t in self.targets if t not in available]
        if not self.targets or unknown or len(set(self.targets)) != len(self.targets):
            raise ConfigError(f"{self.id}: targets must be distinct languages with an English lexicon, got "
                              f"{list(self.targets)}; available: {', '.join(available)}")
        if not isinstance(self.romanize, bool):
            raise ConfigError(f"{self.id}: romanize must be true or false, got {self.romanize!r}")
        if self.romanize:
            _romanizer()

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if not 0.0 <= severity <= 1.0:
            raise ConfigError(f"{self.id}: severity must be in [0, 1], got {severity}")
        text = nfc(text)
        if not is_english(lang):
            return PerturbResult(text, False, 0, 0, 0.0, reason=f"source language {lang!r} is not English "
                                 "(the lexicons translate from English)")
        tables = [(t, _table(t, self.romanize)) for t in self.targets]
        tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
        words = [_WORD_TOKEN.fullmatch(tok) for _, tok in tokens]
        eligible = [i for i, w in enumerate(words) if w and any(_key(w) in table for _, table in tables)]
        tags = [UNIVERSAL if is_universal(tok) else SOURCE_LANG for _, tok in tokens]
        if not eligible:
            return _unchanged(text, tags, 0, "no word with a translation into the targets")
        k = _stochastic_round(severity * len(eligible), rng)
        if k == 0:
            return _unchanged(text, tags, len(eligible), "severity selected no word")
        edits = []
        for i in sorted(rng.sample(eligible, k)):
            word = words[i]
            key = _key(word)
            target, table = rng.choice([(t, table) for t, table in tables if key in table])
            new = _cased(rng.choice(table[key]), word["core"])
            if new == word["core"]:
                continue
            edits.append((tokens[i][0] + word.start("core"), tokens[i][0] + word.end("core"), new))
            tags[i] = target
        out, alignment = splice(text, edits)
        if not alignment:
            return _unchanged(text, tags, len(eligible), "no chosen word had a translation different from it")
        if nfc(out) != out:  # a translation composed with its neighbour: keep the text NFC, coarsen alignment
            out = nfc(out)
            alignment = (Span(alignment[0].old_start, len(text), alignment[0].new_start, len(out)),)
        meta = {"token_langs": tuple(tags), "cmi": cmi(tags)}
        return PerturbResult(out, True, len(eligible), len(alignment), grapheme_edit_rate(text, out),
                             tuple(alignment), meta=meta)


def is_english(lang: str) -> bool:
    """True for 'en' and regional tags such as 'en-GB' or 'en_US'."""
    return lang.replace("_", "-").split("-")[0].lower() == SOURCE_LANG


def _unchanged(text: str, tags: list[str], n_eligible: int, reason: str) -> PerturbResult:
    # English text that was not switched still has tags: it is monolingual, CMI 0.
    meta = {"token_langs": tuple(tags), "cmi": cmi(tags)}
    return PerturbResult(text, False, n_eligible, 0, 0.0, reason=reason, meta=meta)


def _key(word: regex.Match) -> str:
    return word["core"].replace("’", "'").lower()


def _cased(translation: str, source: str) -> str:
    """The translation with the source word's case pattern: lower (as in the lexicon), Title or ALL CAPS."""
    if len(source) > 1 and source.isupper():
        return nfc(translation.upper())
    if source[0].isupper():
        return nfc(translation[:1].upper() + translation[1:])
    return translation


@lru_cache(maxsize=None)
def _table(target: str, romanize: bool) -> Mapping[str, tuple[str, ...]]:
    """{english word: usable translations}: single tokens, well-formed, different from the word."""
    out: dict[str, tuple[str, ...]] = {}
    for word, translations in lexicon(target).items():
        usable: list[str] = []
        for t in translations:
            if romanize and _non_latin(t):
                t = (_romanizer()(t, target, "casual") or "").lower()
            if t and t.lower() != word and t not in usable and not any(ch.isspace() for ch in t) and not ill_formed(t):
                usable.append(t)
        if usable:
            out[word] = tuple(usable)
    return MappingProxyType(out)


def _non_latin(word: str) -> bool:
    return any(is_letter_cluster(g) and cluster_script(g) != "Latn" for g in graphemes(word))


@lru_cache(maxsize=1)
def _romanizer():
    # The same romanization as char.translit.v1 (indic_transliteration + anyascii), imported only when used.
    try:
        from attacks.char.translit import romanize_word
    except ImportError as exc:
        raise ConfigError(f"codemix.lexicon.v1: romanize=true needs char.translit.v1's romanizer ({exc})") from None
    return romanize_word


def _stochastic_round(x: float, rng: random.Random) -> int:
    # the same rounding as WordEditPerturbation: the expected share of words equals the severity
    floor = int(x)
    return floor + (1 if rng.random() < x - floor else 0)
