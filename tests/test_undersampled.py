"""JVHW and the unseen estimator: hand values, plain references, exact theory, verdicts."""

import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mi_regimes as mr
from mi_regimes import regimes, sources
from mi_regimes._undersampled import jvhw_coefficients, jvhw_settings
from mi_regimes.estimators import estimate_counts, jvhw, unseen
from mi_regimes.verdicts import classify, summarize_counts

counts_st = st.lists(st.integers(1, 60), min_size=1, max_size=80)


def test_hand_values():
    # well sampled: every state's p̂ >= Δ, so JVHW is the plug-in plus (1 - p̂)/(2N) each
    n = 1000
    assert jvhw([500, 500], base=math.e) == pytest.approx(math.log(2) + 2 * 0.5 / (2 * n))
    # dense fingerprint: the unseen estimator takes every state as seen (the plug-in)
    assert unseen([250, 250, 250, 250]) == pytest.approx(2.0)
    assert unseen([1000]) == 0.0 and jvhw([1000]) == pytest.approx(0.0, abs=1e-12)
    # with an alphabet the unseen estimate never exceeds log K
    assert unseen([1] * 50, alphabet_size=64) <= 6.0 + 1e-12


@pytest.mark.parametrize("degree", [2, 4, 8, 14])
def test_polynomial_is_a_best_uniform_approximation(degree):
    a = jvhw_coefficients(degree)
    t = np.random.default_rng(degree).random(20_000)
    err = np.polyval(a[::-1], t) + t * np.log(t)
    worst = np.abs(err).max()
    # equioscillation: the error reaches about ± its maximum; and it shrinks ~ 1/K^2
    assert err.max() > 0.9 * worst and err.min() < -0.9 * worst
    assert worst < 0.6 / degree**2


def test_settings_scale_with_log_n():
    assert jvhw_settings(10**6) == (14, pytest.approx(math.log(10**6) / 10**6))
    assert jvhw_settings(100)[0] == math.ceil(1.2 * math.log(100))


@settings(deadline=None, max_examples=40)
@given(counts_st)
def test_jvhw_matches_plain_reference(counts):
    assert jvhw(counts, base=math.e) == pytest.approx(naive.jvhw(counts), abs=1e-9)


@settings(deadline=None, max_examples=25)
@given(counts_st)
def test_unseen_matches_plain_reference(counts):
    assert unseen(counts, base=math.e) == pytest.approx(naive.unseen(counts), abs=1e-6)


@settings(deadline=None, max_examples=30)
@given(counts_st, st.randoms(use_true_random=False))
def test_invariant_to_order_and_relabelling(counts, random):
    shuffled = list(counts)
    random.shuffle(shuffled)
    for name in ("jvhw", "unseen"):
        a = estimate_counts(counts, name).value
        assert a == pytest.approx(estimate_counts(shuffled, name).value, abs=1e-9)
        assert a >= 0.0


@pytest.mark.parametrize("family,params,d,n,tol", [
    ("bernoulli", {"p": 0.5}, 12, 1024, 0.02),       # N = K/4: plug-in is 19 % low
    ("bernoulli", {"p": 0.5}, 14, 4096, 0.02),       # N = K/4 again, larger
    ("zipf_codebook", {"support": 4096, "s": 1.0}, 20, 1024, 0.04),
])
def test_monte_carlo_mean_near_exact_entropy(family, params, d, n, tol):
    table = regimes.run_grid(family, params, n_values=[n], d_values=[d],
                             estimators=("plugin", "jvhw", "unseen"), reps=40, rng=3)
    truth = table["h_true"].iloc[0]
    for name in ("jvhw", "unseen"):
        row = table[table["estimator"] == name].iloc[0]
        se = row["std"] / math.sqrt(40)
        assert abs(row["mean"] - truth) <= tol * truth + 3 * se, (name, row["mean"], truth)
    plug = table[table["estimator"] == "plugin"].iloc[0]
    assert plug["mean"] < truth * (1 - 0.06)  # where the plug-in is far off


def test_verdict_guarantee_holds_for_the_new_estimators():
    # [L, U] does not depend on the estimator: 'reliable' means [L, U] lies within tol of
    # the estimate, so |Ĥ - H| <= tol·H whenever [L, U] holds H, whatever Ĥ is
    source = sources.bernoulli(6, 0.3)
    rng = np.random.default_rng(5)
    wrong = called = 0
    for _ in range(60):
        counts = np.unique(source.sample(4000, rng) @ (1 << np.arange(6)),
                           return_counts=True)[1]
        s = summarize_counts(counts)
        for name in ("jvhw", "unseen"):
            h = estimate_counts(counts, name).value
            v = classify(s, h, alphabet_size=64)
            if v.status == "reliable":
                called += 1
                wrong += abs(h - source.entropy) > 0.05 * source.entropy
    assert called > 30 and wrong / called <= 0.05


def test_rows_and_mutual_information_accept_them(rng):
    t = rng.integers(0, 2, size=(2000, 8))
    y = t[:, 0]
    for name in ("jvhw", "unseen"):
        assert 7.5 < mr.entropy(t, name) <= 8.0 + 1e-9
        assert 0.8 < mr.mutual_information(t, y, name) < 1.2
