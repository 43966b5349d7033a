"""nlpaug behind xrobust's Perturbation contract: lazy import, seeded global RNG, script-safe tokens.

**The one sanctioned exception to "randomness is an argument, never global" (DESIGN rule 1).**
nlpaug draws from the global `random` and `numpy.random` states. `seeded_global_rng(seed)` seeds
both from the example's own RNG, runs nlpaug, and restores both states afterwards, under a lock, so
results depend only on the example's keys and code outside this package sees no change. This
module is the only place in harness/ and attacks/ that touches global RNG state.

Script safety. nlpaug edits code points, so it would split a grapheme cluster (a Devanagari matra, an
Arabic haraka, a Thai vowel sign). Only *safe tokens* reach it: whitespace tokens whose every grapheme
cluster is a single code point that is not a mark, a Thai/Lao vowel letter or a control/format
character, with at least one letter in a supported script. Unsafe tokens are passed as nlpaug
stopwords, so they are never edited; text is split with `str.split` and re-joined with
`" ".join`, then each edited token is spliced back into the original text, which stays
byte-identical outside the edited tokens.
"""
from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import unicodedata
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator

from harness.errors import ConfigError
from harness.text import LEADING, DEPENDENT, MARK, char_class, char_script, graphemes

INSTALL_HINT = "install xrobust[nlpaug] (pip install 'nlpaug==1.1.11')"

# Scripts written with combining marks or vowel signs as a rule: nlpaug cannot edit their words
# without splitting clusters (measured on the XNLI demo data: see benchmarks/README.md).
CLUSTER_SCRIPTS = frozenset({
    "Deva", "Beng", "Taml", "Telu", "Knda", "Mlym", "Gujr", "Guru", "Orya", "Sinh", "Thai", "Laoo",
    "Khmr", "Mymr", "Tibt", "Thaa", "Syrc",
})
# Scripts whose ordinary text is single code points per cluster (NFC), spaced, with a keyboard layout.
SAFE_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Hebr", "Arab", "Geor", "Armn"})

_LOCK = threading.RLock()


def nlpaug_char() -> Any:
    """`nlpaug.augmenter.char`, imported on first use (it costs ~2-4 s); ConfigError when missing."""
    try:
        import nlpaug.augmenter.char as nac
    except ImportError:
        raise ConfigError(f"nlpaug is not installed: {INSTALL_HINT}") from None
    return nac


@contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed `random` and `numpy.random` with `seed` for the block, then restore both states.

    >>> import random
    >>> before = random.getstate()
    >>> with seeded_global_rng(7):
    ...     a = random.random()
    >>> with seeded_global_rng(7):
    ...     b = random.random()
    >>> a == b and random.getstate() == before
    True
    """
    import numpy as np

    with _LOCK:  # the states are process-global: one seeded block at a time
        py_state = random.getstate()
        np_state = np.random.get_state()
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


@lru_cache(maxsize=1 << 16)
def token_status(token: str, scripts: frozenset[str]) -> str:
    """'ok' for a token nlpaug may edit; 'cluster' when nlpaug would split a cluster or vowel sign
    out of it; 'script' when it has no letter in `scripts` (or a letter of another script).

    >>> s = frozenset({"Latn", "Cyrl"})
    >>> token_status("hello,", s), token_status("नमस्ते", s), token_status("घर", s), token_status("123", s)
    ('ok', 'cluster', 'script', 'script')
    >>> token_status("q\u0303ue", s), token_status("мир", s)
    ('cluster', 'ok')
    """
    has_letter = False
    foreign = False
    for g in graphemes(token):
        if len(g) > 1:
            return "cluster"
        cls = char_class(g)
        if cls in (MARK, LEADING, DEPENDENT):
            return "cluster"
        if unicodedata.category(g)[0] == "C":  # controls, format characters (ZWJ, ZWNJ, bidi marks)
            return "cluster"
        if cls is not None:
            if char_script(g) in scripts:
                has_letter = True
            else:
                foreign = True
    return "ok" if has_letter and not foreign else "script"


def refusal_reason(pid: str, text: str, dominant: str, statuses: list[str], scripts: frozenset[str]) -> str:
    """Why no token of `text` could be given to nlpaug."""
    if dominant in CLUSTER_SCRIPTS or (dominant in scripts and "cluster" in statuses):
        return f"nlpaug splits grapheme clusters in {dominant}"
    if dominant not in scripts and dominant != "Zyyy":
        return f"{pid} does not support {dominant} (supported: {', '.join(sorted(scripts))})"
    return "no eligible word"


# --------------------------------------------------------------------------- keyboards

@lru_cache(maxsize=1)
def _nlpaug_keyboards() -> frozenset[str]:
    from nlpaug.util import LibraryUtil

    folder = os.path.join(LibraryUtil.get_res_dir(), "char", "keyboard")
    return frozenset(f[:-5] for f in os.listdir(folder) if f.endswith(".json"))


_TMP: tempfile.TemporaryDirectory | None = None


def _model_dir() -> str:
    global _TMP
    if _TMP is None:  # removed when the interpreter exits
        _TMP = tempfile.TemporaryDirectory(prefix="xrobust-nlpaug-")
    return _TMP.name


def layout_map(layout: str) -> dict[str, list[str]]:
    """nlpaug's keyboard format for one of our layouts: unshifted key -> neighbouring unshifted keys,
    without marks, vowel signs or multi-character keys (nlpaug adds the upper-case forms).

    >>> layout_map("ru")["ф"][:2]
    ['ы', 'й']
    """
    from attacks.char._keyboards import load_layout

    kb = load_layout(layout)
    unshifted = [pair[0] for pair in kb["keys"].values() if pair[0]]
    out: dict[str, list[str]] = {}
    for ch in unshifted:
        if not _plain(ch):
            continue
        cands = [n for n in kb["neighbors"].get(ch, []) if _plain(n) and n != ch and n in unshifted]
        if cands:
            out[ch] = cands
    return out


def _plain(ch: str) -> bool:
    return len(ch) == 1 and not ch.isspace() and char_class(ch) not in (MARK, LEADING, DEPENDENT) \
        and unicodedata.category(ch)[0] != "C"


@lru_cache(maxsize=None)
def keyboard_model(layout: str) -> tuple[str, str]:
    """(`lang`, `model_path`) for KeyboardAug: nlpaug's own map when it ships one for `layout`,
    else our layout converted to nlpaug's format in a temporary file."""
    if layout in _nlpaug_keyboards():
        from nlpaug.util import LibraryUtil

        return layout, os.path.join(LibraryUtil.get_res_dir(), "char", "keyboard", f"{layout}.json")
    path = os.path.join(_model_dir(), f"{layout}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(layout_map(layout), f, ensure_ascii=False)
    return layout, path
