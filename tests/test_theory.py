import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mi_regimes as mr
from mi_regimes import sources as S
from mi_regimes import theory as T
from mi_regimes.counting import count_rows
from mi_regimes.estimators import estimate_counts


def test_known_values():
    assert T.expected_entropy(S.bernoulli(8, 0.5), 64) == pytest.approx(5.7657, abs=1e-4)
    four = S.uniform_codebook(2, 4)
    assert T.expected_entropy(four, 20) == pytest.approx(1.88598, abs=1e-5)
    assert T.expected_entropy(four, 20) * math.log(2) == pytest.approx(1.30726, abs=1e-5)


@pytest.mark.parametrize("src", [S.bernoulli(5, 0.3), S.markov(6, 0.7), S.sparse(7, 2),
                                 S.zipf_codebook(8, 30, 1.1, 4)], ids=str)
@pytest.mark.parametrize("n", [1, 7, 40, 300])
def test_expected_plugin_matches_naive_binomial_sum(src, n):
    words = naive.all_words(src.d)
    pmf = np.exp2(src.log2_prob(words))
    exact = naive.expected_plugin(pmf[pmf > 0], n) / math.log(2)
    assert T.expected_entropy(src, n) == pytest.approx(exact, abs=1e-10)
    k_obs = float(np.sum(1 - (1 - pmf) ** n))
    assert T.expected_observed(src, n) == pytest.approx(k_obs, rel=1e-10)
    assert T.expected_entropy(src, n, "miller_madow") == pytest.approx(
        exact + (k_obs - 1) / (2 * n * math.log(2)), abs=1e-10)


CELLS = [  # (source, n): well sampled, N ~ K, and undersampled
    (S.bernoulli(4, 0.5), 200), (S.bernoulli(8, 0.5), 64), (S.bernoulli(12, 0.5), 256),
    (S.bernoulli(20, 0.2), 500), (S.markov(16, 0.9), 100), (S.uniform_codebook(30, 5000, 1), 2000),
    (S.sparse(16, 3), 150), (S.zipf_codebook(24, 2000, 1.0, 5), 300), (S.bernoulli(40, 0.5), 1000),
    # wide: multiplicities and probabilities beyond float64 (theory sums in logs)
    (S.markov(1500, 0.998), 300), (S.dyadic_zipf(1025, 1.0), 100), (S.bernoulli(1100, 0.005), 200),
]


@pytest.mark.parametrize("src,n", CELLS, ids=lambda v: str(v))
def test_monte_carlo_mean_within_4_standard_errors(src, n):
    rng = np.random.default_rng(99)
    reps = 400
    values = {"plugin": [], "miller_madow": []}
    k_obs = []
    for _ in range(reps):
        counts = count_rows(src.sample_packed(n, rng))
        k_obs.append(counts.size)
        for e in values:
            values[e].append(estimate_counts(counts, e).value)
    for e, v in values.items():
        v = np.array(v)
        se = v.std(ddof=1) / math.sqrt(reps)
        # floor: a cell can be (almost) deterministic, e.g. all 2**4 states always seen
        assert abs(v.mean() - T.expected_entropy(src, n, e)) < 4 * se + 1e-6, e
    se_k = np.std(k_obs, ddof=1) / math.sqrt(reps)
    assert abs(np.mean(k_obs) - T.expected_observed(src, n)) < 4 * se_k + 1e-3


@pytest.mark.parametrize("src,n", [(S.bernoulli(3, 0.5), 30), (S.bernoulli(4, 0.3), 50),
                                   (S.markov(4, 0.8), 25)], ids=lambda v: str(v))
def test_exact_variance_matches_monte_carlo(src, n):
    var = T.variance_entropy(src, n)
    assert var.method == "exact"
    rng = np.random.default_rng(7)
    v = np.array([mr.entropy(src.sample(n, rng)) for _ in range(4000)])
    # the sample variance of 4000 draws is within ~10 % of the truth
    assert v.var(ddof=1) == pytest.approx(var.value, rel=0.1)


@pytest.mark.parametrize("src", [S.bernoulli(1, 0.5), S.bernoulli(1, 0.3), S.markov(1, 0.9)],
                         ids=str)
