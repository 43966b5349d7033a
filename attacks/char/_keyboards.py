"""Keyboard layouts shipped in attacks/resources/keyboards: loading (cached) and choice by language/script."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

# Default layout of each script that has one; used when the language has no layout of its own.
SCRIPT_DEFAULT_LAYOUT: dict[str, str] = {
    "Latn": "en", "Cyrl": "ru", "Grek": "el", "Arab": "ar", "Hebr": "he", "Deva": "hi", "Beng": "bn",
    "Taml": "ta", "Telu": "te", "Knda": "kn", "Mlym": "ml", "Gujr": "gu", "Guru": "pa", "Thai": "th",
    "Geor": "ka", "Armn": "hy",
}
LAYOUT_SCRIPTS = frozenset(SCRIPT_DEFAULT_LAYOUT)


def _read(name: str) -> Any:
    res = resources.files("attacks") / "resources" / "keyboards" / name
    return json.loads(res.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def layout_index() -> dict[str, str]:
    """Layout name (file stem, e.g. 'hi', 'tr_f') -> its ISO 15924 script."""
    return {entry["lang"]: entry["script"] for entry in _read("index.json")}


@lru_cache(maxsize=None)
def load_layout(name: str) -> dict[str, Any]:
    """The parsed layout file `<name>.json` (keys, neighbors, script, ...)."""
    return _read(f"{name}.json")


@lru_cache(maxsize=1024)
def lang_layout(lang: str) -> str | None:
    """The layout of a language code, or None: 'hi' -> 'hi', 'pt-BR' -> 'pt', 'zh' -> None.

    >>> lang_layout("pt-BR"), lang_layout("zh")
    ('pt', None)
    """
    index = layout_index()
    code = lang.strip().lower().replace("-", "_")
    if code in index:
        return code
    base = code.split("_", 1)[0]
    return base if base in index else None


@lru_cache(maxsize=4096)
def layout_for(lang: str, script: str) -> str | None:
    """Layout for a word in `script` typed by a `lang` writer: the language's own layout when it
    writes that script, else the script's default layout, else None.

    >>> layout_for("hi", "Deva"), layout_for("mr", "Deva"), layout_for("ne", "Deva"), layout_for("hi", "Latn")
    ('hi', 'mr', 'hi', 'en')
    """
    own = lang_layout(lang)
    if own is not None and layout_index()[own] == script:
        return own
    return SCRIPT_DEFAULT_LAYOUT.get(script)


def layout_chars(name: str) -> tuple[str, ...]:
    """Every non-empty key output of a layout (unshifted and shifted), in key order."""
    return tuple(v for pair in load_layout(name)["keys"].values() for v in pair if v)
