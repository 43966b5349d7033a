"""Data files shipped inside the harness package, read with importlib.resources.

`lexicons/` holds the English→X word lexicons (sources and licences: `lexicons/README.md`) used by
the demo model builder and by the code-switching perturbations.

>>> "hi" in lexicon_languages() and "zh" in lexicon_languages()
True
>>> lexicon("de")["house"]
('haus',)
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Mapping

from harness.errors import ConfigError, DataError

LEXICON_DIR = resources.files(__name__).joinpath("lexicons")
"""The lexicon folder (a `pathlib.Path` for an installed, unzipped package)."""


@lru_cache(maxsize=1)
def lexicon_languages() -> tuple[str, ...]:
    """Target language codes that have a shipped `en-<code>.tsv` lexicon, sorted."""
    names = (p.name for p in LEXICON_DIR.iterdir())
    return tuple(sorted(n[3:-4] for n in names if n.startswith("en-") and n.endswith(".tsv")))


@lru_cache(maxsize=None)
def lexicon(lang: str) -> Mapping[str, tuple[str, ...]]:
    """The English→`lang` lexicon as a read-only {english word: translations (NFC, file order)}."""
    if lang not in lexicon_languages():
        raise ConfigError(f"no English→{lang!r} lexicon; available: {', '.join(lexicon_languages())}")
    name = f"en-{lang}.tsv"
    try:
        text = LEXICON_DIR.joinpath(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{name}: cannot read lexicon ({exc})") from exc
    out: dict[str, list[str]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise DataError(f"{name}:{lineno}: expected 'english<TAB>translation'")
        out.setdefault(parts[0], []).append(unicodedata.normalize("NFC", parts[1]))
    return MappingProxyType({k: tuple(v) for k, v in out.items()})
