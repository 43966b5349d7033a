"""OCR-like confusion: one character is misread as a look-alike of the same script."""
from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import regex

from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, char_script, dominant_script, graphemes, is_letter_cluster, nfc

from ._keyboards import lang_layout, layout_chars, layout_index
from ._rand import pick
from ._scripts import ParamScripts
from ._unicode import LETTER, MARK, char_class

# Groups of same_script_confusables.json -> ISO 15924. 'DIGIT' is left out: its look-alikes are
# digits of other scripts (1 -> Arabic-Indic ۱), not same-script confusions.
_GROUP_SCRIPT = {
    "ARABIC": "Arab", "ARMENIAN": "Armn", "BENGALI": "Beng", "CJK": "Hani", "CYRILLIC": "Cyrl",
    "GREEK": "Grek", "HANGUL": "Hang", "HEBREW": "Hebr", "KANNADA": "Knda", "LATIN": "Latn",
    "MALAYALAM": "Mlym", "MYANMAR": "Mymr", "ORIYA": "Orya", "SINHALA": "Sinh", "TAMIL": "Taml",
    "TELUGU": "Telu", "THAI": "Thai", "TIBETAN": "Tibt",
}
_DIGIT = "D"
_JAMO = regex.compile(r"[\p{HST=L}\p{HST=V}\p{HST=T}]")  # conjoining jamo never stand alone in NFC text

Table = dict[tuple[str, str], tuple[str, ...]]  # (script, char) -> look-alikes
Plan = tuple[tuple[int, tuple[str, ...]], ...]  # (code-point index in the word, look-alikes)


def _read(name: str) -> dict:
    return json.loads((resources.files("attacks") / "resources" / "ocr" / name).read_text(encoding="utf-8"))


def _kind(ch: str) -> str | None:
    """Letter class of `ch` ('L', 'M', 'V', 'VL'), 'D' for a decimal digit, None otherwise."""
    return _DIGIT if unicodedata.category(ch) == "Nd" else char_class(ch)


def _in_script(ch: str, script: str) -> bool:
    own = char_script(ch)
    return own == script or (own == "Zinh" and _kind(ch) == MARK) or (own == "Zyyy" and _kind(ch) == _DIGIT)


def _single_ok(src: str, dst: str, script: str) -> bool:
    """A one-character confusion that keeps the text well-formed: same script, same letter class
    (a letter may become a digit and back, checked per cluster later), no conjoining jamo."""
    if len(src) != 1 or len(dst) != 1 or src == dst or nfc(src) != src or nfc(dst) != dst:
        return False
    if _JAMO.match(src) or _JAMO.match(dst) or not (_in_script(src, script) and _in_script(dst, script)):
        return False
    a, b = _kind(src), _kind(dst)
    if a is None or b is None or (a != b and {a, b} != {LETTER, _DIGIT}):
        return False
    return (unicodedata.category(src) == "Lm") == (unicodedata.category(dst) == "Lm")


def _multi_ok(src: str, dst: str, script: str) -> bool:
    """A letter that looks like a same-script sequence starting with a letter ('m' -> 'rn', 'आ' -> 'अा')."""
    if len(src) != 1 or len(dst) < 2 or nfc(dst) != dst or char_class(src) != LETTER or _JAMO.match(src):
        return False
    if char_class(dst[0]) != LETTER or not _in_script(src, script):
        return False
    return all(_in_script(c, script) and char_class(c) is not None and not _JAMO.match(c) for c in dst)


@lru_cache(maxsize=1024)
def written_chars(script: str, lang: str = "und") -> frozenset[str] | None:
    """The characters people write in `script`: those on the language's own keyboard layout when it
    writes that script, else on every shipped layout of the script; None when the script has none.

    >>> "ے" in written_chars("Arab", "ur"), "ے" in written_chars("Arab", "ar"), written_chars("Hani")
    (True, False, None)
    """
    own = lang_layout(lang)
    names = [own] if own is not None and layout_index()[own] == script else \
        [name for name, s in layout_index().items() if s == script]
    return frozenset(c for name in names for key in layout_chars(name) for c in key) if names else None


def _common(script: str, dst: str, common_only: bool, lang: str = "und") -> bool:
    """Whether `dst` is written in `script` (by a `lang` writer): an OCR engine outputs the characters
    of the language it reads, not rare look-alikes; scripts without a layout keep every look-alike."""
    chars = written_chars(script, lang) if common_only else None
    return chars is None or all(c in chars for c in dst)


def _freeze(pairs: dict[tuple[str, str], set[str]]) -> Table:
    return {k: tuple(sorted(v)) for k, v in sorted(pairs.items()) if v}


@lru_cache(maxsize=2)
def single_table(common_only: bool = True) -> Table:
    """(script, char) -> one-character look-alikes: the same-script Unicode confusables plus, for Latin,
    nlpaug's English OCR map used both ways.

    >>> single_table()[("Latn", "o")], single_table()[("Thai", "ข")], single_table()[("Hani", "土")]
    (('0', 'u'), ('ฃ',), ('士',))
    >>> single_table(common_only=False)[("Latn", "o")]
    ('0', 'u', 'ᴏ', 'ᴑ', 'ꬽ')
    """
    pairs: dict[tuple[str, str], set[str]] = {}
    for group, entries in _read("same_script_confusables.json")["scripts"].items():
        script = _GROUP_SCRIPT.get(group)
        for src, dsts in entries.items() if script else ():
            pairs.setdefault((script, src), set()).update(
                d for d in dsts if _single_ok(src, d, script) and _common(script, d, common_only))
    for src, dsts in _read("nlpaug_en.json").items():
        for dst in dsts:
            for a, b in ((src, dst), (dst, src)):
                if _single_ok(a, b, "Latn"):
                    pairs.setdefault(("Latn", a), set()).add(b)
    return _freeze(pairs)


