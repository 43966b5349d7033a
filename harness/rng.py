"""Per-example random number generators derived from stable keys (never global state)."""
from __future__ import annotations

import hashlib
import random


def derive_seed(*keys: object) -> int:
    """Stable 64-bit seed from any printable keys.

    >>> derive_seed(0, "char.swap.v1", 0.1, "ex-1", "premise") == derive_seed(0, "char.swap.v1", 0.1, "ex-1", "premise")
    True
    """
    material = "\x1f".join(_canonical(k) for k in keys).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big")


def derive_rng(*keys: object) -> random.Random:
    """A private `random.Random` seeded from `keys` (seed, perturbation id, severity, example id, field)."""
    return random.Random(derive_seed(*keys))


def _canonical(key: object) -> str:
    # floats are written with repr so 0.1 and 0.10000001 differ but 0.1 is always "0.1"
    if isinstance(key, float):
        return repr(key)
    return str(key)
