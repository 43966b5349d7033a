"""Insert an invisible format character inside a word, at a boundary between two letter clusters."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.perturbation import PERTURBATIONS, WordEditPerturbation
from harness.text import graphemes, is_letter_cluster

from ._rand import pick
from ._unicode import DEPENDENT, LEADING, char_class

LRM, RLM = "\u200e", "\u200f"
# kind -> character; 'bidi' is LRM or RLM, whichever matches the direction of the letter before it.
INVISIBLE: dict[str, str] = {
    "zwsp": "\u200b",  # ZERO WIDTH SPACE (not whitespace for str.split)
    "zwnj": "\u200c",  # ZERO WIDTH NON-JOINER
    "zwj": "\u200d",  # ZERO WIDTH JOINER
    "shy": "\u00ad",  # SOFT HYPHEN
    "bidi": LRM,
}
_VIRAMA = 9  # canonical combining class of viramas (and other conjunct-forming killers)


def invisible_char(kind: str, before: str) -> str:
    """The character of `kind` to put after the cluster `before`.

    >>> invisible_char("bidi", "a") == LRM, invisible_char("bidi", "ب") == RLM, invisible_char("zwsp", "a")
    (True, True, '\u200b')
    """
    if kind == "bidi":
        return RLM if unicodedata.bidirectional(before[0]) in ("R", "AL") else LRM
    return INVISIBLE[kind]


def slots(clusters: list[str]) -> list[int]:
    """Cluster indices `i` such that an invisible character can go between clusters i-1 and i.

    Both neighbours are letter clusters; a Thai/Lao vowel letter stays with its consonant; and the
    cluster before does not end in a virama, where a joiner or any other character would change how
    the conjunct is drawn.

    >>> slots(list("word")), slots(graphemes("เกม")), slots(graphemes("க்ஷ"))
    ([1, 2, 3], [2], [])
    """
    out = []
    for i in range(1, len(clusters)):
        prev, cur = clusters[i - 1], clusters[i]
        if not (is_letter_cluster(prev) and is_letter_cluster(cur)):
            continue
        if char_class(prev[0]) == LEADING or char_class(cur[0]) == DEPENDENT:
            continue
        if unicodedata.combining(prev[-1]) == _VIRAMA:
            continue
        out.append(i)
    return out


@PERTURBATIONS.register("char.invisible.v1")
@dataclass(frozen=True)
class InvisibleChar(WordEditPerturbation):
    """'hello' -> 'hel\\u200blo' (zero-width space); 'سلام' -> 'سل\\u200fام' (RLM): same look, other tokens.

    `kinds` (a tuple of names, drawn uniformly per insertion): 'zwsp' U+200B, 'zwnj' U+200C,
    'zwj' U+200D, 'shy' soft hyphen U+00AD, 'bidi' LRM U+200E after a left-to-right letter or
    RLM U+200F after a right-to-left one. None of them is whitespace, so the token count is kept;
    ZWJ/ZWNJ are grapheme extenders and join the cluster before them. In cursive scripts
    (Arabic) a ZWNJ does show: it breaks the join, as in real Persian/Urdu typing noise.
    Words need two adjacent letter clusters; any script.
    """

    kinds: tuple[str, ...] = ("zwsp", "zwnj", "zwj", "shy", "bidi")

    id = "char.invisible.v1"
    family = "invisible"
    description = ("insert a zero-width space/joiner/non-joiner, soft hyphen or bidi mark between two letter"
                   " clusters of a word")

    def __post_init__(self) -> None:
        super().__post_init__()
        kinds = tuple(self.kinds) if not isinstance(self.kinds, str) else (self.kinds,)
        object.__setattr__(self, "kinds", kinds)  # a YAML list becomes a tuple: hashable, comparable
        unknown = [k for k in kinds if k not in INVISIBLE]
        if not kinds or unknown:
            raise ConfigError(f"{self.id}: kinds must be a non-empty subset of {sorted(INVISIBLE)}, got {list(kinds)}")

    def eligible(self, word: str, lang: str) -> bool:
        return bool(slots(graphemes(word)))

    def edit_word(self, word: str, rng: random.Random, lang: str) -> str | None:
        clusters = graphemes(word)
        places = slots(clusters)
        if not places:
            return None
        i = pick(places, rng)
        clusters.insert(i, invisible_char(pick(self.kinds, rng), clusters[i - 1]))
        return "".join(clusters)
