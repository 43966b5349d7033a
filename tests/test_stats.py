"""Metrics and paired bootstrap: exact values on hand-computed cases, coverage in a seeded simulation."""
from __future__ import annotations

import numpy as np
import pytest

from harness.stats import accuracy, bootstrap_indices, macro_f1, paired_bootstrap


def test_accuracy_and_macro_f1_hand_computed():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    assert accuracy(y, p) == 4 / 6
    # F1: class0 2*1/(2+2)=0.5, class1 2*2/(2+3)=0.8, class2 2*1/(2+1)=2/3
    assert macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3, abs=1e-15)


def test_macro_f1_counts_classes_only_predicted():
    # class 2 never gold but predicted once: F1 0 and it counts (as scikit-learn's default)
    y, p = np.array([0, 1, 1]), np.array([0, 1, 2])
    assert macro_f1(y, p) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_empty_inputs_are_nan():
    assert np.isnan(accuracy(np.array([]), np.array([])))


def test_bootstrap_is_seeded_and_identical_predictions_give_zero_drop():
    assert (bootstrap_indices(10, 5, 1) == bootstrap_indices(10, 5, 1)).all()
    y = np.array([0, 1] * 20)
    ci = paired_bootstrap("accuracy", y, y.copy(), y.copy(), samples=200, seed=3)
    assert (ci.drop_low, ci.drop_high) == (0.0, 0.0)
    assert (ci.value_low, ci.value_high) == (1.0, 1.0)


def test_drop_is_direction_aware():
    y = np.zeros(50, dtype=int)
    clean, pert = np.zeros(50, dtype=int), np.r_[np.ones(10, dtype=int), np.zeros(40, dtype=int)]
    hib = paired_bootstrap("accuracy", y, clean, pert, samples=300, seed=0)
    lib = paired_bootstrap("accuracy", y, clean, pert, higher_is_better=False, samples=300, seed=0)
    assert hib.drop_low > 0 and lib.drop_high < 0
    assert hib.drop_low == pytest.approx(-lib.drop_high)


def test_paired_ci_of_the_drop_covers_truth_near_nominal_rate():
    """Seeded simulation: clean accuracy 0.8, each item flips wrong with prob 0.1 -> true drop 0.08."""
    rng = np.random.Generator(np.random.PCG64(2024))
    n, trials, covered = 300, 200, 0
    for t in range(trials):
        y = np.zeros(n, dtype=int)
        clean = (rng.random(n) > 0.8).astype(int)  # 1 = wrong
        flip = rng.random(n) < 0.1
        pert = np.where(flip & (clean == 0), 1, clean)
        true_drop = 0.8 * 0.1
        ci = paired_bootstrap("accuracy", y, clean, pert, samples=400, seed=t)
        covered += ci.drop_low <= true_drop <= ci.drop_high
    assert 0.88 <= covered / trials <= 0.99
