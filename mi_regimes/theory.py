"""Exact finite-sample theory for entropy estimates of synthetic sources.

All results are in bits. Each count n_k of a state with probability p_k is
Binomial(N, p_k), so with f(c) = -(c/N) log2(c/N)

    E[Ĥ_plugin] = Σ_k Σ_c Binom(c; N, p_k) f(c),    E[K_obs] = Σ_k 1 - (1 - p_k)^N.

Sources give their pmf as groups of equally likely states, so a sum over 2**64 states is
a sum over at most D + 1 groups; each binomial sum runs only where the pmf is above
~1e-30 (mean ± 12 s.d., in log space, with the log pmf of :mod:`mi_regimes._binomial`,
accurate at any N).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np
from scipy import special

from ._binomial import log_binom_pmf, log_one_minus_exp, log_pmf_one
from .sources import Source
from .sources._base import support_size

__all__ = [
    "expected_entropy",
    "expected_observed",
    "variance_entropy",
    "sd_entropy",
    "saturation_probability",
    "saturation_boundary",
    "THEORY_ESTIMATORS",
    "TheoryValue",
    "OutOfReach",
]

LN2 = math.log(2.0)
#: Estimators whose expectation :func:`expected_entropy` computes exactly.
THEORY_ESTIMATORS = ("plugin", "miller_madow")


class OutOfReach(ValueError):
    """No method reaches the quantity at these arguments; ``reason`` says why."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.reason = reason


class TheoryValue(NamedTuple):
    """A theoretical quantity with the method that produced it ('exact' or an approximation)."""

    value: float
    method: str


def _check_source(source) -> Source:
    if not isinstance(source, Source):
        raise TypeError(f"source: expected a Source such as sources.bernoulli(8, 0.5), got "
                        f"{type(source).__name__}")
    return source


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: sample size must be an integer >= 1, got {n!r}")
    return int(n)


def _binom_bounds(n: int, p: float, start: int = 1) -> tuple[int, int]:
    """First and last count c in start..n where Binom(c; n, p) is not negligible (mass
    outside < 1e-30)."""
    mu = n * p
    sd = math.sqrt(n * p * (1 - p))
    return (max(start, int(math.floor(mu - 12 * sd - 1))),
            min(n, int(math.ceil(mu + 12 * sd + 30))))


def _binom_range(n: int, p: float, start: int = 1) -> np.ndarray:
    """The counts of :func:`_binom_bounds`, as float64."""
    lo, hi = _binom_bounds(n, p, start)
    return np.arange(lo, hi + 1, dtype=np.float64)


#: Widest binomial range :func:`expected_entropy` sums term by term (its width is ~24 s.d.).
#: A wider one, N p (1 - p) above ~7e6, takes :func:`_series_f` instead: summing it cost
#: ~√N time and memory (2**70 samples asked for 194 GiB).
SERIES_RANGE = 1 << 16


def _series_f(n: int, log_p: float) -> float:
    """E[f(c)], c ~ Binom(N, p), from the central moments of c to order 1/N² (bits).

    Taylor's series of f(c) = -(c/N) ln(c/N) about μ = Np (its second, third and fourth
    derivatives there are -1/(Nμ), 1/(Nμ²) and -2/(Nμ³)), with the central moments
    σ² = Np(1-p), Np(1-p)(1-2p) and 3σ⁴ + O(N), gives
    -p ln p - (1-p)/(2N) + [(1-p)(1-2p)/6 - (1-p)²/4] / (N²p) + O(1/(N³p²)).
    Used only where N p (1 - p) > ~7e6: the remainder is then below 1e-20 bits.
    """
    p = math.exp(log_p)
    q = -math.expm1(log_p)
    return (-p * log_p - q / (2 * n) + (q * (1 - 2 * p) / 6 - q * q / 4) / (n * n * p)) / LN2


def _log_groups(source: Source) -> tuple[np.ndarray, np.ndarray]:
    """The source's pmf groups as natural logs (:meth:`Source.log_pmf_groups`)."""
    log_m, log_p = source.log_pmf_groups()
    return np.asarray(log_m, dtype=np.float64), np.asarray(log_p, dtype=np.float64)


def _f(c: np.ndarray, n: int) -> np.ndarray:
    q = c / n
    return -q * np.log2(q)


