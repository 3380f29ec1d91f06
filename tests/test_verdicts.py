"""Verdicts: hand cases, the unseen-mass bound, and the guarantee on sources of every family.

The guarantee under test: a replicate called ``reliable`` has |Ĥ - H| <= tol with
probability >= 95 %, whatever the source, so in cells whose expected error exceeds the
tolerance at most 5 % of replicates may be called reliable, family by family (the
long-tailed ones included); and the interval [L, U] holds H in >= 95 % of replicates.
"""

import dataclasses
import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_regimes import regimes
from mi_regimes import sources as S
from mi_regimes import verdicts as V
from mi_regimes._bounds import _mean_upper
from mi_regimes.counting import count_rows


@settings(deadline=None, max_examples=300)
@given(st.one_of(st.just(0.0), st.floats(1e-9, 1e7)), st.floats(0.5, 5000.0))
def test_chernoff_mean_upper_matches_bisection_and_errs_high(s, log_odds):
    mu = _mean_upper(s, log_odds)
    ref = naive.chernoff_mean_upper(s, log_odds)
    assert mu == pytest.approx(ref, rel=1e-10)
    # the root from above: the tail bound at mu is at least log_odds (up to rounding)
    excess = mu - s - (s * math.log(mu / s) if s > 0 else 0.0) - log_odds
    assert excess >= -1e-9 * max(1.0, mu)
    # elementwise over arrays, the same values
    both = _mean_upper(np.array([s, 2 * s + 1]), log_odds)
    assert both[0] == mu and both[1] == pytest.approx(
        naive.chernoff_mean_upper(2 * s + 1, log_odds), rel=1e-10)


def test_hand_cases_and_reasons():
    v = V.classify(V.summarize_counts([1] * 996 + [2, 2]), alphabet_size=2**40)
    assert v.status == "saturated" and "998 of 1000 samples distinct" in v.reason
    reliable = V.classify(V.summarize_counts([2500] * 4), alphabet_size=4)
    assert reliable.status == "reliable" and reliable.unseen_mass == 0.0
    assert "H in [" in reliable.reason and reliable.h_low <= 2.0 <= reliable.h_high
    # four states seen 25 times each, 2**30 possible: no coincidence-free state was seen,
    # yet up to ~0.1 of the mass could hide in unseen states carrying ~40 bits each
    wide = V.classify(V.summarize_counts([25] * 4), alphabet_size=2**30)
    assert wide.status == "undersampled" and wide.unseen_entropy > 0.05 * wide.h_high
    assert "expected to be seen less than once may add" in wide.reason
    # seen 2500 times each, the hidden mass is at most ~0.0015: 0.06 bits at most, reliable
    deep = V.classify(V.summarize_counts([2500] * 4), alphabet_size=2**30)
    assert deep.status == "reliable" and 2.0 <= deep.h_high <= 2.1
    assert deep.unseen_entropy < 0.1 and deep.unseen_mass < 0.005
    assert V.classify(V.summarize_counts([3, 1, 1, 2, 1, 2, 1, 1, 2, 1]),
                      alphabet_size=16).status in ("biased", "undersampled")
    no_k = V.classify(V.summarize_counts([50] * 8))
    assert no_k.status == "no guarantee" and "alphabet" in no_k.reason
    with pytest.raises(ValueError, match="tol"):
        V.classify(V.summarize_counts([2, 2]), alphabet_size=4, tol=0)
    with pytest.raises(ValueError, match="alphabet_size: 2 is smaller"):
        V.classify(V.summarize_counts([2, 2, 2]), alphabet_size=2)


def test_interval_never_exceeds_log2_k_and_tolerance_in_bits():
    s = V.summarize_counts([30, 40, 50, 60])
    v = V.classify(s, alphabet_size=4, tol_bits=0.5)
    assert v.h_high <= 2.0 and v.tol_bits == 0.5 and v.status == "reliable"
    assert V.classify(s, alphabet_size=4, tol_bits=1e-4).status == "biased"
    # plain floats, not NumPy scalars: the repr and JSON users see stay readable
    numbers = [getattr(v, f.name) for f in dataclasses.fields(v)
               if f.name not in ("status", "reason")]
    assert numbers and all(type(n) is float for n in numbers)


def test_assess_combines_estimate_and_verdict(rng):
    x = rng.integers(0, 2, size=(4000, 3))
    est, verdict = V.assess(x, "bootstrap", rng=0, n_boot=100)
    assert verdict.status == "reliable" and est.ci is not None and est.n == 4000
    est, verdict = V.assess(rng.integers(0, 2, size=(500, 50)), "miller_madow")
    assert verdict.status == "saturated" and "500 of 500" in verdict.reason
    _, verdict = V.assess(rng.integers(0, 5, size=300))  # symbols, no alphabet size
    assert verdict.status == "no guarantee"
    _, verdict = V.assess(rng.integers(0, 5, size=3000), alphabet_size=5)
    assert verdict.status == "reliable"


