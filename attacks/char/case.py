"""Case noise: flip the case of one letter, or of every letter of a word (caps lock), in cased scripts."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import char_script, cluster_script, graphemes, is_letter_cluster, nfc

from ._scripts import ParamScripts
from ._rand import pick

LETTER_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn"})  # single-letter flips
MODES = ("letter", "word", "mixed")
TURKIC = frozenset({"tr", "az"})  # dotted and dotless i are two letters: i <-> İ, ı <-> I
_TURKIC_FLIP = {"i": "İ", "İ": "i", "ı": "I", "I": "ı"}
# Flips Python's str.upper/lower get wrong for case noise: they would change the length
# ('ß'.upper() == 'SS', 'İ'.lower() == 'i̇') or the letter.
_SPECIAL_FLIP = {"ß": "ẞ", "ẞ": "ß", "İ": "i", "ı": "I", "ς": "Σ"}


@lru_cache(maxsize=4096)
def flip_char(ch: str, turkic: bool = False) -> str | None:
    """`ch` in the other case, one code point of the same script, or None when it has none.

    >>> flip_char("a"), flip_char("Ж"), flip_char("ß"), flip_char("i", turkic=True), flip_char("I", turkic=True)
    ('A', 'ж', 'ẞ', 'İ', 'ı')
    >>> flip_char("ǆ"), flip_char("ŉ"), flip_char("中")
    ('Ǆ', None, None)
    """
    if turkic and ch in _TURKIC_FLIP:
        return _TURKIC_FLIP[ch]
    if ch in _SPECIAL_FLIP:
        return _SPECIAL_FLIP[ch]
    cat = unicodedata.category(ch)
    if cat not in ("Lu", "Ll"):
        return None
    new = ch.lower() if cat == "Lu" else ch.upper()
    if len(new) != 1 or new == ch or unicodedata.category(new) not in ("Lu", "Ll"):
        return None
    return new if char_script(new) == char_script(ch) and nfc(new) == new else None


def _scripts_of(p: object | None) -> frozenset[str]:
    """Georgian only where Mtavruli is switched on (every script on the class)."""
    return LETTER_SCRIPTS | {"Geor"} if p is None or p.georgian_mtavruli else LETTER_SCRIPTS  # type: ignore[attr-defined]


def _is_turkic(lang: str) -> bool:
    return lang.replace("_", "-").split("-")[0].lower() in TURKIC


def _flip_cluster(clusters: list[str], i: int, turkic: bool) -> str | None:
    g = clusters[i]
    new = flip_char(g[0], turkic)
    if new is None:
        return None
    if new == "σ" and (i + 1 == len(clusters) or not is_letter_cluster(clusters[i + 1])):
        new = "ς"  # a lower-cased sigma at the end of a word is final sigma
    return new + g[1:]


@PERTURBATIONS.register("char.case.v1")
@dataclass(frozen=True)
class CaseNoise(WordEditPerturbation):
    """'hello' -> 'heLlo' (one letter) or 'HELLO' (the word, caps lock: 'Hello' -> 'hELLO'); 'мир' -> 'Мир'.

    Cased scripts only: Latin, Cyrillic, Greek, Armenian; other words are not eligible (Chinese text
    gives applied=False with a reason). `mode`: 'letter', 'word' (swap the case of every letter) or
    'mixed' (either, with equal chance, per word). Turkish and Azerbaijani (`lang` tr/az) keep dotted
    and dotless i apart (i <-> İ, ı <-> I); elsewhere İ -> i and ı -> I. Lengths never change:
    ß <-> ẞ (never 'SS'), and letters whose other case is not one code point are left alone; a
    lower-cased Σ at a word end becomes ς.

    Georgian: Mkhedruli is caseless in running text; its Mtavruli capitals (Unicode 11) appear only
    in all-caps headings, and many fonts and tokenizers lack them. So Georgian words are eligible only
    with `georgian_mtavruli=True`, and then only for whole-word flips, the way Mtavruli is used.
    """

    mode: str = "mixed"
    georgian_mtavruli: bool = False

    id = "char.case.v1"
    family = "case"
    description = "flip the case of one letter or a whole word in cased scripts (Turkish i and German ß kept right)"
    scripts = ParamScripts(_scripts_of)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in MODES:
            raise ConfigError(f"{self.id}: mode must be one of {list(MODES)}, got {self.mode!r}")

    def ineligible_reason(self) -> str:
        return f"no word with a letter in a cased script ({', '.join(sorted(self.scripts))})"

    def _letter_sites(self, clusters: list[str], turkic: bool) -> list[int]:
        return [i for i, g in enumerate(clusters) if is_letter_cluster(g)
                and cluster_script(g) in LETTER_SCRIPTS and flip_char(g[0], turkic) is not None]

    def _word_flip(self, clusters: list[str], turkic: bool) -> str | None:
        out = list(clusters)
        for i, g in enumerate(clusters):
            if is_letter_cluster(g) and self.supports_script(cluster_script(g)):
                out[i] = _flip_cluster(clusters, i, turkic) or g
        return None if out == clusters else "".join(out)

    def eligible(self, word: str, lang: str) -> bool:
        clusters, turkic = graphemes(word), _is_turkic(lang)
        if self.mode != "word" and self._letter_sites(clusters, turkic):
            return True
        return self.mode != "letter" and self._word_flip(clusters, turkic) is not None

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        clusters, turkic = graphemes(word), _is_turkic(lang)
        letters = self._letter_sites(clusters, turkic) if self.mode != "word" else []
        whole = self._word_flip(clusters, turkic) if self.mode != "letter" else None
        if letters and (whole is None or self.mode == "letter" or rng.random() < 0.5):
            i = pick(letters, rng)
            clusters[i] = _flip_cluster(clusters, i, turkic) or clusters[i]
            return "".join(clusters)
        return whole
