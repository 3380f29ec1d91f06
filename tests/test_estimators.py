import math

import mpmath
import naive
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from mi_regimes import estimators as E

LN2 = math.log(2)
counts_strategy = st.lists(st.integers(0, 60), min_size=1, max_size=40).filter(
    lambda c: sum(c) > 0
)


def test_hand_values():
    assert E.plugin([7, 3]) == pytest.approx(0.881290899230693, abs=1e-12)
    assert E.plugin([1, 1]) == pytest.approx(1.0, abs=1e-15)
    assert E.plugin([5]) == 0.0
    assert E.plugin([1, 1, 1, 1]) == pytest.approx(2.0)
    # Miller-Madow: + (K_obs - 1) / (2 N ln 2)
    assert E.miller_madow([7, 3]) == pytest.approx(0.881290899230693 + 1 / (20 * LN2))
    assert E.plugin([7, 3], base=math.e) == pytest.approx(0.6108643020548935)


@pytest.mark.parametrize("name", ["plugin", "miller_madow", "jackknife", "chao_shen",
                                  "grassberger"])
def test_matches_naive_on_random_counts(name, rng):
    fast, slow = getattr(E, name), getattr(naive, name)
    for _ in range(25):
        k = int(rng.integers(1, 30))
        counts = rng.integers(0, int(rng.choice([2, 5, 40])), size=k)
        if counts.sum() < 2:
            counts[0] = 2
        assert fast(counts) == pytest.approx(slow(counts) / LN2, rel=1e-10, abs=1e-12)


@given(counts_strategy)
def test_plugin_equals_scipy(counts):
    assert E.plugin(counts) == pytest.approx(stats.entropy(counts, base=2), abs=1e-10)


@given(counts_strategy)
def test_estimator_inequalities(counts):
    n = sum(counts)
    k_obs = sum(1 for c in counts if c)
    h = E.plugin(counts)
    assert -1e-12 <= h <= math.log2(min(n, k_obs)) + 1e-12
    assert E.miller_madow(counts) >= h
    assert E.chao_shen(counts) >= h - 1e-12  # coverage adjustment only adds unseen mass


@pytest.mark.parametrize("counts,k", [([7, 3], 2), ([5, 3, 1, 1], 8), ([1, 1, 1], 3),
                                      ([10, 1], 5), ([2, 2, 2, 2, 1], 16),
                                      ([5000, 5000], 2), ([300, 1, 1], 40), ([1] * 12, 12)])
def test_nsb_matches_enumerating_reference(counts, k):
    # the reference integrates the whole posterior (the mass beyond β = 1e6, cut off by
    # an earlier version, matters for [5000, 5000])
    mean, sd = naive.nsb(counts, k)
    est = E.estimate_counts(counts, "nsb", alphabet_size=k)
    assert est.value == pytest.approx(mean / LN2, rel=1e-9, abs=1e-9)
    assert est.stderr == pytest.approx(sd / LN2, rel=1e-6, abs=1e-9)


def test_nsb_huge_alphabet_is_finite_and_close(rng):
    # uniform over 2**10 states, N = 2000: NSB with K up to 2**64 stays near 10 bits
    counts = np.bincount(rng.integers(0, 2**10, 2000))
    for k in (2.0**10, 2.0**40, 2.0**64):
        est = E.estimate_counts(counts, "nsb", alphabet_size=k)
        assert abs(est.value - 10) < 0.4 and 0 < est.stderr < 0.2


def test_nsb_rejects_alphabet_smaller_than_observed():
    with pytest.raises(ValueError, match="alphabet_size"):
        E.nsb([1, 1, 1], alphabet_size=2)


