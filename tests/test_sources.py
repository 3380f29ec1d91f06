import math

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mi_regimes as mr
from mi_regimes import sources as S

SMALL = [
    S.bernoulli(6, 0.5), S.bernoulli(7, 0.2), S.bernoulli(5, 0.0), S.uniform_codebook(9, 40, 1),
    S.sparse(8, 3), S.sparse(5, 0), S.markov(7, 0.8), S.markov(6, 0.5),
    S.zipf_codebook(10, 60, 1.3, 2), S.markov(6, 0.0), S.markov(6, 1.0),
    S.dyadic_zipf(8, 1.0), S.dyadic_zipf(7, 2.5), S.heavy_tail(9),
]


@pytest.mark.parametrize("src", SMALL, ids=str)
def test_exact_quantities_match_enumeration(src):
    """Enumerate all 2**d rows: the pmf sums to 1 and gives H, H2 and the support."""
    words = naive.all_words(src.d)
    p = np.exp2(src.log2_prob(words))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    q = p[p > 0]
    assert src.entropy == pytest.approx(-(q * np.log2(q)).sum(), abs=1e-10)
    assert src.collision_entropy == pytest.approx(-np.log2((q * q).sum()), abs=1e-10)
    assert src.support == pytest.approx(q.size)
    m, probs = src.pmf_groups()
    assert (m * probs).sum() == pytest.approx(1.0, abs=1e-12)
    assert src.entropy == pytest.approx(-(m * probs * np.log2(probs)).sum(), abs=1e-9)
    weights = np.bincount(words.sum(axis=1), weights=p, minlength=src.d + 1)
    np.testing.assert_allclose(src.weight_pmf(), weights, atol=1e-12)


@pytest.mark.parametrize(
    "src",
    SMALL + [S.bernoulli(40, 0.3), S.markov(64, 0.95), S.uniform_codebook(70, 500, 3),
             S.sparse(100, 2), S.bernoulli(64, 0.5), S.bernoulli(33, 0.5)],
    ids=str,
)
def test_inequalities_and_sampling_frequencies(src):
    assert src.collision_entropy <= src.entropy + 1e-9
    assert src.entropy <= math.log2(src.support) + 1e-9
    rng = np.random.default_rng(2024)
    x = src.sample(20_000, rng)
    assert x.shape == (20_000, src.d) and x.dtype == np.uint8
    logp = src.log2_prob(x)
    assert np.all(np.isfinite(logp)), "a sample fell outside the support"
    # chi-square over the groups of equal probability
    m, probs = src.pmf_groups()
    probs, inverse = np.unique(probs, return_inverse=True)  # merge equal-probability groups
    m = np.bincount(inverse, weights=m)
    group = np.argmin(np.abs(logp[:, None] - np.log2(probs)[None, :]), axis=1)
    observed = np.bincount(group, minlength=probs.size).astype(float)
    expected = 20_000 * m * probs
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    if keep.sum() > 1:
        assert stats.chisquare(obs[keep], exp[keep] * obs.sum() / exp[keep].sum()).pvalue > 1e-3


def test_sampling_reproducible_and_packed_consistent():
    src = S.markov(70, 0.9)
    a = src.sample(100, 5)
    b = src.sample(100, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mr.pack_bits(a).words, src.sample_packed(100, 5).words)


@pytest.mark.parametrize("src", [S.bernoulli(70, 0.2), S.markov(70, 0.9), S.heavy_tail(40),
                                 S.sparse(70, 3), S.dyadic_zipf(90, 1.0)], ids=str)
def test_sampling_in_blocks_keeps_the_distribution(src, monkeypatch):
    from mi_regimes.sources import _base

    whole = src.sample_packed(3000, 11).words
    monkeypatch.setattr(_base, "SAMPLE_BLOCK", src.d * 7)  # blocks of 7 rows
    blocked = src.sample_packed(3000, 11)
    assert blocked.words.shape == whole.shape and blocked.d == src.d
    assert np.all(np.isfinite(src.log2_prob(blocked.unpack()))), "outside the support"
    # the mean Hamming weight of 3 000 rows against the exact weight distribution
    weights = blocked.unpack().sum(axis=1)
    pmf = src.weight_pmf()
    mean = float(pmf @ np.arange(src.d + 1))
    sd = math.sqrt(float(pmf @ (np.arange(src.d + 1) - mean) ** 2))
    assert abs(weights.mean() - mean) < 5 * sd / math.sqrt(3000) + 1e-9
    if src.name in ("bernoulli", "sparse"):  # one float (or key) per bit: the same stream
        np.testing.assert_array_equal(blocked.words, whole)


def test_wide_draws_stay_within_a_bounded_memory():
    import tracemalloc

    tracemalloc.start()
    x = S.bernoulli(1024, 0.2).sample_packed(40_000, 0)  # 41 M bits: 330 MB as one draw
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert x.words.shape == (40_000, 16) and peak < 250 * 2**20
    assert abs(x.unpack().mean() - 0.2) < 0.001


