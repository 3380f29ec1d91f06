"""Fast draws (uniforms, small binomials, tabulated Poisson) and the bootstrap's use of them."""

import math

import mpmath
import naive
import numba as nb
import numpy as np
import pytest
from scipy import stats

from mi_regimes import estimators as E
from mi_regimes._bootstrap import (
    _BY_CHAIN,
    _BY_DIRECT,
    _BY_TABLE,
    _TABLE_ROOM,
    _class_methods,
    _poisson_kernel,
    _sized_to_n,
    nlogn_table,
)
from mi_regimes._draws import (
    binomial,
    build_table,
    draw_from_table,
    next_uniform,
    table_length,
)
from mi_regimes._profile import profile_of

LN2 = math.log(2)


def _table(v):
    room = table_length(v)
    cdf, guide = np.empty(room), np.empty(room, np.int64)
    lo, used = build_table(v, cdf, guide)
    return cdf, guide, lo, used


@nb.njit
def _draws(cdf, guide, lo, used, n, seed):
    state = np.uint64(seed)
    out = np.empty(n, np.int64)
    for i in range(n):
        state, out[i] = draw_from_table(cdf, guide, lo, used, state)
    return out


@nb.njit
def _binomials(n, p, size, seed):
    np.random.seed(seed)
    state = np.uint64(seed)
    out = np.empty(size, np.int64)
    for i in range(size):
        state, out[i] = binomial(n, p, state)
    return out


@nb.njit
def _uniforms(n, seed):
    state = np.uint64(seed)
    out = np.empty(n)
    for i in range(n):
        state, out[i] = next_uniform(state)
    return out


