"""Character-level, grapheme-safe perturbations; one module per perturbation."""
from . import delete, homoglyph, insert, keyboard, substitute, swap  # noqa: F401
