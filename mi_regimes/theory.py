"""Exact finite-sample theory for entropy estimates of synthetic sources.

All results are in bits. Each count n_k of a state with probability p_k is
Binomial(N, p_k), so with f(c) = -(c/N) log2(c/N)

    E[Ĥ_plugin] = Σ_k Σ_c Binom(c; N, p_k) f(c),    E[K_obs] = Σ_k 1 - (1 - p_k)^N.

Sources give their pmf as groups of equally likely states, so a sum over 2**64 states is
a sum over at most D + 1 groups; each binomial sum runs only where the pmf is above
~1e-30 (mean ± 12 s.d., in log space).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special

from .sources import Source

__all__ = [
    "expected_entropy",
    "expected_observed",
    "variance_entropy",
    "sd_entropy",
    "saturation_probability",
    "saturation_boundary",
    "THEORY_ESTIMATORS",
    "TheoryValue",
]

LN2 = math.log(2.0)
#: Estimators whose expectation :func:`expected_entropy` computes exactly.
THEORY_ESTIMATORS = ("plugin", "miller_madow")


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


def _binom_range(n: int, p: float, start: int = 1) -> np.ndarray:
    """Counts c in start..n where Binom(c; n, p) is not negligible (mass outside < 1e-30)."""
    mu = n * p
    sd = math.sqrt(n * p * (1 - p))
    lo = max(start, int(math.floor(mu - 12 * sd - 1)))
    hi = min(n, int(math.ceil(mu + 12 * sd + 30)))
    return np.arange(lo, hi + 1, dtype=np.float64)


def _log_binom_pmf(c: np.ndarray, n: int, p: float) -> np.ndarray:
    return (special.gammaln(n + 1) - special.gammaln(c + 1) - special.gammaln(n - c + 1)
            + c * math.log(p) + (n - c) * math.log1p(-p))


def _f(c: np.ndarray, n: int) -> np.ndarray:
    q = c / n
    return -q * np.log2(q)


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
    m, p = _check_source(source).pmf_groups()
    n = _check_n(n)
    with np.errstate(divide="ignore"):
        seen = -np.expm1(n * np.log1p(-p))
    return float(np.sum(m * seen))


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
    m, p = source.pmf_groups()
    total = 0.0
    for mult, prob in zip(m, p, strict=True):
        if prob >= 1.0:
            continue  # a certain state contributes f(n) = 0
        c = _binom_range(n, prob)
        total += float(np.sum(np.exp(math.log(mult) + _log_binom_pmf(c, n, prob)) * _f(c, n)))
    if estimator == "miller_madow":
        total += (expected_observed(source, n) - 1.0) / (2.0 * n * LN2)
    return total


def _g(c: np.ndarray, n: int) -> np.ndarray:
    """(c/N) log2 c: Ĥ_plugin = log2 N - Σ_k g(n_k), and g(0) = g(1) = 0."""
    return c / n * np.log2(c)


def _pair_moment(n: int, p: float, q: float) -> float:
    """E[g(a) g(b)] for (a, b) the counts of two distinct states with probs p, q."""
    a = _binom_range(n, p, start=2)
    b = _binom_range(n, q, start=2)
    if a.size == 0 or b.size == 0:
        return 0.0
    log_a = _log_binom_pmf(a, n, p)
    rest = n - a[:, None]
    q_rest = q / (1.0 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_b = (special.gammaln(rest + 1) - special.gammaln(b + 1) - special.gammaln(rest - b + 1)
                 + b * math.log(q_rest) + (rest - b) * math.log1p(-q_rest))
    log_b = np.where(b[None, :] <= rest, log_b, -np.inf)
    weights = np.exp(log_a[:, None] + log_b)
    return float(np.sum(weights * (_g(a, n)[:, None] * _g(b, n)[None, :])))


#: Largest (Σ binomial range sizes)² for which ``sd_entropy`` sums exactly.
EXACT_VARIANCE_COST = 4e7


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
    m, p = source.pmf_groups()
    ranges = [_binom_range(n, pi, start=2) for pi in p]
    cost = float(sum(c.size for c in ranges) ** 2)
    if method == "exact" or (method == "auto" and cost <= EXACT_VARIANCE_COST):
        mean_g = np.zeros(p.size)
        second_g = np.zeros(p.size)
        for i, (pi, c) in enumerate(zip(p, ranges, strict=True)):
            if c.size and pi < 1.0:
                pmf, gc = np.exp(_log_binom_pmf(c, n, pi)), _g(c, n)
                mean_g[i], second_g[i] = np.sum(pmf * gc), np.sum(pmf * gc * gc)
        var = float(np.sum(m * (second_g - mean_g**2)))
        for g in range(p.size):
            for h in range(g, p.size):
                pairs = m[g] * (m[g] - 1) if g == h else 2 * m[g] * m[h]
                if pairs == 0 or p[g] + p[h] > 1 + 1e-12:
                    continue
                cov = _pair_moment(n, p[g], p[h]) - mean_g[g] * mean_g[h]
                var += pairs * cov
        return TheoryValue(max(float(var), 0.0), "exact")
    ln_p = np.log(p)
    h = -np.sum(m * p * ln_p)
    var = (np.sum(m * p * ln_p**2) - h * h) / n + (m.sum() - 1) / (2.0 * n * n)
    return TheoryValue(float(var) / LN2**2, "asymptotic (Basharin)")


def sd_entropy(source: Source, n: int) -> TheoryValue:
    """Standard deviation of the plug-in entropy (bits), never above its bound.

    Exact (:func:`variance_entropy`) wherever feasible. Otherwise Basharin's asymptotic
    formula where it holds (every state expected at least 20 times), else a Monte Carlo
    estimate (fixed seed, 200 to 2000 draws, labelled with its relative standard error);
    in any case at most log2(N)/2: Ĥ_plugin lies in [0, log2 N], and a variable on an
    interval of length L has standard deviation at most L/2 (Popoviciu's inequality).

    Returns
    -------
    TheoryValue
        ``(sd, method)``.

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
    _, p = source.pmf_groups()
    if n * float(p.min()) >= 20:
        return TheoryValue(min(math.sqrt(var.value), bound), var.method)
    # neither exact (too many pmf groups) nor asymptotic (states seen rarely): simulate
    reps = int(min(2000, max(200, 2e7 // n)))
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
    m, p = source.pmf_groups()
    return float(m.sum()) if np.allclose(p, p[0], rtol=1e-12, atol=0) else None


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
    if k is not None:
        lo, hi = 1, int(min(k + 1, 2**62))
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _log_prob_all_distinct_uniform(k, mid) >= math.log(0.5):
                lo = mid
            else:
                hi = mid
        return TheoryValue(float(hi), "exact")
    c = 2.0**source.collision_entropy
    return TheoryValue((1 + math.sqrt(1 + 8 * LN2 * c)) / 2, "collision approximation")