@pytest.mark.parametrize("name,pmf", [
    ("uniform over 2N", np.full(2048, 1 / 2048)),
    ("uniform over N/4", np.full(256, 1 / 256)),
    ("geometric", 0.5 ** np.arange(1, 40)),
    ("zipf", 1 / np.arange(1, 20_000)),
    ("heavy + thin tail", np.r_[np.full(4, 0.24), np.full(40_000, 0.04 / 40_000)]),
])
def test_unseen_mass_bound_holds(name, pmf):
    """M0 <= M0⁺ in (far) more than 1 - δ of samples, for δ = 0.05."""
    pmf = pmf / pmf.sum()
    rng = np.random.default_rng(7)
    misses = 0
    for _ in range(2000):
        c = rng.multinomial(1024, pmf)
        misses += pmf[c == 0].sum() > V.unseen_mass_bound(c[c > 0], 0.05)
    assert misses / 2000 <= 0.05


FAMILIES = [
    ("bernoulli", {"p": 0.5}, (2, 6, 12, 20, 40)),
    ("bernoulli", {"p": 0.15}, (4, 12, 24, 40)),
    ("markov", {"p_stay": 0.98}, (6, 14, 30, 40)),
    ("zipf_codebook", {"support": 4096, "s": 1.0}, (12, 32)),
    ("heavy_tail", {"heavy": 4, "tail_bits": 30, "tail_mass": 0.05}, (30, 40)),
    ("heavy_tail", {"heavy": 64, "tail_bits": 12, "tail_mass": 0.3}, (12, 40)),
    ("dyadic_zipf", {"s": 1.0}, (8, 20, 40)),
]


@pytest.fixture(scope="module")
def grids():
    return {f"{fam}{params}": regimes.run_grid(
        fam, params, n_values=[2**k for k in (6, 10, 14)], d_values=list(ds),
        estimators=["plugin", "miller_madow"], reps=40, rng=5, progress=False, jobs=2)
        for fam, params, ds in FAMILIES}


def test_biased_cells_are_rarely_called_reliable(grids):
    for name, table in grids.items():
        biased = table[table.truth == "biased"]
        share = float((biased.reliable_share * biased.reps).sum() / max(biased.reps.sum(), 1))
        assert share <= 0.05, (name, biased[["d", "n", "estimator", "reliable_share"]])


def test_interval_holds_h_and_saturation_is_seen(grids):
    for name, table in grids.items():
        judged = table.dropna(subset=["interval_coverage"])
        assert judged.interval_coverage.min() >= 0.9, name
        assert judged.interval_coverage.mean() >= 0.95, name
        saturated = table[table.truth == "saturated"]
        if len(saturated):
            assert (saturated.verdict == "saturated").mean() >= 0.95, name


def test_power_where_a_guarantee_is_possible(grids):
    """Cells where the plug-in lies within tol of H in >= 95 % of samples on the
    Bernoulli(1/2) family, the default grid's: most replicates are called reliable."""
    table = grids["bernoulli{'p': 0.5}"]
    possible = table[(table.within_tol_share >= 0.95) & (table.estimator == "plugin")]
    assert len(possible) >= 4
    assert float(possible.reliable_share.mean()) >= 0.8


def test_summary_spread_matches_monte_carlo():
    src = S.bernoulli(6, 0.3)
    rng = np.random.default_rng(3)
    values, sds = [], []
    for _ in range(400):
        s = V.summarize_counts(count_rows(src.sample_packed(2000, rng)))
        values.append(s.h_plugin)
        sds.append(s.sd_plugin)
    assert np.mean(sds) == pytest.approx(np.std(values), rel=0.15)
    assert math.isfinite(np.mean(values))


def test_wide_rows_need_samples_in_proportion_to_d():
    # Eight states, 2 048 times each, no singleton: an unresolved mass could still be
    # spread over all 2**D states, so the upper bound U loosens with D (docs/theory.md §7.4)
    rng = np.random.default_rng(0)
    gaps = {}
    for d in (64, 256, 1024):
        states = rng.integers(0, 2, size=(8, d), dtype=np.uint8)
        est, verdict = V.assess(states[np.arange(16_384) % 8], estimator="plugin", tol=0.05)
        assert est.value == pytest.approx(3.0) and verdict.h_low <= 3.0 <= verdict.h_high
        gaps[d] = (verdict.status, verdict.h_high - 3.0)
    assert gaps[64][0] == "reliable" and gaps[64][1] < 0.15
    assert gaps[256][0] == gaps[1024][0] == "undersampled"
    assert 0.15 < gaps[256][1] < gaps[1024][1] < 1.0


def test_counts_no_source_gives_are_no_guarantee_without_inf_or_nan():
    # every row twice: 150 doubletons and no singleton, which independent draws of any
    # source give with negligible probability; the bands' programmes are infeasible
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(150, 20), dtype=np.uint8)
    est, verdict = V.assess(np.concatenate([x, x]), estimator="plugin")
    assert verdict.status == "no guarantee"
    assert (verdict.h_low, verdict.h_high) == (0.0, 20.0)
    assert "inf" not in verdict.reason and "nan" not in verdict.reason
    assert "duplicated" in verdict.reason
    # the same states drawn independently get a finite interval
    y = x[rng.integers(0, 150, size=300)]
    assert V.assess(y, estimator="plugin")[1].status != "no guarantee"
