"""Paired statistics: metrics on integer label arrays and paired bootstrap confidence intervals.

Every task metric is a function of *sums of per-example statistics* (accuracy: correct / 1; macro-F1:
per-class tp, gold and predicted counts; entity F1: tp, predicted and gold entities; token accuracy:
correct and total tokens; QA: EM, F1, 1). A bootstrap resample is then a vector of draw counts per
example, and the resampled sums of all B resamples are one matrix product `counts @ stats`.
"""
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


SumsMetricFn = Callable[[np.ndarray], np.ndarray]  # sums (..., k) -> metric values (...)


def bootstrap_counts(idx: np.ndarray) -> np.ndarray:
    """Draw counts per example for each resample: (B, n) float64, rows sum to n.

    >>> bootstrap_counts(np.array([[0, 0, 2], [1, 2, 2]])).tolist()
    [[2.0, 0.0, 1.0], [0.0, 1.0, 2.0]]
    """
    samples, n = idx.shape
    counts = np.zeros((samples, n))
    np.add.at(counts, (np.repeat(np.arange(samples), n), idx.reshape(-1)), 1.0)
    return counts


def paired_bootstrap_sums(
    fn: SumsMetricFn,
    stats_clean: np.ndarray,
    stats_pert: np.ndarray,
    counts: np.ndarray,
    *,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> PairedCI:
    """Percentile CIs of a perturbed value and its drop, from per-example statistics (n, k) and the
    draw counts (B, n) of one shared resample set; `fn` maps summed statistics to the metric."""
    if stats_clean.shape[0] == 0:
        nan = float("nan")
        return PairedCI(nan, nan, nan, nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        clean = fn(counts @ stats_clean)
        pert = fn(counts @ stats_pert)
    drop = clean - pert if higher_is_better else pert - clean
    return _percentiles(pert, drop, confidence)


def _percentiles(pert: np.ndarray, drop: np.ndarray, confidence: float) -> PairedCI:
    alpha = (1.0 - confidence) / 2
    q = [alpha, 1.0 - alpha]
    ok_p, ok_d = pert[~np.isnan(pert)], drop[~np.isnan(drop)]
    nan = float("nan")
    v_lo, v_hi = np.quantile(ok_p, q) if len(ok_p) else (nan, nan)
    d_lo, d_hi = np.quantile(ok_d, q) if len(ok_d) else (nan, nan)
    return PairedCI(float(v_lo), float(v_hi), float(d_lo), float(d_hi))


def ratio(num: int, den: int) -> SumsMetricFn:
    """Metric = sums[num] / sums[den] (accuracy, token accuracy, mean EM/F1); NaN when the denominator is 0.

    >>> ratio(0, 1)(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [0.75, nan]
    """
    def fn(sums: np.ndarray) -> np.ndarray:
        d = sums[..., den]
        return np.where(d > 0, sums[..., num] / np.where(d > 0, d, 1.0), np.nan)
    return fn


def f1_from_counts(tp: int, n_pred: int, n_gold: int) -> SumsMetricFn:
    """Micro F1 = 2tp / (pred + gold) from summed counts (seqeval's entity F1); 0 when both are 0.

    >>> f1_from_counts(0, 1, 2)(np.array([1.0, 2.0, 2.0])).item()
    0.5
    """
    def fn(sums: np.ndarray) -> np.ndarray:
        den = sums[..., n_pred] + sums[..., n_gold]
        return np.where(den > 0, 2 * sums[..., tp] / np.where(den > 0, den, 1.0), 0.0)
    return fn


def macro_f1_from_counts(n_classes: int) -> SumsMetricFn:
    """Macro-F1 from summed one-hot statistics laid out [gold (C) | pred (C) | tp (C)]; classes with no gold
    and no prediction in the sample are left out, as scikit-learn's default does."""
    c = n_classes

    def fn(sums: np.ndarray) -> np.ndarray:
        gold, pred, tp = sums[..., :c], sums[..., c:2 * c], sums[..., 2 * c:3 * c]
        den = gold + pred
        has = den > 0
        f1 = np.where(has, 2 * tp / np.where(has, den, 1.0), 0.0)
        return f1.sum(axis=-1) / np.maximum(has.sum(axis=-1), 1)
    return fn


def classification_stats(y: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-example statistics [correct, 1, gold one-hot (C), pred one-hot (C), tp one-hot (C)]."""
    n = len(y)
    eye = np.eye(n_classes)
    gold, pred = eye[y] if n else np.zeros((0, n_classes)), eye[p] if n else np.zeros((0, n_classes))
    correct = (y == p).astype(float)[:, None]
    return np.hstack([correct, np.ones((n, 1)), gold, pred, gold * pred])


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


# --- paired tests between two runs on the identical items (gate, compare) -------------------------------------


@dataclass(frozen=True)
class PairedDiff:
    """A direction-aware paired difference (positive = the second run is worse), its percentile CI and a
    two-sided bootstrap p-value."""

    delta: float
    ci_low: float
    ci_high: float
    p_value: float


_EXACT_SIGN_TEST_MAX_N = 5000


def sign_test(n_pos: int, n_neg: int) -> float:
    """Exact two-sided sign test: p = min(1, 2·P(X ≤ min(n_pos, n_neg))), X ~ Binomial(n_pos + n_neg, 1/2).

    With no non-zero pairs there is no evidence of a difference: p = 1.0 (defined, not NaN).

    >>> sign_test(1, 9)  # 2 · (1 + 10) / 1024
    0.021484375
    >>> sign_test(0, 0)
    1.0
    """
    if n_pos < 0 or n_neg < 0:
        raise ValueError(f"counts must be >= 0, got {n_pos}, {n_neg}")
    n, k = n_pos + n_neg, min(n_pos, n_neg)
    if n == 0 or 2 * k == n:
        return 1.0
    if n <= _EXACT_SIGN_TEST_MAX_N:  # exact integer arithmetic: the hand-checkable values are exact
        c, total = 1, 1
        for i in range(k):
            c = c * (n - i) // (i + 1)
            total += c
        tail = total / 2 ** n
    else:  # log C(n, i) by the running product C(n, i+1) = C(n, i)·(n-i)/(i+1): no huge integers
        i = np.arange(k, dtype=float)
        log_c = np.concatenate([[0.0], np.cumsum(np.log(n - i) - np.log(i + 1))])
        top = log_c.max()
        tail = float(np.exp(top + np.log(np.exp(log_c - top).sum()) - n * np.log(2.0)))
    return float(min(1.0, 2.0 * tail))


def mcnemar_exact(ref_correct: np.ndarray, new_correct: np.ndarray) -> float:
    """Exact McNemar p-value for paired binary outcomes of two runs on the same items: the sign test on the
    discordant pairs (ref right & new wrong vs ref wrong & new right); 1.0 when there are none.

    >>> mcnemar_exact(np.array([1, 1, 1, 0]), np.array([0, 0, 0, 0]))  # 3 vs 0 discordant: 2 / 8
    0.25
    """
    a, b = np.asarray(ref_correct, dtype=bool), np.asarray(new_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired outcomes need the same shape, got {a.shape} and {b.shape}")
    return sign_test(int((a & ~b).sum()), int((~a & b).sum()))


def bootstrap_p_value(replicates: np.ndarray) -> float:
    """Two-sided p-value of "difference = 0" from bootstrap replicates of the difference, by inverting the
    percentile interval: min(1, 2·(1 + #{on the far side of 0}) / (B + 1)); 1.0 when every replicate is 0.

    >>> bootstrap_p_value(np.array([0.1, 0.2, 0.3]))  # none <= 0: 2 · 1 / 4
    0.5
    """
    r = np.asarray(replicates, dtype=float)
    r = r[~np.isnan(r)]
    if len(r) == 0:
        return float("nan")
    far = min(int((r <= 0).sum()), int((r >= 0).sum()))
    return float(min(1.0, 2.0 * (far + 1) / (len(r) + 1)))


def paired_bootstrap_diff(
    fn: SumsMetricFn,
    stats_ref: np.ndarray,
    stats_new: np.ndarray,
    counts: np.ndarray,
    *,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> PairedDiff:
    """Difference of a metric between two runs on the same items (rows of `stats_ref`/`stats_new` are the
    same examples): each resample (draw counts (B, n)) recomputes the metric for both runs from summed
    per-example statistics, so the difference keeps the pairing. `delta` = ref − new when higher is
    better, new − ref otherwise (positive = `new` is worse)."""
    if stats_ref.shape != stats_new.shape:
        raise ValueError(f"paired statistics need the same shape, got {stats_ref.shape} and {stats_new.shape}")
    nan = float("nan")
    if stats_ref.shape[0] == 0:
        return PairedDiff(nan, nan, nan, nan)
    sign = 1.0 if higher_is_better else -1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = sign * float(fn(stats_ref.sum(axis=0)) - fn(stats_new.sum(axis=0)))
        reps = sign * (fn(counts @ stats_ref) - fn(counts @ stats_new))
    ok = reps[~np.isnan(reps)]
    a = (1.0 - confidence) / 2
    lo, hi = np.quantile(ok, [a, 1 - a]) if len(ok) else (nan, nan)
    return PairedDiff(delta, float(lo), float(hi), bootstrap_p_value(reps))


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1); NaN entries stay NaN and do
    not count among the m hypotheses. Reject where adjusted p < alpha.

    >>> holm([0.01, 0.04, 0.03]).tolist()  # sorted 0.01·3, max(0.03·2, 0.03), max(0.04·1, 0.06)
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