def _log_seen(log_p: np.ndarray, n: int) -> np.ndarray:
    """ln P(a state of probability p appears in n samples) = ln(1 - (1 - p)^n)."""
    with np.errstate(under="ignore", divide="ignore"):  # p = 1: x = -inf, seen for sure
        p = np.exp(log_p)
        x = n * np.log1p(-p)  # ln (1 - p)^n
        # below |x| = 1e-10 (np <= 1e-10): ln(1 - e^x) = ln(-x) + x/2 + O(x²) and
        # ln(-x) = ln n + ln p + p/2 + O(p²), so ln n + ln p - (n - 1) p / 2 to 1e-20
        tiny = x > -1e-10
        x_tiny = np.where(tiny, math.log(n) + log_p - (n - 1) * p / 2, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(tiny, x_tiny, np.log(-np.expm1(np.minimum(x, -1e-10))))


def expected_observed(source: Source, n: int) -> float:
    """Exact E[K_obs], the expected number of distinct states in n samples.

    Parameters
    ----------
    source : Source
        A synthetic source.
    n : int
        Sample size.

    Returns
    -------
    float
    """
    log_m, log_p = _log_groups(_check_source(source))
    n = _check_n(n)
    return float(np.sum(np.exp(log_m + _log_seen(log_p, n))))


def expected_entropy(source: Source, n: int, estimator: str = "plugin") -> float:
    """Exact E[Ĥ] in bits for n iid samples of ``source``.

    Parameters
    ----------
    source : Source
        A synthetic source.
    n : int
        Sample size.
    estimator : {'plugin', 'miller_madow'}
        ``miller_madow`` adds (E[K_obs] - 1)/(2n ln 2) by linearity.

    Returns
    -------
    float

    Examples
    --------
    >>> from mi_regimes import sources, theory
    >>> round(theory.expected_entropy(sources.bernoulli(8, 0.5), 64), 4)
    5.7657
    """
    source = _check_source(source)
    n = _check_n(n)
    if estimator not in THEORY_ESTIMATORS:
        raise ValueError(f"estimator: exact expectation is available for "
                         f"{', '.join(THEORY_ESTIMATORS)}, not {estimator!r}")
    total = 0.0
    for log_mult, log_prob in zip(*_log_groups(source), strict=True):
        if log_prob >= 0.0:
            continue  # a certain state contributes f(n) = 0
        lo, hi = _binom_bounds(n, math.exp(log_prob))
        if hi - lo >= SERIES_RANGE:  # m <= 1/p here: a finite product
            total += math.exp(log_mult) * _series_f(n, log_prob)
            continue
        c = np.arange(lo, hi + 1, dtype=np.float64)
        total += float(np.sum(np.exp(log_mult + log_binom_pmf(c, n, log_prob)) * _f(c, n)))
    if estimator == "miller_madow":
        total += (expected_observed(source, n) - 1.0) / (2.0 * n * LN2)
    return float(total)


def _g(c: np.ndarray, n: int) -> np.ndarray:
    """(c/N) log2 c: Ĥ_plugin = log2 N - Σ_k g(n_k), and g(0) = g(1) = 0."""
    return c / n * np.log2(c)


#: ln 1e-40: a count c whose expected number of states (m · Binom(c; N, p)) lies below
#: this adds nothing a float64 sum can show, to the mean or to the variance.
_NEGLIGIBLE_LOG = math.log(1e-40)


def _counts_that_matter(n: int, log_m: float, log_p: float, start: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Counts c >= start some state of the group may show, and their ln Binom(c; N, p).

    Only counts whose expected number of states in the group, m · Binom(c; N, p),
    exceeds 1e-40: a wide source has thousands of groups whose states are almost never
    seen twice, and this keeps the exact variance's pair sums to the few that matter.
    """
    c = _binom_range(n, math.exp(log_p), start=start)
    if c.size == 0:
        return c, c
    log_pmf = log_binom_pmf(c, n, log_p)
    keep = log_m + log_pmf > _NEGLIGIBLE_LOG
    return c[keep], log_pmf[keep]


def _surely_kept(n: int, p: float) -> float:
    """A lower bound on the counts :func:`_counts_that_matter` keeps for a state of
    probability p: with s.d. σ >= 100, Binom(c; N, p) > 1e-40 within μ ± 8σ, so listing
    (at N ~ 1e11, 1024 groups of ~1e5 counts each) can stop once their cost is known."""
    sd = math.sqrt(n * p * (1 - p))
    if sd < 100:
        return 0.0
    return max(0.0, min(n, n * p + 8 * sd) - max(2.0, n * p - 8 * sd))


@nb.njit(cache=True)
def _pair_moments(n, counts, log_pmfs, gs, starts, log_p, first, second):
    """E[g(a) g(b)] for each pair (first[k], second[k]) of groups: (a, b) the counts of
    two distinct states with probabilities p, q, over the counts that matter for each
    (group j's: ``counts[starts[j]:starts[j + 1]]``, with their ln Binom(c; N, p) and
    their g(c)).

    Given a, b is Binomial(N - a, q / (1 - p)). One compiled loop: the pairs of a wide
    source number ~10⁶ at small N, and a NumPy call per pair took ~60 µs each.
    """
    out = np.zeros(first.size)
    for k in range(first.size):
        g, h = first[k], second[k]
        log_r = min(log_p[h] - log_one_minus_exp(log_p[g]), 0.0)  # q / (1 - p) <= 1
        log_1mr = log_one_minus_exp(log_r) if log_r < 0.0 else -np.inf
        r = math.exp(log_r)
        # Neumaier's compensated sum: the covariance is this moment minus a product of
        # nearly the same size, so the moment's rounding is what the variance shows
        total = 0.0
        lost = 0.0
        for i in range(starts[g], starts[g + 1]):
            rest = n - counts[i]
            for j in range(starts[h], starts[h + 1]):
                b = counts[j]
                if log_r >= 0.0:  # q = 1 - p: b is all the rest
                    log_b = 0.0 if b == rest else -np.inf
                else:
                    log_b = log_pmf_one(b, rest, log_r, log_1mr, r < 0.5, r)
                term = math.exp(log_pmfs[i] + log_b) * (gs[i] * gs[j])
                step = total + term
                if abs(total) >= abs(term):
                    lost += (total - step) + term
                else:
                    lost += (term - step) + total
                total = step
        out[k] = total + lost
    return out


def _times_multiplicity(log_m: float | np.ndarray, x: float | np.ndarray) -> np.ndarray:
    """m·x from ln m, finite whenever the product is (m alone may overflow float64)."""
    with np.errstate(divide="ignore"):
        return np.sign(x) * np.exp(log_m + np.log(np.abs(x)))


#: Largest (Σ binomial range sizes)² for which ``sd_entropy`` sums exactly.
EXACT_VARIANCE_COST = 4e7
#: Widest one group's binomial range may be before its counts are listed at all.
_WIDEST_EXACT = 1 << 22


def variance_entropy(source: Source, n: int, method: str = "auto") -> TheoryValue:
    """Variance of the plug-in entropy (bits²), exact or asymptotic, labelled as such.

    Parameters
    ----------
    source : Source
        A synthetic source.
    n : int
        Sample size.
    method : {'auto', 'exact', 'asymptotic'}
        ``exact`` sums the binomial and trinomial moments of g(n_k) = (n_k/N) log2 n_k
        over every pair of pmf groups (Ĥ = log2 N - Σ g(n_k), and g vanishes on counts
        0 and 1, so nothing cancels when N << K); ``asymptotic`` is Basharin's
        (Σ p ln²p - H²)/N + (K-1)/(2N²), converted to bits², accurate only when every
        state is seen many times. ``auto``: exact when its cost is at most
        :data:`EXACT_VARIANCE_COST`, else asymptotic.

    Returns
    -------
    TheoryValue
        ``(value, method)``.
    """
    source = _check_source(source)
    n = _check_n(n)
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method: choose 'auto', 'exact' or 'asymptotic', got {method!r}")
    log_m, log_p = _log_groups(source)
    p = np.exp(log_p)
    # A group this wide is far past EXACT_VARIANCE_COST (its counts that matter span at
    # least ±10 s.d.), and listing its counts alone would take gigabytes at N ~ 1e18
    widest = max(hi - lo + 1 for lo, hi in (_binom_bounds(n, float(q), 2) for q in p))
    if widest > _WIDEST_EXACT and method == "exact":
        raise ValueError(f"method: the exact variance at n={n} sums over {widest:.3g} "
                         "counts of one state; use method='auto' or 'asymptotic'")
    counts = []
    if widest <= _WIDEST_EXACT and (method == "exact" or sum(
            _surely_kept(n, float(q)) for q in p) ** 2 <= EXACT_VARIANCE_COST):
        # groups whose states are (almost) never seen twice add (almost) nothing: dropped
        counts = [_counts_that_matter(n, lm, lp, 2)
                  for lm, lp in zip(log_m, log_p, strict=True)]
    cost = float(sum(c.size for c, _ in counts) ** 2) if counts else math.inf
    if method == "exact" or (method == "auto" and cost <= EXACT_VARIANCE_COST):
        live = [i for i, (c, _) in enumerate(counts) if c.size and log_p[i] < 0.0]
        mean_g = np.zeros(p.size)
        second_g = np.zeros(p.size)
        for i in live:
            c, log_pmf = counts[i]
            pmf, gc = np.exp(log_pmf), _g(c, n)
            mean_g[i], second_g[i] = np.sum(pmf * gc), np.sum(pmf * gc * gc)
        var = float(np.sum(_times_multiplicity(log_m, second_g - mean_g**2)))
        pairs, pair_logs = [], []
        for x, g in enumerate(live):
            for h in live[x:]:
                if g == h:  # m (m - 1) ordered pairs of distinct states in one group
                    with np.errstate(divide="ignore"):
                        log_pairs = 2 * log_m[g] + math.log1p(-math.exp(-log_m[g])) \
                            if log_m[g] > 0 else -math.inf
                else:
                    log_pairs = LN2 + log_m[g] + log_m[h]
                if log_pairs == -math.inf or p[g] + p[h] > 1 + 1e-12:
                    continue
                pairs.append((g, h))
                pair_logs.append(log_pairs)
        if pairs:
            sizes = np.array([c.size for c, _ in counts], dtype=np.int64)
            starts = np.concatenate([[0], np.cumsum(sizes)])
            first, second = np.array(pairs, dtype=np.int64).T.copy()
            flat = np.concatenate([c for c, _ in counts]).astype(np.float64)
            moments = _pair_moments(
                float(n), flat, np.concatenate([lp for _, lp in counts]).astype(np.float64),
                _g(flat, n), starts, np.ascontiguousarray(log_p, dtype=np.float64), first,
                second)
            covs = moments - mean_g[first] * mean_g[second]
            # one exactly rounded sum (a NumPy call per pair cost more than the moments)
            var = math.fsum([var, *_times_multiplicity(np.array(pair_logs), covs).tolist()])
        return TheoryValue(max(float(var), 0.0), "exact")
    mass = np.exp(log_m + log_p)
    h = -np.sum(mass * log_p)
    k = support_size(log_m)
    var = (np.sum(mass * log_p**2) - h * h) / n + (k - 1) / (2.0 * n * n)
    return TheoryValue(float(var) / LN2**2, "asymptotic (Basharin)")


#: Most rows :func:`sd_entropy` simulates (draws × n) when it must simulate (~100 s).
MONTE_CARLO_SAMPLES = 200_000_000
_MIN_DRAWS = 20  # relative standard error ~16 %


def sd_entropy(source: Source, n: int) -> TheoryValue:
    """Standard deviation of the plug-in entropy (bits), never above its bound.

    Exact (:func:`variance_entropy`) wherever feasible. Otherwise Basharin's asymptotic
    formula where it holds (every state expected at least 20 times), else a Monte Carlo
    estimate (fixed seed, 200 to 2000 draws, fewer past n = 10⁶ so that at most
    :data:`MONTE_CARLO_SAMPLES` rows are drawn, labelled with its relative standard error);
    in any case at most log2(N)/2: Ĥ_plugin lies in [0, log2 N], and a variable on an
    interval of length L has standard deviation at most L/2 (Popoviciu's inequality).

    Returns
    -------
    TheoryValue
        ``(sd, method)``.

    Raises
    ------
    OutOfReach
        A ValueError, when none of the three reaches it: past n = 10⁷ when only
        simulation applies.

    Examples
    --------
    >>> from mi_regimes import sources, theory
    >>> sd = theory.sd_entropy(sources.bernoulli(40), 16)
    >>> sd.method, sd.value < 1e-4
    ('exact', True)
    """
    source = _check_source(source)
    n = _check_n(n)
    bound = math.log2(n) / 2 if n > 1 else 0.0
    var = variance_entropy(source, n, "auto")
    if var.method == "exact":
        return TheoryValue(min(math.sqrt(var.value), bound), "exact")
    if n * math.exp(float(_log_groups(source)[1].min())) >= 20:
        return TheoryValue(min(math.sqrt(var.value), bound), var.method)
    # neither exact (too many pmf groups) nor asymptotic (states seen rarely): simulate
    if n > MONTE_CARLO_SAMPLES // _MIN_DRAWS:
        raise OutOfReach(
            f"n: the sd of {source} at n={n} is out of reach", "the exact sum costs too much, "
            f"Basharin's formula needs every state expected >= 20 times (the rarest is "
            f"expected {n * math.exp(float(_log_groups(source)[1].min())):.3g} times), and "
            f"{_MIN_DRAWS} simulated data sets of n rows exceed the {MONTE_CARLO_SAMPLES:.0e} "
            f"rows it simulates at most; use n <= {MONTE_CARLO_SAMPLES // _MIN_DRAWS}")
    # 200 draws up to n = 1e6 (2000 for small n), then fewer: at most 2e8 rows (~100 s)
    reps = int(min(2000, max(200, 2e7 // n), MONTE_CARLO_SAMPLES // n))
    rng = np.random.default_rng(0)  # a fixed seed: the same source and N, the same value
    from .counting import count_words
    from .estimators import plugin

    values = [plugin(count_words(source.sample_packed(n, rng).words, overwrite=True,
                                 d=source.d)) for _ in range(reps)]
    sd = float(np.std(values, ddof=1))
    return TheoryValue(min(sd, bound), f"monte carlo ({reps} draws, relative s.e. "
                                       f"~{100 / math.sqrt(2 * reps):.0f}%)")


def _uniform_support(source: Source) -> float | None:
    """Support size K when every state is equally likely, else None."""
    log_m, log_p = _log_groups(source)
    # equal probabilities to 1e-12 relative, i.e. equal logs to 1e-12 absolute
    return support_size(log_m) if np.allclose(log_p, log_p[0], rtol=0, atol=1e-12) else None


def _log_prob_all_distinct_uniform(k: float, n: int) -> float:
    """ln Π_{i<n} (1 - i/k), in O(1)."""
    if n > k:
        return -math.inf
    if n <= 1e-4 * k:
        # Σ ln(1 - i/k) = -Σ_j S_j / (j k^j), S_j = Σ_{i<n} i^j; three terms leave an
        # error below n^5/k^4 <= 1e-16·n, far below what the probability can show
        s1 = n * (n - 1) / 2
        s2 = (n - 1) * n * (2 * n - 1) / 6
        s3 = s1 * s1
        return -(s1 / k + s2 / (2 * k * k) + s3 / (3 * k**3))
    # ln(k! / ((k - n)! k^n)); k is at most 1e4·n here, so no catastrophic cancellation
    return float(special.gammaln(k + 1) - special.gammaln(k - n + 1)) - n * math.log(k)


def saturation_probability(source: Source, n: int) -> TheoryValue:
    """Probability that all n samples are distinct (the plug-in then equals log2 n).

    Exact for sources uniform on their support (a product of (1 - i/K)); otherwise the
    collision-entropy (birthday) approximation exp(-C(n,2) 2^-H₂).

    Returns
    -------
    TheoryValue
        ``(probability, method)``.

    Examples
    --------
    >>> from mi_regimes import sources, theory
    >>> theory.saturation_probability(sources.bernoulli(64), 10_000).value > 0.99
    True
    """
    source = _check_source(source)
    n = _check_n(n)
    k = _uniform_support(source)
    if k is not None:
        return TheoryValue(math.exp(_log_prob_all_distinct_uniform(k, n)), "exact")
    pairs = n * (n - 1) / 2.0
    return TheoryValue(math.exp(-pairs * 2.0 ** (-source.collision_entropy)),
                       "collision approximation")


def saturation_boundary(source: Source) -> TheoryValue:
    """Sample size N_sat at which the all-distinct probability crosses ½.

    Returns
    -------
    TheoryValue
        ``(N_sat, method)``: exact (bisection on the uniform product) for uniform
        sources, else (1 + sqrt(1 + 8 ln2 · 2^H₂)) / 2 from the birthday approximation.
    """
    source = _check_source(source)
    k = _uniform_support(source)
    if k is not None and k <= 2.0**100:
        lo, hi = 1, int(k + 1)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _log_prob_all_distinct_uniform(k, mid) >= math.log(0.5):
                lo = mid
            else:
                hi = mid
        return TheoryValue(float(hi), "exact")
    if k is not None:
        # ln P(all distinct) = -n(n-1)/(2K) - O(n³/K²), and n³/K² < 2**-45 here: the
        # first n with P < 1/2 is the one past the root of n(n-1)/2 = K ln 2
        root = _birthday_root(math.log2(k))
        return TheoryValue(float(math.floor(root) + 1) if math.isfinite(root) else root,
                           "exact")
    return TheoryValue(_birthday_root(source.collision_entropy), "collision approximation")


def _birthday_root(log2_c: float) -> float:
    """(1 + sqrt(1 + 8 ln2 · c)) / 2 for c = 2**log2_c, ``inf`` beyond float64."""
    if log2_c < 1000:
        return (1 + math.sqrt(1 + 8 * LN2 * 2.0**log2_c)) / 2
    log2_root = log2_c / 2 + math.log2(2 * LN2) / 2  # the 1s are below float64's precision
    return 2.0**log2_root if log2_root < 1024 else math.inf
