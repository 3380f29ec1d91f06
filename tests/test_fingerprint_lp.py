"""The plug-in's bias range from the fingerprint: bands, the two programmes, the interval."""

import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_regimes import verdicts as V
from mi_regimes._fingerprint_lp import (
    BIN_STARTS,
    band_lower,
    band_upper,
    bias_range,
    bin_occupancy,
)
from mi_regimes._profile import profile_of


@settings(deadline=None, max_examples=60)
@given(st.floats(0, 5e4), st.floats(0.5, 40))
def test_band_lower_matches_brentq_and_errs_low(s, log_odds):
    got = float(band_lower(s, log_odds)[0])
    ref = naive.chernoff_mean_lower(s, log_odds)
    assert got <= ref + 1e-12 * max(ref, 1.0)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("mu", [0.3, 3.0, 40.0, 900.0])
def test_bands_cover_a_poisson_mean(mu):
    """P(μ outside [lo(S), up(S)]) <= e^-L per end for S ~ Poisson(μ) (the limit of a sum
    of independent indicators), checked exactly by summing the Poisson pmf."""
    from scipy import stats

    log_odds = math.log(1 / 0.01)  # e^-L = 0.01 per end
    s = np.arange(0, int(mu + 20 * math.sqrt(mu) + 40))
    pmf = stats.poisson.pmf(s, mu)
    assert pmf[band_upper(s, log_odds) < mu].sum() <= 0.01
    assert pmf[band_lower(s, log_odds) > mu].sum() <= 0.01


def test_plugin_bias_coefficients_match_plain_sums():
    from mi_regimes._fingerprint_lp import _cells

    n = 512
    cells = _cells(n)
    edges = np.exp(cells["log_edges"])  # the dust below edges[0] is tested through bounds
    for i in (0, 40, 80, 120, edges.size - 2):
        for lam in np.geomspace(edges[i], edges[i + 1], 5):
            ref = n / lam * naive.plugin_bias(lam, n)
            assert cells["bias_min"][i] <= ref * (1 + 1e-9) + 1e-12
            assert cells["bias_max"][i] >= ref * (1 - 1e-9) - 1e-12


def _sample_counts(pmf, n, seed):
    c = np.random.default_rng(seed).multinomial(n, np.asarray(pmf) / np.sum(pmf))
    return c[c > 0]


CASES = [  # real samples: (counts, K)
    (_sample_counts(np.full(64, 1.0), 500, 1), 64),
    (_sample_counts(1 / np.arange(1, 1000), 300, 2), 2**12),
    (np.ones(200, dtype=np.int64), 2**16),
    (_sample_counts(0.7 ** np.arange(30), 400, 3), 2**10),
]


@pytest.mark.parametrize("counts,k", CASES)
def test_programmes_match_the_plain_reference(counts, k):
    """Ours (two grids, logarithms, five points per cell, asymptotic bias above λ = 1000)
    against a plain fine grid: ours may only be wider (coarser cells), and by little."""
    values, mult = profile_of(np.asarray(counts, dtype=np.int64))
    n = int(values @ mult)
    occupancy = bin_occupancy(values, mult)
    got = bias_range(occupancy, n, math.log2(k), 9.0)
    ref_low, ref_high = naive.bias_range(occupancy, n, k, 9.0, BIN_STARTS)
    assert got.low <= ref_low + 1e-6 and got.high >= ref_high - 1e-6
    assert got.high - ref_high <= 0.1 * ref_high + 2e-3
    assert ref_low - got.low <= 0.1 * ref_low + 2e-3
    assert got.unseen + got.seen == pytest.approx(got.high, abs=1e-6)