def test_jackknife_closed_form_large():
    # K states of count c: every leave-one-out term is the same, so the jackknife has a
    # closed form; the naive version would need N = 600k plug-in evaluations.
    mpmath.mp.dps = 50
    k, c = 200_000, 3
    n = k * c
    h_loo = mpmath.log(n - 1) - ((k - 1) * c * mpmath.log(c) + (c - 1) * mpmath.log(c - 1)) / (
        n - 1)
    expected = float((n * mpmath.log(k) - (n - 1) * h_loo) / mpmath.log(2))
    assert E.jackknife(np.full(k, c)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("scheme", ["multinomial", "poisson"])
@pytest.mark.parametrize("counts", [[7, 3], [5, 3, 1, 1], [1] * 10 + [4] * 5, [30, 20, 1, 1]])
def test_bootstrap_replicate_mean_matches_exact_multinomial(counts, scheme):
    """mean(Ĥ*) over many replicates equals E*[Ĥ*] on the empirical pmf (exact sum)."""
    exact = naive.bootstrap_exact_mean(counts) / LN2
    h = E.plugin(counts)
    n_boot = 20000
    est = E.estimate_counts(counts, "bootstrap", n_boot=n_boot, rng=7, scheme=scheme)
    mean_star = 2 * h - est.value
    se = est.stderr / math.sqrt(n_boot)
    tolerance = 4 * se
    if scheme == "poisson":
        # documented discrepancy of the Poisson scheme: (K-1)/(2 N^2) nats, to leading order
        n, k = sum(counts), len(counts)
        tolerance += 1.5 * (k - 1) / (2 * n * n) / LN2
    assert abs(mean_star - exact) < tolerance


def test_bootstrap_schemes_agree_with_row_resampling(rng):
    counts = [12, 6, 3, 2, 1, 1]
    by_rows = naive.bootstrap_by_rows(counts, 3000, rng) / LN2
    for scheme in ("multinomial", "poisson"):
        est = E.estimate_counts(counts, "bootstrap", n_boot=3000, rng=1, scheme=scheme)
        assert est.stderr == pytest.approx(by_rows.std(ddof=1), rel=0.1)


def test_bootstrap_auto_scheme_is_exact_when_it_matters():
    small = E.estimate_counts([7, 3], "bootstrap", rng=5)
    assert small == E.estimate_counts([7, 3], "bootstrap", rng=5, scheme="multinomial")
    big = np.ones(50, np.int64)  # K_obs * n_boot = 5e4 > 2e4: the profile scheme
    assert E.estimate_counts(big, "bootstrap", rng=5, n_boot=1000) == E.estimate_counts(
        big, "bootstrap", rng=5, n_boot=1000, scheme="poisson")


def test_bootstrap_reproducible_and_order_free():
    a = E.estimate_counts([5, 1, 9, 2], "bootstrap", rng=3)
    b = E.estimate_counts([9, 2, 5, 1], "bootstrap", rng=3)
    assert a == b
    lo, hi = a.ci
    assert lo < a.value < hi


def test_bootstrap_corrects_bias_when_well_sampled(rng):
    """Well sampled (K=8, N=200): the corrected estimate is unbiased within 4 s.e."""
    pmf = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02])
    h_true = -np.sum(pmf * np.log2(pmf))
    plug, boot = [], []
    for _ in range(400):
        c = rng.multinomial(200, pmf)
        plug.append(E.plugin(c))
        boot.append(E.bootstrap(c, n_boot=200, rng=rng))
    plug, boot = np.array(plug), np.array(boot)
    exact_plugin = naive.expected_plugin(pmf, 200) / LN2
    assert abs(plug.mean() - exact_plugin) < 4 * plug.std() / 20
    assert abs(boot.mean() - h_true) < 4 * boot.std() / 20
    assert abs(boot.mean() - h_true) < abs(plug.mean() - h_true) / 3


def test_registry_lookup_lists_names():
    assert E.ESTIMATORS[:2] == ("plugin", "miller_madow")
    assert E.get_estimator("nsb") is E.nsb
    with pytest.raises(ValueError, match="plugin, miller_madow"):
        E.get_estimator("shannon")