@pytest.mark.parametrize("n", [2, 7, 100])
def test_two_state_sources_variance_by_enumeration(src, n):
    # two states holding all the mass: the pair moment's second state has q / (1 - p) = 1,
    # whose log-binomial raised "math domain error" (mi-regimes heatmap --exact from D = 1)
    from scipy.stats import binom

    p = float(src.pmf_groups()[1][0])
    c = np.arange(n + 1)
    h = np.array([naive.plugin([k, n - k]) for k in c]) / math.log(2)  # nats to bits
    pmf = binom.pmf(c, n, p)
    mean = float(np.sum(pmf * h))
    var = float(np.sum(pmf * (h - mean) ** 2))
    got = T.variance_entropy(src, n)
    assert got.method == "exact"
    assert got.value == pytest.approx(var, rel=1e-9, abs=1e-12)
    assert T.expected_entropy(src, n) == pytest.approx(mean, rel=1e-12, abs=1e-12)


def test_asymptotic_variance_approaches_exact():
    src = S.bernoulli(3, 0.3)
    exact = T.variance_entropy(src, 2000, "exact")
    asym = T.variance_entropy(src, 2000, "asymptotic")
    assert asym.method.startswith("asymptotic")
    assert asym.value == pytest.approx(exact.value, rel=0.02)


def test_saturation_d64():
    src = S.bernoulli(64, 0.5)
    rng = np.random.default_rng(1)
    for n in (16, 1000, 10_000):
        assert T.saturation_probability(src, n).value > 0.999
        for _ in range(5):
            assert mr.entropy(src.sample(n, rng)) == pytest.approx(math.log2(n), abs=1e-12)


def test_no_saturation_d4():
    src = S.bernoulli(4, 0.5)
    assert T.saturation_probability(src, 10_000).value == 0.0
    h = mr.entropy(src.sample(10_000, 3))
    assert h < 4.0 < math.log2(10_000)


def test_saturation_probability_exact_uniform_matches_monte_carlo():
    src = S.uniform_codebook(10, 200, 2)
    n = 20
    p = T.saturation_probability(src, n)
    assert p.method == "exact"
    expected = math.prod(1 - i / 200 for i in range(n))
    assert p.value == pytest.approx(expected, rel=1e-12)
    rng = np.random.default_rng(4)
    hits = np.mean([count_rows(src.sample_packed(n, rng)).size == n for _ in range(4000)])
    assert hits == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / 4000))


def test_saturation_boundary():
    b = T.saturation_boundary(S.bernoulli(20))
    assert b.method == "exact"
    k = 2.0**20
    n = int(b.value)
    assert math.prod(1 - i / k for i in range(n)) < 0.5 <= math.prod(1 - i / k
                                                                     for i in range(n - 1))
    approx = T.saturation_boundary(S.markov(30, 0.6))
    assert approx.method == "collision approximation"
    p = T.saturation_probability(S.markov(30, 0.6), round(approx.value)).value
    assert p == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("call,err,match", [
    (lambda: T.expected_entropy("x", 5), TypeError, "source: expected a Source"),
    (lambda: T.expected_entropy(S.bernoulli(3), 0), ValueError, "n: sample size"),
    (lambda: T.expected_entropy(S.bernoulli(3), 5, "nsb"), ValueError, "estimator: exact"),
    (lambda: T.variance_entropy(S.bernoulli(3), 5, "fast"), ValueError, "method"),
])
def test_bad_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("src,n", [
    (S.bernoulli(8, 0.5), 64), (S.bernoulli(40, 0.5), 16), (S.bernoulli(20, 0.5), 256),
    (S.markov(30, 0.9), 100), (S.zipf_codebook(14, 3000, 1.0, 1), 500),
    (S.heavy_tail(24, 4, 20, 0.1), 300), (S.dyadic_zipf(32, 1.0), 1000),
    (S.bernoulli(6, 0.5), 20_000)], ids=str)
def test_sd_entropy_matches_monte_carlo_and_its_bound(src, n):
    sd = T.sd_entropy(src, n)
    assert sd.value <= math.log2(n) / 2
    rng = np.random.default_rng(11)
    values = [estimate_counts(count_rows(src.sample_packed(n, rng)), "plugin").value
              for _ in range(3000)]
    mc = float(np.std(values, ddof=1))
    # where coincidences are rare the estimate is heavy-tailed and its s.d. is noisy
    # (about 5 % from 3000 draws at N = 256, D = 20): allow 15 % or 1e-4 bits
    assert sd.value == pytest.approx(mc, rel=0.15, abs=1e-4), (sd, mc)


