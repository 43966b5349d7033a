"""The code-mixing index (CMI) of Gambäck & Das: how mixed one utterance is, from per-token language tags.

    CMI = 100 × (1 − max_i(w_i) / (n − u))   if n > u
    CMI = 0                                  if n = u

for an utterance of `n` tokens, `u` of them language-independent (tag `univ`: punctuation,
numbers, emoji), and `w_i` tokens in language `i`. 0 means monolingual; with `k` languages the
maximum is 100 × (1 − 1/k) (50 for two languages, 75 for four).

References:
    Björn Gambäck and Amitava Das. 2014. "On Measuring the Complexity of Code-Mixing".
    In Proceedings of the 11th International Conference on Natural Language Processing (ICON 2014),
    1st Workshop on Language Technologies for Indian Social Media, Goa, India.

    Björn Gambäck and Amitava Das. 2016. "Comparing the Level of Code-Switching in Corpora".
    In Proceedings of the 10th International Conference on Language Resources and Evaluation
    (LREC 2016), Portorož, Slovenia.

Only the utterance-level index above is implemented (not the switch-point-weighted C_u or the
corpus-level C_c of the 2016 paper); a corpus or a run cell reports the mean over utterances.

>>> cmi(["en", "en", "hi", "univ"])  # n=4, u=1, max w=2: 100 × (1 − 2/3)
33.333333333333336
>>> cmi(["en", "de", "es", "zh"]), cmi(["en", "en"]), cmi(["univ"]), cmi([])
(75.0, 0.0, 0.0, 0.0)
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Iterable

UNIVERSAL = "univ"
"""The tag of language-independent tokens (no letter: punctuation, numbers, symbols, emoji)."""


def cmi(tags: Iterable[str]) -> float:
    """Code-mixing index (0–100) of one utterance given one language tag per token."""
    tags = list(tags)
    counts = Counter(t for t in tags if t != UNIVERSAL)
    m = sum(counts.values())  # n − u
    if m == 0:
        return 0.0
    # 100 × (m − max w) / m equals 100 × (1 − max w / m) and is exact for round shares (e.g. 50.0)
    return 100.0 * (m - max(counts.values())) / m


def is_universal(token: str) -> bool:
    """True when a token has no letter, so it belongs to no language ('42', '...', '🙂').

    >>> is_universal("2,000"), is_universal("--"), is_universal("C124"), is_universal("नमस्ते")
    (True, True, False, False)
    """
    return not any(unicodedata.category(ch).startswith("L") for ch in token)