@pytest.mark.parametrize(
    "kwargs,match",
    [({"n_boot": 0}, "n_boot"), ({"ci": 1.0}, "ci"), ({"ci": 0}, "ci"), ({"base": 1}, "base"),
     ({"base": -2}, "base"), ({"alphabet_size": float("nan")}, "alphabet_size"),
     ({"scheme": "exact"}, "scheme")],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        E.estimate_counts([3, 4], "bootstrap", **kwargs)
    with pytest.raises(ValueError, match=match):  # the same check, without estimating
        E.check_options("bootstrap", **kwargs)


def test_check_options_estimates_nothing(monkeypatch):
    # the CLI refuses bad options before its work this way; it used to run a bootstrap
    # of 1000 replicates on dummy counts, which compiled the multinomial kernel (3-4 s
    # of a cold `mi-regimes estimate --estimator bootstrap`) for nothing
    def refuse(*args, **kwargs):
        raise AssertionError("check_options ran an estimator")

    monkeypatch.setitem(E._REGISTRY, "bootstrap", refuse)
    log_base, rng = E.check_options("bootstrap", n_boot=50, ci=0.9, rng=3)
    assert log_base == pytest.approx(np.log(2)) and isinstance(rng, np.random.Generator)
    assert E.check_options("plugin")[1] is None
    with pytest.raises(TypeError, match="n_bot: unknown option"):
        E.check_options("plugin", n_bot=3)
    with pytest.raises(ValueError, match="plugin, miller_madow"):
        E.check_options("shannon")


@pytest.mark.parametrize(
    "counts,err",
    [([], ValueError), ([[1, 2]], ValueError), ([-1, 3], ValueError), ([0, 0], ValueError),
     ([1.5, 2], ValueError), ([np.nan, 1], ValueError), (["a", "b"], TypeError)],
)
def test_bad_counts(counts, err):
    with pytest.raises(err, match="counts"):
        E.plugin(counts)


@pytest.mark.parametrize("counts, err, match", [
    # the count under the mask was read as a count, silently
    (np.ma.masked_array([5, 3, 2], mask=[True, False, False]), ValueError,
     "counts: masked array with masked entries"),
    (iter([5, 3, 2]), TypeError, r"counts: a list_iterator \(an iterator\)"),
    (__import__("collections").Counter("aab"), TypeError,
     r"counts: got a Counter; pass its counts, e.g. list\(counts.values\(\)\)"),
    (np.array([5, 2**70], dtype=object), ValueError, "counts: a count beyond int64"),
])
def test_counts_in_containers_that_hid_their_values(counts, err, match):
    with pytest.raises(err, match=match):
        E.estimate_counts(counts, "plugin")


@pytest.mark.parametrize("form", [
    lambda c: np.ma.masked_array(c, mask=False), lambda c: np.array(c, dtype=object),
    lambda c: pd.Series(c).astype("Int64"), lambda c: tuple(c), lambda c: c.astype(">i8"),
])
def test_count_containers_give_the_plain_value(form):
    counts = np.array([5, 3, 2, 1])
    for name in ("plugin", "miller_madow", "nsb"):
        assert (E.estimate_counts(form(counts), name).value
                == E.estimate_counts(counts, name).value)


@pytest.mark.parametrize("counts", [np.array([2**62, 2**62]), np.array([2**63 + 5], np.uint64),
                                    np.array([1e300, 1.0]), np.array([2**52, 2**52, 1])])
@pytest.mark.parametrize("name", ["plugin", "miller_madow", "bootstrap"])
def test_totals_beyond_exact_float64_are_refused(counts, name):
    # [2**62, 2**62] summed past int64 and gave a plug-in entropy of 0 instead of 1 bit
    with pytest.raises(ValueError, match=r"counts: counts sum to .* more than 2\*\*53"):
        E.estimate_counts(counts, name, rng=0)


def test_totals_up_to_2_to_the_53_are_accepted_and_right():
    for half in (2**30, 2**51, 2**52):
        assert E.plugin(np.array([half, half])) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("bits", [400, 1024, 5000])
def test_nsb_without_coincidences_on_astronomical_alphabets_is_finite(bits):
    # no coincidences: the posterior is flat in ln κ up to ln K, far beyond where κ = e^u
    # overflows; the κ -> ∞ forms keep the mean and s.d. finite (they were NaN), and the
    # mean stays between log2 N and log2 K
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = E.estimate_counts([1] * 1438, "nsb", alphabet_size=2**bits)
    assert math.log2(1438) < est.value < bits
    assert math.isfinite(est.stderr) and est.stderr > 0


def test_value_of_valid_counts_is_estimate_counts_without_the_checks():
    counts = np.bincount(np.random.default_rng(4).integers(0, 300, 700))
    counts = counts[counts > 0].astype(np.int64)
    for name in ("plugin", "miller_madow", "jackknife", "chao_shen", "grassberger"):
        assert E.value_of_valid_counts(counts, name) == E.estimate_counts(counts, name).value


@pytest.mark.parametrize("name", E.ESTIMATORS)
def test_an_alphabet_smaller_than_the_states_seen_is_refused(name):
    # jvhw, unseen and pym capped their value at log2 K: with K = 16 and 197 states seen
    # they said 4 bits without a word; pym with K = 1 said 0 bits (NSB alone refused)
    counts = np.bincount(np.random.default_rng(0).integers(0, 4096, 200))
    counts = counts[counts > 0]
    assert counts.size == 197
    for k in (1, 16, 196):
        with pytest.raises(ValueError, match=f"alphabet_size: {k} is smaller than the 197 "
                                             "states observed"):
            E.estimate_counts(counts, name, alphabet_size=k, rng=0)
    assert math.isfinite(E.estimate_counts(counts, name, alphabet_size=197, rng=0).value)


def test_bootstrap_replicates_beyond_memory_are_refused_by_name():
    # 1e20 failed to compile in the kernel (a Numba typing error), 1e12 raised MemoryError
    for n_boot in (10**12, 10**20):
        with pytest.raises(ValueError, match="n_boot: number of bootstrap replicates must be "
                                             "an integer from 1 to 10000000"):
            E.estimate_counts([3, 4, 5], "bootstrap", n_boot=n_boot, rng=0)


@pytest.mark.parametrize("name", ["nsb", "pym", "jvhw", "unseen"])
def test_a_fractional_alphabet_is_refused(name):
    # 64.5 states went into the estimators' formulas as given; whole floats (2.0**100)
    # still stand for alphabets beyond int64
    with pytest.raises(ValueError, match="alphabet_size: 64.5 is not a whole number"):
        E.estimate_counts([5, 3, 2], name, alphabet_size=64.5, rng=0)
    assert (E.estimate_counts([5, 3, 2], name, alphabet_size=64.0, rng=0).value
            == E.estimate_counts([5, 3, 2], name, alphabet_size=64, rng=0).value)
