"""Optional engine: nlpaug's character augmenters behind the Perturbation contract (`xrobust[nlpaug]`).

Importing this package registers `nlpaug.keyboard.v1`, `nlpaug.ocr.v1` and `nlpaug.random_char.v1`
without importing nlpaug itself; nlpaug is imported on the first `perturb` call, which raises
ConfigError("... install xrobust[nlpaug]") when it is missing. `_engine.py` holds the one sanctioned
use of global RNG state in xrobust (nlpaug draws from `random`/`numpy.random`).
"""
from . import perturbations  # noqa: F401  (registers the perturbations)