@pytest.mark.parametrize("v", [1e-3, 0.5, 1.0, 7.0, 50.0, 1234.0, 1e6, 1e9])
def test_table_is_the_poisson_pmf_and_fits_its_room(v):
    cdf, guide, lo, used = _table(v)  # raises if table_length were too small
    assert used <= table_length(v)
    assert cdf[used - 1] == pytest.approx(1.0, abs=1e-15)
    assert np.all(np.diff(cdf[:used]) >= 0)
    k = lo + np.arange(used)
    pmf = np.diff(np.concatenate([[0.0], cdf[:used]]))
    # the CDF is what inversion reads: each step is its probability to ~1e-16 absolute
    # (scipy's pmf itself drifts by ~3e-9 relative at v = 1e6 and ~1e-5 at 1e9, hence the
    # 40-digit spot checks below for every v)
    if v <= 1e4:
        np.testing.assert_allclose(pmf, stats.poisson.pmf(k, v), rtol=1e-9, atol=1e-15)
    mpmath.mp.dps = 40
    for j in (int(np.argmax(pmf)), int(np.searchsorted(cdf[:used], 0.01))):
        exact = mpmath.exp(-mpmath.mpf(v) + k[j] * mpmath.log(v) - mpmath.loggamma(k[j] + 1))
        assert pmf[j] == pytest.approx(float(exact), rel=1e-11)
    # what the table leaves out has negligible mass
    assert stats.poisson.cdf(lo - 1, v) + stats.poisson.sf(lo + used - 1, v) < 1e-25
    # the guide points at or before the first entry above i / used
    for i in (0, used // 3, used - 1):
        first = int(np.argmax(cdf[:used] > i / used))
        assert guide[i] <= first


@pytest.mark.parametrize("v", [0.5, 3.0, 40.0, 1000.0])
def test_table_draws_follow_poisson(v):
    cdf, guide, lo, used = _table(v)
    draws = _draws(cdf, guide, lo, used, 200_000, 12345)
    assert draws.mean() == pytest.approx(v, abs=5 * math.sqrt(v / draws.size))
    assert draws.var() == pytest.approx(v, rel=0.03)
    # chi-square over bins of expected count >= 20, the tails pooled
    ks, observed = np.unique(draws, return_counts=True)
    expected = stats.poisson.pmf(ks, v) * draws.size
    keep = expected >= 20
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], draws.size - expected[keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-4


@pytest.mark.parametrize(("n", "p"), [
    (1, 0.3), (5, 0.5), (64, 0.02), (30, 0.6), (39, 0.5),   # inversion (n·min(p, q) < 20)
    (41, 0.5), (1000, 0.3), (60_000, 0.9999),               # Numba's BTPE
])
def test_binomial_draws_follow_binomial(n, p):
    draws = _binomials(n, p, 100_000, 9)
    assert draws.min() >= 0 and draws.max() <= n
    ks, observed = np.unique(draws, return_counts=True)
    expected = stats.binom.pmf(ks, n, p) * draws.size
    keep = expected >= 20
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], draws.size - expected[keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-4
    np.testing.assert_array_equal(draws, _binomials(n, p, 100_000, 9))


def test_binomial_edges():
    for n, p, expected in ((0, 0.5, 0), (7, 0.0, 0), (7, 1.0, 7), (7, -0.1, 0), (7, 1.5, 7)):
        assert set(_binomials(n, p, 50, 1)) == {expected}


def test_uniforms_are_uniform_and_reproducible():
    u = _uniforms(100_000, 7)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    np.testing.assert_array_equal(u, _uniforms(100_000, 7))
    assert not np.array_equal(u[:10], _uniforms(10, 8))
    # successive pairs are not correlated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


def test_each_class_is_drawn_the_cheapest_way():
    values = np.array([1, 20, 30_000], np.int64)
    mult = np.array([60_000, 500, 2], np.int64)
    methods, room = _class_methods(values, mult, 200)
    # many singletons: a short chain of binomials; many states of count 20: a table;
    # two states of a large count: a table would cost more to build than it saves
    assert list(methods) == [_BY_CHAIN, _BY_TABLE, _BY_DIRECT]
    assert room[-1] == table_length(20.0)


def test_tables_stay_within_their_memory_budget():
    # 300 classes of ~10 000 states with counts ~1e6 would each want a ~25 000-entry table
    values = np.arange(1000, 1300, dtype=np.int64) * 1000
    mult = np.full(300, 10_000, np.int64)
    methods, room = _class_methods(values, mult, 200)
    assert room[-1] <= _TABLE_ROOM
    assert (methods == _BY_TABLE).sum() == np.count_nonzero(np.diff(room))
    assert 0 < (methods == _BY_TABLE).sum() < 300  # the rest drawn another way


@pytest.mark.parametrize("counts", [
    [20] * 300 + [3] * 40,           # tables
    [1] * 3000 + [2] * 500,          # chains (their first binomials large: BTPE)
    [700, 500, 9],                   # direct draws
])
def test_poisson_kernel_draws_state_by_state_poisson_resamples(counts):
    """Whichever way a class is drawn, the kernel's replicates (before their size is
    accounted for) are those of Poisson(n_k) copies drawn state by state."""
    values, mult = profile_of(np.asarray(counts, np.int64))
    reps, totals = _poisson_kernel(values, mult, 4000, 11, nlogn_table())
    n = sum(counts)
    assert totals.mean() == pytest.approx(n, abs=5 * math.sqrt(n / totals.size))
    assert totals.var() == pytest.approx(n, rel=0.1)
    plain = naive.bootstrap_poisson(counts, 2000, np.random.default_rng(3))
    se = plain.std() / math.sqrt(2000) + reps.std() / math.sqrt(reps.size)
    assert reps.mean() == pytest.approx(plain.mean(), abs=4 * se)
    assert reps.std(ddof=1) == pytest.approx(plain.std(ddof=1), rel=0.1)


@pytest.mark.parametrize("counts", [
    [20] * 300 + [3] * 40,
    [1] * 3000 + [2] * 500,          # undersampled: N* alone made the spread 1.24x wider
    [1] * 2000,                      # every state a singleton: 1.4x wider
    [700, 500, 9],
])
def test_poisson_bootstrap_is_the_multinomial_one_in_mean_and_spread(counts):
    """The Poisson scheme's replicates match the exact multinomial mean E*[Ĥ*] (up to the
    documented (K-1)/(2N²)) and the spread of row-by-row resampling."""
    exact = naive.bootstrap_exact_mean(counts) / LN2
    h = E.plugin(counts)
    n_boot = 4000
    est = E.estimate_counts(counts, "bootstrap", n_boot=n_boot, rng=11, scheme="poisson")
    mean_star = 2 * h - est.value
    n, k = sum(counts), len(counts)
    tolerance = 4 * est.stderr / math.sqrt(n_boot) + 1.5 * (k - 1) / (2 * n * n) / LN2
    assert abs(mean_star - exact) < tolerance
    by_rows = naive.bootstrap_by_rows(counts, 1500, np.random.default_rng(3)) / LN2
    assert est.stderr == pytest.approx(by_rows.std(ddof=1), rel=0.1)
    exact_scheme = E.estimate_counts(counts, "bootstrap", n_boot=n_boot, rng=5,
                                     scheme="multinomial")
    assert est.stderr == pytest.approx(exact_scheme.stderr, rel=0.08)


def test_sized_to_n_removes_the_linear_dependence_on_size_only():
    rng = np.random.default_rng(0)
    excess = rng.normal(0, 30, 500)
    noise = rng.normal(0, 0.01, 500)
    adjusted = _sized_to_n(2.0 + 0.001 * excess + noise, excess)
    assert adjusted.std() == pytest.approx(noise.std(), rel=0.01)
    assert adjusted.mean() == pytest.approx(2.0, abs=0.003)
    few = np.array([1.0, 2.0, 3.0])
    assert _sized_to_n(few, np.array([-1.0, 0.0, 1.0])) is few  # too few to estimate
    same = np.linspace(0, 1, 20)
    assert _sized_to_n(same, np.zeros(20)) is same  # every replicate of size N
