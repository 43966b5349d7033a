"""Paired tests between two runs: exact McNemar / sign test (zero disagreements defined), Holm–Bonferroni on
hand-computed cases, the paired bootstrap of a difference (direction, p-value, coverage and size in seeded
simulations)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from harness.stats import (bootstrap_counts, bootstrap_indices, bootstrap_p_value, holm, mcnemar_exact,
                           paired_bootstrap_diff, ratio, sign_test)


def _mean_stats(scores: np.ndarray) -> np.ndarray:
    return np.column_stack([scores, np.ones_like(scores)])


def _counts(n: int, samples: int, seed: int) -> np.ndarray:
    return bootstrap_counts(bootstrap_indices(n, samples, seed))


# --- McNemar / sign test ----------------------------------------------------------------------------------------


def test_mcnemar_with_zero_disagreements_is_one():
    same = np.array([1, 0, 1, 1, 0], dtype=bool)
    assert mcnemar_exact(same, same.copy()) == 1.0
    assert mcnemar_exact(np.zeros(0, bool), np.zeros(0, bool)) == 1.0  # no items at all: still defined
    assert sign_test(0, 0) == 1.0


def test_mcnemar_hand_computed():
    # ref right & new wrong on items 0-8 (b = 9), ref wrong & new right on item 9 (c = 1), items 10-11 agree:
    # p = 2 · P(X <= 1), X ~ Bin(10, 1/2) = 2 · (1 + 10) / 1024
    ref = np.array([1] * 9 + [0, 1, 0], dtype=bool)
    new = np.array([0] * 9 + [1, 1, 0], dtype=bool)
    assert mcnemar_exact(ref, new) == 22 / 1024 == 0.021484375
    assert mcnemar_exact(new, ref) == 22 / 1024  # two-sided: symmetric
    assert sign_test(3, 0) == 2 / 8
    assert sign_test(5, 5) == 1.0 and sign_test(6, 5) == 1.0  # capped at 1


def test_mcnemar_refuses_unpaired_inputs():
    with pytest.raises(ValueError, match="same shape"):
        mcnemar_exact(np.ones(3, bool), np.ones(4, bool))


@pytest.mark.parametrize("n_pos,n_neg", [(2400, 2600), (2990, 3010), (3100, 2900)])
def test_sign_test_large_n_matches_exact_fractions(n_pos, n_neg):
    # n = 5000 still takes the integer path, 6000 the log-space one; both against exact rational arithmetic
    n, k = n_pos + n_neg, min(n_pos, n_neg)
    exact = min(Fraction(1), 2 * Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2 ** n))
    assert sign_test(n_pos, n_neg) == pytest.approx(float(exact), rel=1e-9)


def test_mcnemar_size_under_the_null_is_at_most_alpha():
    """Seeded simulation: two exchangeable runs (each item right with its own probability, independently per
    run) — the exact test rejects at most alpha of the time (it is conservative)."""
    rng = np.random.Generator(np.random.PCG64(11))
    rejections, trials = 0, 1000
    for _ in range(trials):
        p = rng.random(100)
        rejections += mcnemar_exact(rng.random(100) < p, rng.random(100) < p) < 0.05
    assert rejections / trials <= 0.05
    # and it has power: the second run loses 15% of the first run's right answers
    hits = 0
    for _ in range(200):
        a = rng.random(200) < 0.8
        hits += mcnemar_exact(a, a & (rng.random(200) > 0.15)) < 0.05
    assert hits / 200 > 0.95


# --- Holm–Bonferroni ----------------------------------------------------------------------------------------------


def test_holm_hand_computed():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    assert (adjusted < 0.05).tolist() == [True, False, False, True]  # Bonferroni (·4) would keep only 0.005


def test_holm_caps_at_one_skips_nan_and_keeps_order():
    assert holm([0.6, 0.5]).tolist() == [1.0, 1.0]
    adjusted = holm([0.01, np.nan, 0.02])  # m = 2: NaN is no hypothesis
    assert adjusted[0] == 0.02 and np.isnan(adjusted[1]) and adjusted[2] == 0.02
    assert holm([]).tolist() == [] and holm([0.2]).tolist() == [0.2]


# --- paired bootstrap of a difference ---------------------------------------------------------------------------


def test_bootstrap_p_value_hand_computed():
    assert bootstrap_p_value(np.zeros(50)) == 1.0
    assert bootstrap_p_value(np.array([0.1, 0.2, 0.3, -0.1])) == 2 * (1 + 1) / 5
    assert bootstrap_p_value(np.array([0.1] * 99)) == 2 / 100
    assert np.isnan(bootstrap_p_value(np.array([np.nan])))


def test_paired_difference_is_direction_aware_and_zero_for_identical_runs():
    s = np.array([1.0, 0.5, 0.0, 0.25])
    counts = _counts(4, 200, 0)
    same = paired_bootstrap_diff(ratio(0, 1), _mean_stats(s), _mean_stats(s.copy()), counts)
    assert (same.delta, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    worse = s - 0.25  # the new run scores 0.25 lower on every item
    hib = paired_bootstrap_diff(ratio(0, 1), _mean_stats(s), _mean_stats(worse), counts)
    lib = paired_bootstrap_diff(ratio(0, 1), _mean_stats(s), _mean_stats(worse), counts, higher_is_better=False)
    assert hib.delta == pytest.approx(0.25, abs=1e-15) and hib.ci_low == pytest.approx(0.25, abs=1e-12)
    assert lib.delta == pytest.approx(-0.25, abs=1e-15) and lib.ci_high == pytest.approx(-0.25, abs=1e-12)
    assert hib.p_value == lib.p_value == 2 / 201


def test_paired_difference_refuses_unpaired_statistics():
    with pytest.raises(ValueError, match="same shape"):
        paired_bootstrap_diff(ratio(0, 1), np.ones((3, 2)), np.ones((4, 2)), _counts(3, 100, 0))


def test_paired_bootstrap_ci_of_a_difference_covers_truth_near_nominal_rate():
    """Seeded simulation of QA-like F1 scores: the new run loses U(0, 0.5) on 30% of items (true mean difference
    0.3 · 0.25 = 0.075); the 95% CI of the paired difference should contain it about 95% of the time."""
    rng = np.random.Generator(np.random.PCG64(2025))
    n, trials, covered, significant = 200, 200, 0, 0
    for t in range(trials):
        ref = rng.random(n)
        new = ref - (rng.random(n) < 0.3) * rng.random(n) * 0.5
        d = paired_bootstrap_diff(ratio(0, 1), _mean_stats(ref), _mean_stats(new), _counts(n, 400, t))
        covered += d.ci_low <= 0.075 <= d.ci_high
        significant += d.p_value < 0.05
    assert 0.90 <= covered / trials <= 0.99
    assert significant / trials > 0.95  # the difference is real and the test sees it


def test_paired_bootstrap_size_under_the_null_is_near_alpha():
    """Two exchangeable runs (the same latent difficulty, independent noise): p < 0.05 in roughly 5% of trials."""
    rng = np.random.Generator(np.random.PCG64(5))
    n, trials, rejections = 150, 300, 0
    for t in range(trials):
        difficulty = rng.random(n)
        a = np.clip(difficulty + rng.normal(0, 0.2, n), 0, 1)
        b = np.clip(difficulty + rng.normal(0, 0.2, n), 0, 1)
        rejections += paired_bootstrap_diff(ratio(0, 1), _mean_stats(a), _mean_stats(b), _counts(n, 400, t)).p_value < 0.05
    assert 0.01 <= rejections / trials <= 0.10