def test_theory_cli_sd_is_bounded_where_n_is_tiny(capsys):
    import json

    from mi_regimes.cli import main

    assert main(["theory", "--d", "40", "--n", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sd_plugin_bits"] <= 2.0 and out["sd_method"] == "exact"


def test_wide_sources_theory_is_finite_and_warning_free():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, underflow or log(0) on the way
        for src in (S.bernoulli(2000, 0.2), S.markov(2000, 0.9), S.dyadic_zipf(2000, 1.0)):
            assert T.expected_entropy(src, 100) == pytest.approx(math.log2(100), abs=0.02)
            assert T.expected_entropy(src, 100, "miller_madow") >= T.expected_entropy(src, 100)
            # sums over ~2000 groups of exp(ln m + ln p): ~1e-13 relative rounding
            assert 99 < T.expected_observed(src, 100) <= 100 * (1 + 1e-11)
            assert 0 <= T.sd_entropy(src, 100).value <= math.log2(100) / 2
            assert T.saturation_probability(src, 100).value > 0.9
            assert T.saturation_boundary(src).value > 100


def test_saturation_boundary_beyond_2_to_the_100_states():
    # uniform over 2**D words: N_sat is the first n past the root of n(n-1)/2 = K ln 2
    for d in (101, 300, 2000):
        got = T.saturation_boundary(S.bernoulli(d, 0.5))
        assert got.method == "exact"
        root = (1 + math.sqrt(1 + 8 * math.log(2) * 2.0 ** min(d, 1000))) / 2
        assert got.value == pytest.approx(root, rel=1e-12) if d < 1000 else got.value > 2**500
    # just below 2**100 (C(200, 20) ~ 2**90 words) the bisection and the root agree
    k = math.comb(200, 20)
    bisection = T.saturation_boundary(S.sparse(200, 20)).value
    assert bisection == pytest.approx((1 + math.sqrt(1 + 8 * math.log(2) * k)) / 2, rel=1e-12)
    # non-uniform with H2 > 1024 bits: the collision formula without overflow
    wide = T.saturation_boundary(S.bernoulli(3000, 0.3))
    assert wide.method == "collision approximation" and wide.value > 2**500


@settings(deadline=None, max_examples=40)
@given(family=st.sampled_from(["bernoulli", "markov", "dyadic_zipf"]), d=st.integers(1, 2500),
       param=st.floats(0.001, 0.999), log2_n=st.integers(0, 16))
def test_expectations_obey_their_bounds_at_any_width(family, d, param, log2_n):
    """0 <= E[Ĥ_plugin] <= min(H, log2 N) (Jensen) and E[K_obs] <= min(N, support)."""
    src = {"bernoulli": lambda: S.bernoulli(d, param), "markov": lambda: S.markov(d, param),
           "dyadic_zipf": lambda: S.dyadic_zipf(d, 3 * param)}[family]()
    n = 2**log2_n
    e = T.expected_entropy(src, n)
    slack = 1e-9 * max(1.0, src.entropy)
    assert -slack <= e <= min(src.entropy, math.log2(n)) + slack
    assert T.expected_entropy(src, n, "miller_madow") >= e - slack
    assert 1 - 1e-9 <= T.expected_observed(src, n) <= min(n, src.support) * (1 + 1e-11)


def test_exact_variance_at_layer_widths_matches_monte_carlo():
    # groups whose states are almost never seen twice are dropped from the pair sums, so
    # wide sources get the exact variance (markov(1024) at N = 65 536 was a 147 s Monte
    # Carlo); checked against simulation with a bootstrap standard error (Ĥ is far from
    # normal here: mostly log2 N, now and then a coincidence)
    assert T.sd_entropy(S.markov(1024, 0.99), 65_536).method == "exact"
    rng = np.random.default_rng(11)
    for src, n in ((S.markov(512, 0.99), 1024), (S.dyadic_zipf(200, 1.0), 16)):
        exact = T.variance_entropy(src, n)
        assert exact.method == "exact"
        v = np.array([mr.entropy(src.sample_packed(n, rng)) for _ in range(1500)])
        boot = [np.var(rng.choice(v, v.size), ddof=1) for _ in range(200)]
        assert abs(np.var(v, ddof=1) - exact.value) < 4 * np.std(boot), src


@pytest.mark.parametrize("n", [1, 2, 7, 100, 10**4, 10**6, 10**9, 10**12])
@pytest.mark.parametrize("p", [0.5, 0.3, 1e-3, math.exp(-30.0), 1 - 1e-9])
def test_binomial_log_pmf_matches_50_digit_arithmetic(n, p):
    # ln n! - ln c! - ln (n-c)! lost ~1e-16 n ln n to cancellation: off by up to 9 in
    # ln Binom at n = 1e12 (and 2e-6 at 1e9), where Loader's form stays within 1e-8
    import mpmath

    from mi_regimes._binomial import log_one_minus_exp, log_pmf_one

    mpmath.mp.dps = 50
    log_p = math.log(p) if p < 0.5 else math.log1p(-(1 - p))
    mu, sd = n * p, math.sqrt(n * p * (1 - p))
    counts = sorted({int(c) for c in (0, 1, 2, 3, mu - 3 * sd, mu, mu + 1, mu + 5 * sd, n - 1, n)
                     if 0 <= c <= n})
    log_q, p_float = log_one_minus_exp(log_p), math.exp(log_p)
    got = [log_pmf_one(float(c), float(n), log_p, log_q, p_float < 0.5, p_float)
           for c in counts]
    p_exact = mpmath.e ** mpmath.mpf(log_p)
    for c, value in zip(counts, got, strict=True):
        exact = float(mpmath.log(mpmath.binomial(n, c)) + c * mpmath.mpf(log_p)
                      + (n - c) * mpmath.log1p(-p_exact))
        if exact > -700:  # beyond, the pmf is 0 in float64 either way
            assert value == pytest.approx(exact, rel=1e-12, abs=2e-9), (c, value, exact)


@pytest.mark.parametrize("n", [10**6, 10**9, 10**12])
def test_fair_coin_expectation_at_huge_n_stays_below_one_bit(n):
    # E[Ĥ_plugin] = 1 - 1/(2N ln 2) + O(1/N²) bits for a fair coin; the cancellation
    # above gave 1.0000012 at N = 1e9 and 1.00056 at 1e12, above the 1 bit no plug-in
    # estimate can reach
    value = T.expected_entropy(S.bernoulli(1, 0.5), n)
    assert value <= 1.0
    assert value == pytest.approx(1 - 1 / (2 * n * math.log(2)), abs=1e-12)


@pytest.mark.parametrize("family, d, n", [("bernoulli", 1, 2**15), ("bernoulli", 1, 65536),
                                          ("uniform_codebook", 13, 10**6),
                                          ("bernoulli", 13, 10**6), ("sparse", 13, 65536)])
def test_exact_sd_agrees_with_basharin_where_every_state_is_seen_often(family, d, n):
    # with every state seen thousands of times the asymptotic variance holds to ~1 %;
    # the exact sum, computed from the cancelling ln Γ differences, said 0 for a fair
    # coin at N = 65 536 and 6x the truth for a 13-bit codebook at N = 1e6 (Monte Carlo
    # over 300 samples: 3.34e-5 +- 1.4e-6 bits; exact now 3.26e-5, was 2.07e-4)
    source = S.make(family, d)
    exact = T.sd_entropy(source, n)
    asymptotic = math.sqrt(T.variance_entropy(source, n, "asymptotic").value)
    assert exact.method == "exact"
    assert exact.value == pytest.approx(asymptotic, rel=0.02)


@pytest.mark.parametrize("src, n", [(S.bernoulli(8, 0.3), 10**9), (S.bernoulli(3, 0.5), 10**8),
                                    (S.markov(6, 0.9), 10**10), (S.bernoulli(1, 0.5), 10**11)])
def test_moment_series_equals_the_binomial_sum_where_it_takes_over(src, n, monkeypatch):
    # past SERIES_RANGE counts a group's E[f(c)] comes from the central moments of c;
    # there the term-by-term sum and the series agree to float64 rounding
    monkeypatch.setattr(T, "SERIES_RANGE", 1 << 62)
    summed = T.expected_entropy(src, n)
    monkeypatch.setattr(T, "SERIES_RANGE", 0)
    assert T.expected_entropy(src, n) == pytest.approx(summed, rel=0, abs=1e-13)


def test_theory_at_astronomical_n_answers_without_listing_counts():
    # 2**70 samples asked for 194 GiB (the binomial range of each group, ~√N counts)
    # and the sd at 10**18 for 41.7 GiB; both raised MemoryError
    n = 2**70
    value = T.expected_entropy(S.uniform_codebook(20, 1000, 0), n)
    assert type(value) is float
    assert value == pytest.approx(math.log2(1000) - 999 / (2 * n * math.log(2)), abs=1e-12)
    # N p past 2^63: compiled, math.floor's int64 wrapped and the sum came out 0
    assert T.expected_entropy(S.uniform_codebook(2, 4), n) == pytest.approx(2.0, abs=1e-12)
    assert T.expected_entropy(S.bernoulli(64, 0.01), n) == pytest.approx(
        S.bernoulli(64, 0.01).entropy, abs=1e-6)
    # past 2^53, c + 1 == c: a float counter over the one state's counts never ended
    assert T.sd_entropy(S.uniform_codebook(3, 1), n) == (0.0, "exact")
    sd = T.sd_entropy(S.bernoulli(8, 0.3), 10**18)
    assert sd.method == "asymptotic (Basharin)"
    assert sd.value == pytest.approx(
        math.sqrt(T.variance_entropy(S.bernoulli(8, 0.3), 10**18, "asymptotic").value))
    with pytest.raises(ValueError, match="method: the exact variance at n=1000000000000000000"):
        T.variance_entropy(S.bernoulli(8, 0.3), 10**18, "exact")


def test_sd_out_of_reach_is_refused_not_simulated_for_hours():
    # no exact sum, no Basharin (the rarest state is expected 5e-55 times): 200 draws of
    # 1e9 rows were simulated, hours of work; sd_entropy now says so by name
    with pytest.raises(ValueError, match=r"n: the sd of markov\(d=64.* is out of reach.*"
                                         r"use n <= 10000000"):
        T.sd_entropy(S.markov(64, 0.9), 10**9)


def test_theory_cli_reports_what_it_can_when_the_sd_is_out_of_reach(capsys):
    import json

    from mi_regimes.cli import main

    assert main(["theory", "--family", "markov", "--d", "64", "--n", "1000000000",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sd_plugin_bits"] is None and out["sd_method"].startswith("out of reach")
    assert 0 < out["expected_plugin_bits"] < math.log2(10**9)
    assert main(["theory", "--family", "markov", "--d", "64", "--n", "1000000000"]) == 0
    assert "sd(H_plugin)      = out of reach" in capsys.readouterr().out


def test_small_samples_warn_of_nothing(capsys):
    """At N = 1 or 2 the binomial sums handed Numba a view from np.broadcast_arrays, and
    NumPy's FutureWarning on reading its flags reached the user: `mi-regimes theory --d 8
    --n 2` printed it above the answer."""
    import warnings

    from mi_regimes.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for source in (S.bernoulli(8, 0.5), S.markov(6, 0.9), S.zipf_codebook(10)):
            for n in (1, 2, 3):
                assert math.isfinite(T.expected_entropy(source, n))
                assert math.isfinite(T.sd_entropy(source, n).value)
        assert main(["theory", "--d", "8", "--n", "2"]) == 0
    out = capsys.readouterr()
    assert "Warning" not in out.err + out.out and "E[H_plugin]" in out.out


@pytest.mark.parametrize("src,n", [(S.zipf_codebook(3, support=6), 2),
                                   (S.zipf_codebook(3, support=6), 5),
                                   (S.bernoulli(3, 0.3), 4), (S.markov(3, 0.8), 6)], ids=str)
def test_exact_variance_matches_enumeration_of_every_sample(src, n):
    """The pair moments (one compiled loop since a NumPy call per pair took 30 s for a
    1024-state Zipf codebook at N = 2) against every multinomial outcome listed."""
    groups_m, groups_p = src.pmf_groups()
    pmf = np.repeat(groups_p, groups_m.astype(int))
    mean, var = naive.plugin_moments_by_enumeration(pmf, n)
    got = T.variance_entropy(src, n)
    assert got.method == "exact"
    assert got.value == pytest.approx(var, rel=1e-10, abs=1e-14)
    assert T.expected_entropy(src, n) == pytest.approx(mean, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("src,n", [(S.zipf_codebook(12, support=3000), 10),
                                   (S.zipf_codebook(12, support=3000), 500),
                                   (S.zipf_codebook(10), 64)], ids=str)
def test_auto_variance_is_possible_where_basharin_is_not(src, n):
    """Where the exact sum costs too much and some state is expected < 20 times, ``auto``
    returned Basharin's value: 32.5 bits² for a 3000-state Zipf codebook at N = 10, whose
    plug-in lies in [0, log2 10] (variance at most 2.76 bits²). It now simulates, as
    sd_entropy did, and agrees with it."""
    var = T.variance_entropy(src, n)
    assert var.method.startswith("monte carlo")
    assert 0 < var.value <= (math.log2(n) / 2) ** 2
    sd = T.sd_entropy(src, n)
    assert sd.method.startswith("monte carlo")
    assert math.sqrt(var.value) == pytest.approx(sd.value, rel=1e-12)
    rng = np.random.default_rng(5)
    values = [estimate_counts(count_rows(src.sample_packed(n, rng)), "plugin").value
              for _ in range(2000)]
    # two independent 2000-draw estimates of one variance: each ~3 % relative s.e.
    assert var.value == pytest.approx(np.var(values, ddof=1), rel=0.15)
    # asked for by name, the formula is still what it is
    assert T.variance_entropy(src, n, "asymptotic").method == "asymptotic (Basharin)"


def test_auto_variance_out_of_reach_points_to_the_formula():
    with pytest.raises(T.OutOfReach, match=r"n: the variance of markov.*method='asymptotic'"):
        T.variance_entropy(S.markov(64, 0.9), 10**9)
    assert T.variance_entropy(S.markov(64, 0.9), 10**9, "asymptotic").value > 0


def test_wide_source_expectation_matches_naive_binomial_sum():
    """3000 distinct probabilities, summed in one compiled loop (a NumPy call per group
    took ~4 s for 65 536 of them): against scipy's binomial pmf, state by state."""
    src = S.zipf_codebook(12, support=3000)
    groups_m, groups_p = src.pmf_groups()
    pmf = np.repeat(groups_p, groups_m.astype(int))
    for n in (3, 40):
        exact = naive.expected_plugin(pmf, n) / math.log(2)
        assert T.expected_entropy(src, n) == pytest.approx(exact, rel=1e-12, abs=1e-13)


@settings(max_examples=40, deadline=None)
@given(family=st.sampled_from(sorted(S.FAMILIES)), d=st.integers(1, 7),
       n=st.integers(1, 300))
def test_expectation_of_any_family_matches_state_by_state_sum(family, d, n):
    """Every family (default parameters) against scipy's binomial over each of the 2^d
    states, listed one by one from the source's own probabilities of every word."""
    src = S.make(family, d)
    pmf = np.exp2(src.log2_prob(naive.all_words(d)))
    exact = naive.expected_plugin(pmf[pmf > 0], n) / math.log(2)
    assert T.expected_entropy(src, n) == pytest.approx(exact, rel=1e-12, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(family=st.sampled_from(sorted(S.FAMILIES)), d=st.integers(1, 3), n=st.integers(1, 6))
def test_exact_variance_of_any_family_matches_enumeration(family, d, n):
    src = S.make(family, d)
    pmf = np.exp2(src.log2_prob(naive.all_words(d)))
    mean, var = naive.plugin_moments_by_enumeration(pmf[pmf > 0], n)
    got = T.variance_entropy(src, n, "exact")
    assert got.value == pytest.approx(var, rel=1e-9, abs=1e-13)
    assert T.sd_entropy(src, n).value == pytest.approx(math.sqrt(var), rel=1e-9, abs=1e-7)
    assert T.expected_entropy(src, n) == pytest.approx(mean, rel=1e-12, abs=1e-13)