def test_cached_programmes_are_keyed_by_everything_they_read():
    """The cache (keyed by occupancy, N, log2 K, L) returns what the programmes compute,
    whatever container the occupancy comes in, and no answer for another K, N or L."""
    from mi_regimes._fingerprint_lp import _bias_range

    counts, k = CASES[1]
    values, mult = profile_of(np.asarray(counts, dtype=np.int64))
    n = int(values @ mult)
    occupancy = bin_occupancy(values, mult)
    _bias_range.cache_clear()
    for log2_k, size, log_odds in ((math.log2(k), n, 9.0), (40.0, n, 9.0),
                                   (math.log2(k), n + 7, 9.0), (math.log2(k), n, 6.0)):
        fresh = _bias_range.__wrapped__(tuple(occupancy.tolist()), size, log2_k, log_odds)
        for form in (occupancy, occupancy.tolist(), tuple(occupancy.astype(np.int64))):
            assert bias_range(form, size, log2_k, log_odds) == fresh
    assert _bias_range.cache_info().currsize == 4
    assert len({bias_range(occupancy, n, lk, 9.0).high for lk in (12.0, 20.0, 40.0)}) == 3


def test_all_distinct_samples_imply_a_high_entropy():
    """1000 distinct samples: no coincidence means a small collision probability, so
    H >= ~14 bits although the plug-in says log2 1000 = 9.97."""
    interval = V.entropy_interval(V.summarize_counts([1] * 1000), 2**40)
    assert 13.5 < interval.low < 15.6 and interval.high == 40.0


def test_a_dominant_state_does_not_raise_the_lower_end():
    """One sample, or one state seen every time, cannot rule out a one-state source
    (H = 0): the bias of a state of probability near 1 is (1 - x)/(2N ln 2), not the
    Poisson 1/(2N ln 2)."""
    for counts, k in (([1], 4), ([16], 2), ([400], 2**10)):
        assert V.entropy_interval(V.summarize_counts(counts), k).low == 0.0


def test_well_sampled_alphabet_is_tight():
    interval = V.entropy_interval(V.summarize_counts([2500] * 4), 4)
    assert 1.99 < interval.low <= 2.0 == interval.high
    deep = V.entropy_interval(V.summarize_counts([2500] * 4), 2**30)
    assert deep.high < 2.05 and deep.unseen_entropy < 0.04


@pytest.mark.parametrize("name,pmf,k", [
    ("uniform over 2N", np.full(2048, 1 / 2048), 2**11),
    ("uniform over N/4 in 2^20", np.full(256, 1 / 256), 2**20),
    ("geometric", 0.5 ** np.arange(1, 40), 2**40),
    ("zipf", 1 / np.arange(1, 20_000), 2**15),
    ("heavy + thin tail", np.r_[np.full(4, 0.24), np.full(40_000, 0.04 / 40_000)], 2**16),
    ("two scales", np.r_[np.full(100, 0.009), np.full(2000, 0.1 / 2000)], 2**12),
    ("counts near the bins' edges", np.full(200, 1 / 200), 2**10),
])
def test_interval_holds_h_on_adversarial_sources(name, pmf, k):
    """L <= H <= U in at least 95 % of 200 samples of 1024 draws, whatever the shape."""
    pmf = pmf / pmf.sum()
    h = float(-(pmf * np.log2(pmf)).sum())
    rng = np.random.default_rng(11)
    misses = 0
    for _ in range(200):
        c = rng.multinomial(1024, pmf)
        interval = V.entropy_interval(V.summarize_counts(c[c > 0]), k)
        misses += not (interval.low <= h <= interval.high)
    assert misses / 200 <= 0.05, name


@settings(deadline=None, max_examples=25)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=80), st.integers(0, 30))
def test_interval_is_ordered_and_within_log2_k(counts, extra_bits):
    s = V.summarize_counts(counts)
    k = len(counts) * 2**extra_bits
    interval = V.entropy_interval(s, k)
    assert 0.0 <= interval.low <= interval.high <= math.log2(k) + 1e-12
    values, mult = profile_of(np.asarray(counts, dtype=np.int64))
    assert bin_occupancy(values, mult).sum() == len(counts)
