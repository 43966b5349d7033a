"""Real-world typos: whole words replaced with misspellings observed in the wild (attacks/resources/typos)."""
from __future__ import annotations

import bisect
import csv
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, PerturbResult, WordEditPerturbation
from harness.text import graphemes, is_letter_cluster, nfc

# language -> ISO 15924 script of its list (lists live in attacks/resources/typos/<lang>.tsv)
TYPO_LANGS: dict[str, str] = {"de": "Latn", "en": "Latn", "es": "Latn", "fr": "Latn", "hi": "Deva", "vi": "Latn"}


@dataclass(frozen=True)
class Typos:
    """The observed typos of one correct word, with cumulative counts for weighted sampling."""

    typos: tuple[str, ...]
    cumulative: tuple[int, ...]

    def sample(self, rng: random.Random) -> str:
        """One typo, drawn with probability proportional to its count (one `rng.random()` draw)."""
        return self.typos[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def list_lang(lang: str) -> str | None:
    """The typo list for a language code: 'de-CH' -> 'de', 'pt' -> None.

    >>> list_lang("de-CH"), list_lang("EN"), list_lang("pt")
    ('de', 'en', None)
    """
    base = lang.strip().lower().replace("-", "_").split("_", 1)[0]
    return base if base in TYPO_LANGS else None


@lru_cache(maxsize=None)
def typo_table(lang: str) -> dict[str, Typos]:
    """lower-cased correct word -> its observed typos (lower-cased), for a language with a list.

    >>> typo_table("hi")["में"].typos[0]
    'मे'
    """
    path = resources.files("attacks") / "resources" / "typos" / f"{lang}.tsv"
    grouped: dict[str, list[tuple[str, int]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        for correct, typo, count in rows:
            grouped.setdefault(correct, []).append((typo, int(count)))
    table = {}
    for correct, items in grouped.items():
        cumulative, total = [], 0
        for _, n in items:
            total += n
            cumulative.append(total)
        table[correct] = Typos(tuple(t for t, _ in items), tuple(cumulative))
    return table


def split_affixes(word: str) -> tuple[str, str, str] | None:
    """(leading punctuation, core from first to last letter cluster, trailing punctuation), or None.

    >>> split_affixes('"Hello,"')
    ('"', 'Hello', ',"')
    """
    clusters = graphemes(word)
    letters = [i for i, g in enumerate(clusters) if is_letter_cluster(g)]
    if not letters:
        return None
    a, b = letters[0], letters[-1] + 1
    return "".join(clusters[:a]), "".join(clusters[a:b]), "".join(clusters[b:])


def case_pattern(core: str) -> str | None:
    """'lower', 'title', 'upper' or None (mixed case like 'iPhone', left alone); caseless scripts are 'lower'."""
    if core == core.lower():
        return "lower"
    rest = core[1:]
    if core[0].isupper() and rest == rest.lower():
        return "title"
    if core == core.upper():
        return "upper"
    return None


def apply_case(typo: str, pattern: str) -> str:
    """`typo` (lower-case) written in the case pattern of the word it replaces."""
    if pattern == "upper":
        return typo.upper()
    if pattern == "title":
        return typo[:1].upper() + typo[1:]
    return typo


@PERTURBATIONS.register("char.realtypo.v1")
@dataclass(frozen=True)
class RealTypo(WordEditPerturbation):
    """'Where do you know' -> 'Where do you konw'; 'घर में' -> 'घर मे'; 'Gemeinde,' -> 'Gemdeinde,'.

    Words are matched lower-case against the observed typo list of the text's language
    (attacks/resources/typos: de, en, es, fr, hi, vi); a typo is drawn weighted by how often it was
    observed, written in the word's capitalisation (lower, Title, UPPER; mixed-case words are left
    alone), and punctuation attached to the word is kept. Other languages are not applicable
    (applied=False, reason "no typo list for <lang>").

    >>> import random; RealTypo().perturb("Ich kenne die Gemeinde.", 1.0, random.Random(3), "de").text
    'Ich kenne die Gemdeinde.'
    """

    id = "char.realtypo.v1"
    family = "realtypo"
    description = "replace whole words with misspellings observed in real text (per-language typo lists, weighted by count)"
    scripts = frozenset(TYPO_LANGS.values())

    def __post_init__(self) -> None:
        if self.edits_per_word != 1:  # a whole word is replaced once; a second draw could undo the first
            raise ConfigError(f"{self.id}: edits_per_word must be 1, got {self.edits_per_word}")

    def perturb(self, text: str, severity: float, rng: random.Random, lang: str = "und") -> PerturbResult:
        if 0.0 <= severity <= 1.0 and list_lang(lang) is None:
            return PerturbResult(nfc(text), False, 0, 0, 0.0, reason=f"no typo list for {lang}")
        return super().perturb(text, severity, rng, lang)

    @staticmethod
    def _entry(word: str, lang: str) -> tuple[str, str, str, Typos] | None:
        code = list_lang(lang)
        parts = split_affixes(word) if code else None
        if parts is None:
            return None
        pre, core, post = parts
        pattern = case_pattern(core)
        typos = typo_table(code).get(core.lower()) if pattern else None
        if typos is None:
            return None
        return pre, post, pattern, typos

    def eligible(self, word: str, lang: str) -> bool:
        return self._entry(word, lang) is not None

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        entry = self._entry(word, lang)
        if entry is None:
            return None
        pre, post, pattern, typos = entry
        return pre + apply_case(typos.sample(rng), pattern) + post