def test_labelled_mutual_information():
    pair = S.labelled(S.bernoulli(6, 0.3), noise=0.1, n_classes=3)
    t, y = pair.sample(200_000, np.random.default_rng(0))
    # the plug-in is nearly unbiased here (64 x 3 states, 2e5 samples)
    assert mr.mutual_information(t, y) == pytest.approx(pair.mutual_information, abs=0.01)
    assert mr.conditional_entropy(y, t) == pytest.approx(pair.conditional_entropy, abs=0.01)
    assert pair.mutual_information <= min(pair.label_entropy, pair.source.entropy)
    exact = S.labelled(S.bernoulli(4), noise=0.0, n_classes=2)
    assert exact.mutual_information == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call,err,match",
    [(lambda: S.bernoulli(0), ValueError, "d: must be"),
     (lambda: S.bernoulli(4, 1.5), ValueError, r"p: must be a finite number in \[0, 1\]"),
     (lambda: S.bernoulli(4, float("nan")), ValueError, r"p: must be a finite number in"),
     (lambda: S.bernoulli(2.5), TypeError, "d: expected an integer"),
     (lambda: S.uniform_codebook(3, 9), ValueError, "support: must be an integer between 1 and 8"),
     (lambda: S.sparse(4, 5), ValueError, "ones: must be an integer between 0 and 4"),
     (lambda: S.markov(4, -0.1), ValueError, "p_stay"),
     (lambda: S.zipf_codebook(8, 10, -1), ValueError, r"s: must be a finite number in \[0"),
     (lambda: S.labelled("x"), TypeError, "source: expected a Source"),
     (lambda: S.labelled(S.bernoulli(3), 2.0), ValueError, "noise"),
     (lambda: S.make("gauss", 4), ValueError, "family: unknown source family 'gauss'"),
     (lambda: S.make("bernoulli", 4, q=1), ValueError, "params: bernoulli takes p"),
     (lambda: S.bernoulli(4).sample(0), ValueError, "n: must be")],
)
def test_bad_parameters(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("src", SMALL, ids=str)
def test_log_groups_are_the_logs_of_the_groups(src):
    m, p = src.pmf_groups()
    log_m, log_p = src.log_pmf_groups()
    np.testing.assert_allclose(np.exp(log_m), m, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_p), p, rtol=1e-12)


@pytest.mark.parametrize("src", [S.bernoulli(2000, 0.2), S.bernoulli(3000, 0.5),
                                 S.markov(2500, 0.9), S.dyadic_zipf(1500, 1.0),
                                 S.dyadic_zipf(3000, 0.5)], ids=str)
def test_wide_sources_are_exact_in_log_space(src):
    """Groups of ~2**2000 states of probability ~2**-2000: beyond float64, not beyond logs."""
    with pytest.raises(ValueError, match="too wide for pmf groups in float64.*log_pmf_groups"):
        src.pmf_groups()
    log_m, log_p = src.log_pmf_groups()
    assert np.all(np.isfinite(log_m)) and np.all(np.isfinite(log_p))
    total = np.exp(log_m + log_p).sum()  # every group's mass is at most 1: representable
    assert total == pytest.approx(1.0, abs=1e-10)
    assert 0 < src.collision_entropy <= src.entropy <= src.d
    if src.name in ("bernoulli", "markov"):  # closed forms beside the group sums
        closed = type(src).entropy.fget(src)
        assert mr.sources.Source.entropy.fget(src) == pytest.approx(closed, rel=1e-10)
    assert src.sample(3, 0).shape == (3, src.d)


def test_markov_that_never_or_always_switches_has_two_words():
    # p_stay = 0 used to lose its only group (0 * log 0 = nan)
    for p_stay, word in ((1.0, [0, 0, 0, 0, 0]), (0.0, [0, 1, 0, 1, 0])):
        src = S.markov(5, p_stay)
        assert src.entropy == src.collision_entropy == 1.0 and src.support == 2.0
        assert mr.theory.expected_observed(src, 50) == pytest.approx(2.0)
        x = src.sample(200, 0)
        assert {tuple(r) for r in x} <= {tuple(word), tuple(1 - np.array(word))}


@settings(deadline=None, max_examples=40)
@given(d=st.integers(1, 3000), p=st.floats(1e-6, 1 - 1e-6),
       p_stay=st.floats(1e-6, 1 - 1e-6))
