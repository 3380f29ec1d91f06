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

import numpy as np
from scipy import special

from . import _group_sums
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


#: Widest binomial range :func:`expected_entropy` sums term by term (its width is ~24 s.d.).
#: A wider one, N p (1 - p) above ~7e6, takes :func:`._group_sums.series_f` instead:
#: summing it cost ~√N time and memory (2**70 samples asked for 194 GiB).
SERIES_RANGE = 1 << 16


def _log_groups(source: Source) -> tuple[np.ndarray, np.ndarray]:
    """The source's pmf groups as natural logs (:meth:`Source.log_pmf_groups`)."""
    log_m, log_p = source.log_pmf_groups()
    return np.asarray(log_m, dtype=np.float64), np.asarray(log_p, dtype=np.float64)


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
    log_m, log_p = _log_groups(source)
    total = _group_sums.expected_f_total(float(n), log_m, log_p, float(SERIES_RANGE))
    if estimator == "miller_madow":
        total += (expected_observed(source, n) - 1.0) / (2.0 * n * LN2)
    return float(total)


#: ln 1e-40: a count c whose expected number of states (m · Binom(c; N, p)) lies below
#: this adds nothing a float64 sum can show, to the mean or to the variance.
_NEGLIGIBLE_LOG = math.log(1e-40)
#: Largest (Σ binomial range sizes)² for which the variance is summed exactly (``auto``).
EXACT_VARIANCE_COST = 4e7
#: Widest one group's binomial range may be before its counts are listed at all.
_WIDEST_EXACT = 1 << 22
#: Most rows a Monte Carlo variance simulates (draws × n) (~100 s).
MONTE_CARLO_SAMPLES = 200_000_000
_MIN_DRAWS = 20  # relative standard error of the sd ~16 %


def _exact_variance(n: int, log_m: np.ndarray, log_p: np.ndarray, budget: float
                    ) -> float | None:
    """The exact Var Ĥ_plugin (bits²), or None when its counts that matter number more than
    ``budget`` (the pair sums then cost more than :data:`EXACT_VARIANCE_COST`).

    Only counts c >= 2 whose expected number of states m · Binom(c; N, p) exceeds 1e-40
    are kept: a wide source has thousands of groups whose states are almost never seen
    twice, and g(0) = g(1) = 0.
    """
    complete, counts, log_pmfs, gs, starts, mean_g, second_g = _group_sums.kept_counts(
        float(n), log_m, log_p, 2.0, _NEGLIGIBLE_LOG, budget)
    if not complete:
        return None
    live = np.flatnonzero((np.diff(starts) > 0) & (log_p < 0.0))
    return _group_sums.plugin_variance(float(n), log_m, log_p, counts, log_pmfs, gs, starts,
                                       mean_g, second_g, live)


