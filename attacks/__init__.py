"""xrobust plugins: perturbations (char/), later code-switching and adversarial search.

Importing this package registers every built-in plugin with the harness registries.
"""
from . import char  # noqa: F401
