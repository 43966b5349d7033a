"""Romanization: non-Latin words written in Latin letters, as people type them (Hinglish, Arabizi, …)."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import cluster_script, graphemes, is_letter_cluster

from ._romanize import KANA, SCHEMES, SCRIPTS, romanize_run


def _run_key(script: str) -> str:
    return "Kana" if script in KANA else script


def _joins_run(cluster: str) -> bool:
    """Common/inherited letters and marks that belong to the script around them (ー, tatweel)."""
    return cluster_script(cluster) in ("Zyyy", "Zinh") and unicodedata.category(cluster[0])[0] in "LM"


@lru_cache(maxsize=1 << 16)
def romanize_word(word: str, lang: str, scheme: str) -> str | None:
    """`word` with every run of a supported script romanized; None when there is none, or when one
    of them cannot be romanized here (then the word is left whole rather than half-romanized).

    >>> romanize_word("नमस्ते!", "hi", "casual"), romanize_word("Привет,", "ru", "casual")
    ('namaste!', 'Privet,')
    """
    runs: list[tuple[int, int, str]] = []  # clusters [a, b) of one script
    clusters = graphemes(word)
    for i, g in enumerate(clusters):
        script = cluster_script(g)
        if script in SCRIPTS:
            key = _run_key(script)
            if runs and runs[-1][1] == i and runs[-1][2] == key:
                runs[-1] = (runs[-1][0], i + 1, key)
            else:
                runs.append((i, i + 1, key))
        elif runs and runs[-1][1] == i and _joins_run(g):
            runs[-1] = (runs[-1][0], i + 1, runs[-1][2])
    runs = [r for r in runs if any(is_letter_cluster(g) for g in clusters[r[0]:r[1]])]
    if not runs:
        return None
    pieces, cursor = [], 0
    for a, b, script in runs:
        new = romanize_run("".join(clusters[a:b]), "Hira" if script == "Kana" else script, lang, scheme)
        if new is None:
            return None
        pieces.append("".join(clusters[cursor:a]))
        pieces.append(new)
        cursor = b
    pieces.append("".join(clusters[cursor:]))
    out = "".join(pieces)
    return out if out != word else None


@PERTURBATIONS.register("char.translit.v1")
@dataclass(frozen=True)
class Romanize(WordEditPerturbation):
    """'नमस्ते दोस्त' -> 'namaste dost'; 'مرحبا' -> 'mr7ba'; 'Привет' -> 'Privet'; '한국어' -> 'hangugeo'.

    Whole words are romanized (the token count is kept; punctuation and Latin letters stay). `scheme`
    picks the romanization of Indic scripts: "casual" (default; ISO 15919 without diacritics plus chat
    conventions, final schwa dropped: 'किताब' -> 'kitab'), "itrans" ('kitAba') or "hk" (Harvard-Kyoto).
    Other scripts always get their casual form: Arabizi for Arabic, pinyin without tones for Chinese
    Han (lang zh only; Japanese kanji are not romanized: no maintained offline reading dictionary under a
    compatible licence), Hepburn-like kana, Revised Romanization for Hangul, and `anyascii` for
    Cyrillic, Greek, Georgian, Armenian and Thai (see attacks/char/_romanize.py). The romanized part is plain ASCII, so no letter or
    combining mark of the source script is left.

    >>> import random; Romanize().perturb("मैं घर जा रहा हूँ", 1.0, random.Random(0), "hi").text
    'main ghar ja raha hun'
    """

    id = "char.translit.v1"
    family = "translit"
    description = "romanize whole non-Latin words as typed on a Latin keyboard (Indic casual/ITRANS/HK, Arabizi, pinyin, romaji, anyascii)"
    scripts = SCRIPTS

    scheme: str = "casual"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.scheme not in SCHEMES:
            raise ConfigError(f"{self.id}: unknown scheme {self.scheme!r}; choose one of {list(SCHEMES)}")

    def eligible(self, word: str, lang: str) -> bool:
        return romanize_word(word, lang, self.scheme) is not None

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        return romanize_word(word, lang, self.scheme)