def _simulated_plugin(source: Source, n: int, log_p: np.ndarray, quantity: str
                      ) -> np.ndarray:
    """Plug-in estimates of simulated data sets (fixed seed): 2000 for small n, 200 up to
    n = 10⁶, fewer past it so that at most :data:`MONTE_CARLO_SAMPLES` rows are drawn;
    past that, OutOfReach naming ``quantity`` ('sd' or 'variance')."""
    if n > MONTE_CARLO_SAMPLES // _MIN_DRAWS:
        raise OutOfReach(
            f"n: the {quantity} of {source} at n={n} is out of reach",
            "the exact sum costs too much, "
            f"Basharin's formula needs every state expected >= 20 times (the rarest is "
            f"expected {n * math.exp(float(log_p.min())):.3g} times), and "
            f"{_MIN_DRAWS} simulated data sets of n rows exceed the {MONTE_CARLO_SAMPLES:.0e} "
            f"rows it simulates at most; use n <= {MONTE_CARLO_SAMPLES // _MIN_DRAWS}, or "
            "variance_entropy(..., method='asymptotic') if an approximation will do")
    reps = int(min(2000, max(200, 2e7 // n), MONTE_CARLO_SAMPLES // n))
    rng = np.random.default_rng(0)  # a fixed seed: the same source and N, the same value
    from .counting import count_words
    from .estimators import plugin

    return np.array([plugin(count_words(source.sample_packed(n, rng).words, overwrite=True,
                                        d=source.d)) for _ in range(reps)])


def _auto_variance(source: Source, n: int, exact_only: bool = False, quantity: str = "sd"
                   ) -> tuple[TheoryValue, int]:
    """Var Ĥ_plugin by the first method that reaches it (the ``auto`` of
    :func:`variance_entropy`), and how many data sets it simulated (0 if none);
    ``quantity`` names what the caller wants in an OutOfReach message."""
    log_m, log_p = _log_groups(source)
    widest, surely_kept = _group_sums.listing_costs(float(n), log_p, 2.0)
    if widest > _WIDEST_EXACT and exact_only:
        # listing one such group's counts alone would take gigabytes at N ~ 1e18
        raise ValueError(f"method: the exact variance at n={n} sums over {widest:.3g} "
                         "counts of one state; use method='auto' or 'asymptotic'")
    var = None
    if widest <= _WIDEST_EXACT and (exact_only or surely_kept**2 <= EXACT_VARIANCE_COST):
        var = _exact_variance(n, log_m, log_p,
                              math.inf if exact_only else math.sqrt(EXACT_VARIANCE_COST))
    if var is not None:
        return TheoryValue(max(var, 0.0), "exact"), 0
    if n * math.exp(float(log_p.min())) >= 20:  # every state seen often: Basharin holds
        return _basharin(log_m, log_p, n), 0
    values = _simulated_plugin(source, n, log_p, quantity)
    bound = (math.log2(n) / 2) ** 2 if n > 1 else 0.0
    var = min(float(np.var(values, ddof=1)), bound)
    return TheoryValue(var, f"monte carlo ({values.size} draws, relative s.e. "
                            f"~{100 * math.sqrt(2 / values.size):.0f}%)"), values.size


def _basharin(log_m: np.ndarray, log_p: np.ndarray, n: int) -> TheoryValue:
    """Basharin's asymptotic (Σ p ln²p - H²)/N + (K-1)/(2N²), in bits²."""
    mass = np.exp(log_m + log_p)
    h = -np.sum(mass * log_p)
    k = support_size(log_m)
    var = (np.sum(mass * log_p**2) - h * h) / n + (k - 1) / (2.0 * n * n)
    return TheoryValue(float(var) / LN2**2, "asymptotic (Basharin)")


def variance_entropy(source: Source, n: int, method: str = "auto") -> TheoryValue:
    """Variance of the plug-in entropy (bits²), labelled with the method that gave it.

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
        state is seen many times (asked for by name, it is returned wherever it is far
        off). ``auto``: exact when its cost is at most :data:`EXACT_VARIANCE_COST`, else
        Basharin's where every state is expected at least 20 times, else a Monte Carlo
        estimate (fixed seed, 20 to 2000 data sets, labelled with its relative standard
        error) capped at (log2(N)/2)², the most a variable on [0, log2 N] can have.

    Returns
    -------
    TheoryValue
        ``(value, method)``.

    Raises
    ------
    OutOfReach
        A ValueError, with ``auto``, when only simulation applies and n > 10⁷.

    Examples
    --------
    >>> from mi_regimes import sources, theory
    >>> theory.variance_entropy(sources.bernoulli(2, 0.5), 8).method
    'exact'
    """
    source = _check_source(source)
    n = _check_n(n)
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method: choose 'auto', 'exact' or 'asymptotic', got {method!r}")
    if method == "asymptotic":
        return _basharin(*_log_groups(source), n)
    return _auto_variance(source, n, exact_only=method == "exact", quantity="variance")[0]


def sd_entropy(source: Source, n: int) -> TheoryValue:
    """Standard deviation of the plug-in entropy (bits), never above its bound.

    The square root of :func:`variance_entropy`'s ``auto``: exact wherever feasible,
    otherwise Basharin's asymptotic formula where it holds (every state expected at
    least 20 times), else a Monte Carlo estimate (fixed seed, 200 to 2000 draws, fewer
    past n = 10⁶ so that at most :data:`MONTE_CARLO_SAMPLES` rows are drawn, labelled
    with its relative standard error); in any case at most log2(N)/2: Ĥ_plugin lies in
    [0, log2 N], and a variable on an interval of length L has standard deviation at
    most L/2 (Popoviciu's inequality).

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
    var, draws = _auto_variance(source, n)
    # the variance is already capped at bound², so its root is the capped sd
    sd = min(math.sqrt(var.value), bound)
    if not draws:
        return TheoryValue(sd, var.method)
    return TheoryValue(sd, f"monte carlo ({draws} draws, relative s.e. "
                           f"~{100 / math.sqrt(2 * draws):.0f}%)")


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