def test_group_sums_match_closed_forms_at_any_width(d, p, p_stay):
    """H and H2 summed over the log-space groups equal the closed forms, for any D."""
    for src in (S.bernoulli(d, p), S.markov(d, p_stay)):
        groups_h = mr.sources.Source.entropy.fget(src)
        groups_h2 = mr.sources.Source.collision_entropy.fget(src)
        assert groups_h == pytest.approx(src.entropy, rel=1e-9, abs=1e-9)
        assert groups_h2 == pytest.approx(src.collision_entropy, rel=1e-9, abs=1e-9)
        log_m, log_p = src.log_pmf_groups()
        assert np.exp(log_m + log_p).sum() == pytest.approx(1.0, abs=1e-9)


def test_heavy_tail_with_more_heavy_states_than_words_is_refused():
    # drawing 4 distinct heavy words of 1 bit looped for ever (mi-regimes heatmap
    # --family heavy_tail --d 1:...)
    with pytest.raises(ValueError, match=r"heavy: 4 distinct heavy states do not fit 1-bit"):
        S.heavy_tail(1, heavy=4)
    for d in (1, 2, 3):  # a grid over D caps them, as it does support and tail_bits
        source = S.make("heavy_tail", d)
        assert source.pmf_groups()[0].sum() <= 2**d
        assert 0 <= source.entropy <= d


@pytest.mark.parametrize("family", sorted(S.FAMILIES))
def test_a_draw_larger_than_memory_is_refused_by_name(family, monkeypatch):
    # sample_packed(10**10) of 64 bits raised NumPy's MemoryError (74.5 GiB), which
    # names no argument; sample() also unpacks one byte per bit on top
    import mi_regimes._validation as validation

    monkeypatch.setattr(validation, "physical_memory", lambda: 2**20)  # a 1 MiB machine
    source = S.make(family, 64)
    with pytest.raises(ValueError, match=r"n: 200000 samples of 64 bits need ~0\.0 GiB, "
                                         r"more than this machine's 0\.0 GiB"):
        source.sample_packed(200_000, 0)
    with pytest.raises(ValueError, match=r"n: 20000 samples of 64 bits \(packed, then one "
                                         r"byte per bit\)"):
        source.sample(20_000, 0)
    assert source.sample_packed(1000, 0).words.shape == (1000, 1)


@pytest.mark.parametrize("rows, match", [
    ([[0, 0.5, 1]], "rows: values must be binary"),  # was 2**-2.77, a fraction read as bits
    ([[0, 2, 1]], "rows: values must be binary"),
    ([[0, np.nan, 1]], "rows: values must be binary"),  # was 1.0 (log2 p = 0), with a warning
    (np.ma.masked_array([[0, 1, 1]], mask=[[True, False, False]]),
     "rows: masked array with masked entries"),
    ([[0, 1]], r"rows: expected shape \(m, 3\), got \(1, 2\)"),
])
def test_log2_prob_refuses_rows_that_are_not_bits(rows, match):
    with pytest.raises(ValueError, match=match):
        S.bernoulli(3, 0.3).log2_prob(rows)


def test_log2_prob_takes_every_form_of_bits():
    src = S.markov(5, 0.8)
    rows = naive.all_words(5)
    want = src.log2_prob(rows)
    for form in (rows.tolist(), 2 * rows.astype(np.int8) - 1, rows.astype(bool),
                 np.asfortranarray(rows), mr.pack_bits(rows)):
        np.testing.assert_array_equal(src.log2_prob(form), want)


@pytest.mark.parametrize("family", sorted(S.FAMILIES))
def test_every_family_refuses_more_than_2_to_the_20_bits(family):
    # theory sums over D + 1 groups in Python: D = 10^8 ran for hours, and 10^20 raised
    # NumPy's "Maximum allowed size exceeded"
    with pytest.raises(ValueError, match=r"d: must be an integer between 1 and 1048576, "
                                         r"got 1048577"):
        S.make(family, 2**20 + 1)


@pytest.mark.parametrize("src", [S.zipf_codebook(10), S.uniform_codebook(12),
                                 S.make("heavy_tail", 12)], ids=str)
def test_sources_with_arrays_compare_by_their_parameters(src):
    # their codebooks (arrays) were compared too: == raised "truth value of an array is
    # ambiguous", and so did `src in [...]`
    rebuilt = S.make(src.name, **src.params)
    assert rebuilt == src and src in [S.bernoulli(3), rebuilt]
    assert src != S.make(src.name, **{**src.params, "codebook_seed": 1})


def test_sources_are_hashable_and_equal_ones_hash_alike():
    # frozen, yet hash() raised "unhashable type: 'dict'" (their params), so a source
    # could not key a dict of results
    built = [S.make(family, 12) for family in S.FAMILIES]
    rebuilt = [S.make(s.name, **s.params) for s in built]
    assert {s: i for i, s in enumerate(built)} == {s: i for i, s in enumerate(rebuilt)}
    assert len(set(built)) == len(built)
    pair = S.labelled(built[0], 0.1, 4)
    assert hash(pair) == hash(S.labelled(rebuilt[0], 0.1, 4))