@lru_cache(maxsize=2)
def multi_table(common_only: bool = True) -> Table:
    """(script, letter) -> same-script multi-character look-alikes.

    >>> multi_table()[("Latn", "m")], multi_table()[("Deva", "आ")]
    (('rn',), ('अा',))
    """
    pairs: dict[tuple[str, str], set[str]] = {}
    for src, dsts in _read("same_script_confusables.json")["multichar"].items():
        script = char_script(src)
        pairs.setdefault((script, src), set()).update(
            d for d in dsts if _multi_ok(src, d, script) and _common(script, d, common_only))
    return _freeze(pairs)


@lru_cache(maxsize=4)
def ocr_scripts(multichar: bool, common_only: bool = True) -> frozenset[str]:
    """ISO 15924 codes of the scripts with at least one look-alike (whose letters can be misread)."""
    tables = (single_table(common_only), multi_table(common_only)) if multichar else (single_table(common_only),)
    return frozenset(script for table in tables for script, _ in table)


def _scripts_of(p: object | None) -> frozenset[str]:
    if p is None:
        return ocr_scripts(True, False)
    return ocr_scripts(p.multichar, p.common_only)  # type: ignore[attr-defined]


def _fits(cluster: str, j: int, new: str) -> bool:
    """Whether code point `j` of `cluster` can become `new`: the cluster stays NFC-stable, and a digit
    only replaces (or is replaced by) a letter standing alone, never one carrying marks."""
    if (_kind(new[0]) == _DIGIT or _kind(cluster[j]) == _DIGIT) and len(cluster) > 1:
        return False
    out = cluster[:j] + new + cluster[j + 1:]
    return nfc(out) == out


@lru_cache(maxsize=1 << 16)
def ocr_plan(word: str, lang: str, multichar: bool, common_only: bool = True) -> Plan:
    """(code-point index, look-alikes) for each character of `word` that can be misread.

    A character is looked up under the script of its cluster; digits under the word's dominant script.
    With `common_only`, look-alikes are characters a `lang` writer uses (see `written_chars`).

    >>> ocr_plan("mod", "en", False), ocr_plan("mod", "en", True)
    (((1, ('0', 'u')),), ((0, ('rn',)), (1, ('0', 'u'))))
    >>> ocr_plan("سامي", "ar", False), ocr_plan("سامي", "ur", False)
    (((3, ('ى',)),), ((3, ('ں', 'ی', 'ے')),))
    """
    single, multi = single_table(common_only), multi_table(common_only)
    fallback = dominant_script(word)
    plan = []
    pos = 0
    for g in graphemes(word):
        script = cluster_script(g) if is_letter_cluster(g) else fallback
        for j, ch in enumerate(g):
            cands = single.get((script, ch), ())
            if multichar:
                cands += multi.get((script, ch), ())
            ok = tuple(c for c in cands if _fits(g, j, c) and _common(script, c, common_only, lang))
            if ok:
                plan.append((pos + j, ok))
        pos += len(g)
    return tuple(plan)


@PERTURBATIONS.register("char.ocr.v1")
@dataclass(frozen=True)
class OcrConfusion(WordEditPerturbation):
    """'modern' -> 'mudern' ('o' misread as 'u'); 'ดี' -> 'คี'; '土地' -> '士地'; with multichar 'modern' -> 'rnodern'.

    Look-alikes come from attacks/resources/ocr: same-script Unicode confusables (every script with
    entries: Latin, Cyrillic, Greek, Arabic, Hebrew, Thai, Han, Tamil, Malayalam, ...) and, for Latin,
    nlpaug's English OCR map (o <-> 0, l <-> 1, r <-> k, ...). A replacement keeps the script and the
    letter class of the original (letter -> letter, vowel sign -> vowel sign); a digit only swaps with a
    letter that stands alone. `multichar=True` adds one-to-many look-alikes ('m' -> 'rn',
    'आ' -> 'अा', 'ஊ' -> 'உள'), which also reach Devanagari, Bengali, Gurmukhi, Gujarati, Telugu, ....
    `common_only=True` (default) keeps only look-alikes a writer of the language uses (characters on
    its keyboard layout, else on any layout of the script): an OCR engine outputs its language's
    characters, so 'o' -> 'u' or '0' but not the IPA small capital 'ᴏ', and Arabic 'ي' -> 'ى' but
    not Urdu 'ے'. Scripts without a layout (Han, Myanmar, Sinhala, ...) keep every look-alike.
    Hangul has no usable entry (the table only pairs conjoining jamo), so Korean is not eligible.
    """

    multichar: bool = False
    common_only: bool = True

    id = "char.ocr.v1"
    family = "ocr"
    description = ("replace one character with a same-script look-alike an OCR engine confuses it with"
                   " (m -> rn with multichar)")
    scripts = ParamScripts(_scripts_of)  # type: ignore[assignment]

    def ineligible_reason(self) -> str:
        return "no word with a character that has a same-script OCR look-alike"

    def eligible(self, word: str, lang: str) -> bool:
        return super().eligible(word, lang) and bool(ocr_plan(word, lang, self.multichar, self.common_only))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        plan = ocr_plan(word, lang, self.multichar, self.common_only)
        if not plan:
            return None
        i, cands = pick(plan, rng)
        return word[:i] + pick(cands, rng) + word[i + 1:]
