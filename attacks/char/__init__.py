"""Character-level, grapheme-safe perturbations; one module per perturbation."""
from . import swap  # noqa: F401
