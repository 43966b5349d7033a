"""Paired statistics: metrics on integer label arrays and paired bootstrap confidence intervals."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def accuracy(y: np.ndarray, p: np.ndarray) -> float:
    """Share of exact matches (NaN on empty input).

    >>> accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]))
    0.6666666666666666
    """
    return float(_accuracy_rows(np.atleast_2d(y), np.atleast_2d(p))[0]) if len(y) else float("nan")


def macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in labels or predictions (as scikit-learn).

    >>> round(macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])), 4)
    0.7333
    """
    return float(_macro_f1_rows(np.atleast_2d(y), np.atleast_2d(p))[0]) if len(y) else float("nan")


def _accuracy_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (y == p).mean(axis=1)


def _macro_f1_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    classes = np.union1d(np.unique(y), np.unique(p))
    total = np.zeros(y.shape[0])
    present = np.zeros(y.shape[0])
    for c in classes:
        yc, pc = y == c, p == c
        tp = (yc & pc).sum(axis=1)
        denom = yc.sum(axis=1) + pc.sum(axis=1)  # = 2tp + fp + fn
        has = denom > 0
        total += np.where(has, 2 * tp / np.maximum(denom, 1), 0.0)
        present += has
    return total / np.maximum(present, 1)


ROW_METRICS: dict[str, MetricFn] = {"accuracy": _accuracy_rows, "macro_f1": _macro_f1_rows}


@dataclass(frozen=True)
class PairedCI:
    """Bootstrap CIs of a perturbed value and of its direction-aware drop from the clean value."""

    value_low: float
    value_high: float
    drop_low: float
    drop_high: float


def bootstrap_indices(n: int, samples: int, seed: int) -> np.ndarray:
    """`samples` resamples of range(n) with replacement, from a private generator."""
    rng = np.random.Generator(np.random.PCG64(seed))
    return rng.integers(0, n, size=(samples, n), dtype=np.int32)


def paired_bootstrap(
    metric: str,
    y: np.ndarray,
    p_clean: np.ndarray,
    p_pert: np.ndarray,
    *,
    higher_is_better: bool = True,
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    idx: np.ndarray | None = None,
) -> PairedCI:
    """Percentile CIs from the same resampled examples for clean and perturbed predictions.

    The drop is `clean - perturbed` when higher is better, else `perturbed - clean`, so a positive
    drop always means degradation.
    """
    n = len(y)
    if n == 0:
        nan = float("nan")
        return PairedCI(nan, nan, nan, nan)
    fn = ROW_METRICS[metric]
    if idx is None:
        idx = bootstrap_indices(n, samples, seed)
    yb = y[idx]
    clean = fn(yb, p_clean[idx])
    pert = fn(yb, p_pert[idx])
    drop = clean - pert if higher_is_better else pert - clean
    alpha = (1.0 - confidence) / 2
    q = [alpha, 1.0 - alpha]
    v_lo, v_hi = np.quantile(pert, q)
    d_lo, d_hi = np.quantile(drop, q)
    return PairedCI(float(v_lo), float(v_hi), float(d_lo), float(d_hi))
