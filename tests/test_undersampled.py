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
    assert jvhw_settings(10**6) == (14, pytest.approx(2 * math.log(10**6) / 10**6))
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


# ------------------------------------------------------------------ PYM

def test_pym_closed_form_at_the_dirichlet_limit():
    # d = 0, α -> 0: the posterior is Dirichlet(n) on the seen states, whose mean entropy
    # is ψ(N + 1) - Σ (n_i/N) ψ(n_i + 1)
    from scipy.special import digamma

    from mi_regimes._pym import py_posterior_mean

    counts = np.array([5, 3, 2])
    expected = digamma(11) - np.sum(counts / 10 * digamma(counts + 1))
    got = py_posterior_mean(counts, np.ones(3), 0.0, 1e-12)
    assert float(got) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("d,alpha", [(0.3, 2.0), (0.7, 0.5), (0.05, 20.0)])
def test_pym_posterior_mean_matches_sampling_the_posterior(d, alpha):
    # the posterior: Dirichlet(n_i - d, α + K d) on the seen states and the unseen mass,
    # which a PY(d, α + K d) process splits (stick breaking); after J sticks the rest r
    # is a PY(d, θ + J d) process scaled by r, whose entropy has the prior mean
    # ψ(θ + J d + 1) - ψ(1 - d): added in expectation, so the truncation is exact
    from scipy.special import digamma

    from mi_regimes._pym import py_posterior_mean

    counts = np.array([6, 3, 1, 1])
    rng = np.random.default_rng(1)
    theta = alpha + counts.size * d
    draws = []
    for _ in range(4000):
        w = rng.dirichlet(np.append(counts - d, theta))
        j = np.arange(1, 301)
        v = rng.beta(1 - d, theta + j * d)
        left = np.cumprod(1 - v)
        sticks = v * np.concatenate([[1.0], left[:-1]])
        p = np.concatenate([w[:-1], w[-1] * sticks])
        p = p[p > 0]
        r = w[-1] * left[-1]
        rest = (-r * np.log(r) if r > 0 else 0.0) + r * (
            digamma(theta + j.size * d + 1) - digamma(1 - d))
        draws.append(-np.sum(p * np.log(p)) + rest)
    draws = np.array(draws)
    expected = float(py_posterior_mean(counts, np.ones(4), d, alpha))
    assert abs(draws.mean() - expected) <= 4 * draws.std() / math.sqrt(draws.size) + 2e-3


def test_pym_evidence_matches_the_chinese_restaurant():
    from mi_regimes._pym import py_log_evidence

    sequence = [0, 0, 1, 0, 2, 1, 0, 3, 3, 0]
    counts = np.bincount(sequence)
    values, mult = np.unique(counts, return_counts=True)
    pairs = [(0.2, 1.0), (0.6, 0.3), (0.05, 40.0), (0.5, 1e12)]
    ours = [float(py_log_evidence(values, mult, d, a)) for d, a in pairs]
    crp = [naive.crp_log_probability(sequence, d, a) for d, a in pairs]
    # equal up to one constant (the count of sequences with these counts)
    assert np.allclose(np.diff(ours), np.diff(crp), atol=1e-8)


@settings(deadline=None, max_examples=5)
@given(st.lists(st.integers(1, 30), min_size=2, max_size=12), st.sampled_from([None, 64]))
def test_pym_matches_brute_force_integration(counts, k):
    from mi_regimes._pym import H_MAX_NATS

    h_max = H_MAX_NATS if k is None else math.log(k)
    if k is not None and len(counts) > k:
        return
    got = estimate_counts(counts, "pym", base=math.e, alphabet_size=k).value
    want = min(naive.pym(counts, h_max, 400, 6000), h_max)
    assert got == pytest.approx(want, abs=3e-3, rel=1e-3)


def test_pym_on_a_heavy_tail_beats_the_plugin():
    table = regimes.run_grid("dyadic_zipf", {"s": 1.5}, n_values=[1024], d_values=[24],
                             estimators=("plugin", "pym"), reps=30, rng=2)
    truth = table["h_true"].iloc[0]
    err = {e: abs(table[table["estimator"] == e]["mean"].iloc[0] - truth) / truth
           for e in ("plugin", "pym")}
    assert err["pym"] < 0.5 * err["plugin"], err


def test_pym_with_one_possible_state_is_zero():
    # K = 1 left the prior on (0, ln K] empty: "PYM: the posterior has no mass on the
    # grid" for a valid input (one sample of 1-D symbols guesses K = 1, as does a column
    # of one repeated symbol)
    assert estimate_counts(np.array([5]), "pym", alphabet_size=1).value == 0.0
    assert mr.entropy(np.array([7]), "pym") == 0.0
    assert mr.entropy(np.array([7, 7, 7]), "pym") == 0.0
    assert mr.entropy(np.zeros((4, 1), np.uint8), "pym", alphabet_size=1) == 0.0
