"""Drawing from the example's own RNG."""
from __future__ import annotations

import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def pick(seq: Sequence[T], rng: random.Random) -> T:
    """One element of a non-empty `seq`, uniformly; one `rng.random()` draw (cheaper than `rng.choice`)."""
    return seq[int(rng.random() * len(seq))]
