"""Entropy estimators over count vectors, and their registry.

Every estimator takes the counts of the observed states (zeros are ignored), never the
rows, so counting is done once and reused. Values are in bits by default (``base=2``).

Notation: N = sum of counts, K_obs = number of non-zero counts, n_k the counts,
f_1 the number of singletons. All bias statements are for the plug-in bias expansion
E[Ĥ] - H = -(K-1)/(2N ln b) + O(N^-2) in base b.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np
from scipy import special

from ._bootstrap import (
    multinomial_replicates,
    nlogn_table,
    plugin_nats,
    poisson_replicates,
)
from ._validation import check_alphabet_size

__all__ = [
    "ESTIMATORS",
    "CountEstimate",
    "estimate_counts",
    "get_estimator",
    "plugin",
    "miller_madow",
    "jackknife",
    "bootstrap",
    "nsb",
    "chao_shen",
    "grassberger",
    "check_counts",
]


class CountEstimate(NamedTuple):
    """An entropy estimate from counts: value, standard error and interval (in ``base``)."""

    value: float
    stderr: float | None = None
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class _Options:
    n_boot: int = 1000
    ci: float = 0.95
    rng: np.random.Generator | None = None
    alphabet_size: int | float | None = None
    scheme: str = "auto"


#: Largest K_obs * n_boot for which ``scheme="auto"`` resamples exactly (multinomially).
EXACT_BOOTSTRAP_WORK = 20_000


# ---------------------------------------------------------------- validation helpers


def check_counts(counts, name: str = "counts") -> np.ndarray:
    """Validate a count vector and return its positive entries as int64.

    Parameters
    ----------
    counts : array_like
        1-D non-negative integer counts with a positive sum.
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of the non-zero counts: ``counts`` itself when it already is a
        positive int64 vector (never modified), else a new array.
    """
    arr = np.asarray(counts)
    if arr.dtype == np.int64 and arr.ndim == 1 and arr.size and _all_positive(arr):
        return arr  # the usual case (output of counting): one pass, no copy
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric counts, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D count vector, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: empty count vector; pass at least one count")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{name}: counts must be finite whole numbers (no NaN/inf/fractions)")
    if np.any(arr < 0):
        raise ValueError(f"{name}: counts must be non-negative; found {arr.min()}")
    out = arr[arr > 0].astype(np.int64)
    if out.size == 0:
        raise ValueError(f"{name}: all counts are zero; there are no samples to estimate from")
    return out


@nb.njit(cache=True)
def _all_positive(arr):
    smallest = arr[0]
    for v in arr:  # no early exit: the usual all-positive case then vectorises
        smallest = min(smallest, v)
    return smallest > 0


def _check_base(base: float) -> float:
    if not isinstance(base, int | float | np.integer | np.floating) or isinstance(base, bool):
        raise TypeError(f"base: expected a number such as 2 or math.e, got {type(base).__name__}")
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base: must be positive, finite and not 1, got {base}; use 2 for bits")
    return math.log(base)


def _check_options(n_boot: int, ci: float, alphabet_size: float | None, scheme: str) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot: number of bootstrap replicates must be an integer >= 1, "
                         f"got {n_boot!r}")
    if not isinstance(ci, int | float | np.floating) or not 0 < ci < 1:
        raise ValueError(f"ci: confidence level must lie strictly between 0 and 1, got {ci!r}; "
                         "e.g. ci=0.95")
    check_alphabet_size("alphabet_size", alphabet_size)
    if scheme not in ("auto", "poisson", "multinomial"):
        raise ValueError(f"scheme: must be 'auto', 'poisson' or 'multinomial', got {scheme!r}")


# ---------------------------------------------------------------- kernels (nats)


@nb.njit(cache=True)
def _jackknife_kernel(counts):
    """Jackknife value and standard error, O(K_obs).

    With S = Σ n log n and Δ_k = n_k log n_k - (n_k-1) log(n_k-1), leaving out one
    sample of state k gives (N-1)(Ĥ - Ĥ_{-k}) = (N-1) log1p(1/(N-1)) + S/N - Δ_k =: d_k.
    Then Ĥ_JK = Ĥ + (1/N) Σ n_k d_k, which avoids the cancellation in N·Ĥ - (N-1)·mean.
    """
    n = 0
    s = 0.0
    for c in counts:
        n += c
        s += c * math.log(c)
    h = math.log(n) - s / n
    base = (n - 1) * math.log1p(1.0 / (n - 1)) + s / n
    mean_d = 0.0
    for c in counts:
        delta = c * math.log(c) - ((c - 1) * math.log(c - 1) if c > 1 else 0.0)
        mean_d += c * (base - delta)
    mean_d /= n
    var = 0.0
    for c in counts:
        delta = c * math.log(c) - ((c - 1) * math.log(c - 1) if c > 1 else 0.0)
        dev = (base - delta) - mean_d
        var += c * dev * dev
    # Ĥ_{-k} - mean(Ĥ_{-i}) = -(d_k - mean d) / (N-1)
    se = math.sqrt((n - 1) / n * var) / (n - 1)
    return h + mean_d, se


# ---------------------------------------------------------------- estimators (nats)


def _plugin(c: np.ndarray, opts: _Options) -> CountEstimate:
    return CountEstimate(plugin_nats(c, nlogn_table()))


def _miller_madow(c: np.ndarray, opts: _Options) -> CountEstimate:
    n = int(c.sum())
    return CountEstimate(plugin_nats(c, nlogn_table()) + (c.size - 1) / (2.0 * n))


def _jackknife(c: np.ndarray, opts: _Options) -> CountEstimate:
    if c.sum() < 2:
        return CountEstimate(0.0, None)
    value, se = _jackknife_kernel(c)
    return CountEstimate(value, se, _normal_interval(value, se, opts.ci))


def _bootstrap(c: np.ndarray, opts: _Options) -> CountEstimate:
    rng = opts.rng if opts.rng is not None else np.random.default_rng()
    seed = int(rng.integers(0, 2**31 - 1))
    table = nlogn_table()
    # Sorted counts: the resampling order (hence every replicate) ignores row order.
    c = np.sort(c)
    h = plugin_nats(c, table)
    scheme = opts.scheme
    if scheme == "auto":
        scheme = "multinomial" if c.size * opts.n_boot <= EXACT_BOOTSTRAP_WORK else "poisson"
    if scheme == "multinomial":
        reps = multinomial_replicates(c, opts.n_boot, seed, table)
    else:
        values, mult = np.unique(c, return_counts=True)
        reps = poisson_replicates(values, mult.astype(np.int64), opts.n_boot, seed, table)
    bias = reps.mean() - h
    alpha = (1.0 - opts.ci) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    se = float(reps.std(ddof=1)) if reps.size > 1 else None
    return CountEstimate(h - bias, se, (float(lo - 2 * bias), float(hi - 2 * bias)))


def _chao_shen(c: np.ndarray, opts: _Options) -> CountEstimate:
    n = int(c.sum())
    f1 = int(np.count_nonzero(c == 1))
    if f1 == n:  # every state a singleton: coverage would be 0
        f1 = n - 1
    coverage = 1.0 - f1 / n
    pa = coverage * c / n
    # Horvitz-Thompson weights: 1 - (1-pa)^N, via log1p/expm1 for small pa.
    with np.errstate(divide="ignore"):  # pa == 1 (one state) gives log1p(-1) = -inf: fine
        inclusion = -np.expm1(n * np.log1p(-pa))
    return CountEstimate(float(-np.sum(pa * np.log(pa) / inclusion)) + 0.0)  # no -0.0


def _grassberger(c: np.ndarray, opts: _Options) -> CountEstimate:
    n = int(c.sum())
    values, mult = np.unique(c, return_counts=True)
    v = values.astype(np.float64)
    g = special.digamma(v) + 0.5 * (-1.0) ** values * (
        special.digamma((v + 1) / 2) - special.digamma(v / 2)
    )
    return CountEstimate(float(math.log(n) - np.sum(mult * v * g) / n))


def _nsb(c: np.ndarray, opts: _Options) -> CountEstimate:
    from ._nsb import nsb_posterior

    k = opts.alphabet_size if opts.alphabet_size is not None else c.size
    if k < c.size:
        raise ValueError(
            f"alphabet_size: {_describe_k(k)} is smaller than the {c.size} states observed; "
            "pass the true alphabet size (2**D for D-bit rows)"
        )
    mean, sd = nsb_posterior(c, math.log(k))
    low, high = _normal_interval(mean, sd, opts.ci)
    return CountEstimate(mean, sd, (max(low, 0.0), min(high, math.log(k))))


def _normal_interval(value: float, sd: float, level: float) -> tuple[float, float]:
    """value ± z·sd at the two-sided ``level`` (jackknife; NSB posterior, normal form)."""
    z = float(special.ndtri(0.5 + level / 2))
    return value - z * sd, value + z * sd


def _describe_k(k) -> str:
    return f"{k:g}" if k < 1e15 else f"2**{math.log2(k):.2f}"


_REGISTRY: dict[str, Callable[[np.ndarray, _Options], CountEstimate]] = {
    "plugin": _plugin,
    "miller_madow": _miller_madow,
    "jackknife": _jackknife,
    "bootstrap": _bootstrap,
    "nsb": _nsb,
    "chao_shen": _chao_shen,
    "grassberger": _grassberger,
}

#: Names of the available estimators, in order of increasing cost.
ESTIMATORS: tuple[str, ...] = tuple(_REGISTRY)


def get_estimator(name: str) -> Callable[..., float]:
    """Look up an estimator function by name.

    Parameters
    ----------
    name : str
        One of :data:`ESTIMATORS`.

    Returns
    -------
    callable
        The public function, e.g. :func:`plugin`, taking ``(counts, base=2, ...)``.

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"estimator: unknown name {name!r}; choose one of {', '.join(ESTIMATORS)}"
        )
    return globals()[name]


def estimate_counts(
    counts,
    estimator: str = "plugin",
    *,
    base: float = 2,
    ci: float = 0.95,
    n_boot: int = 1000,
    rng: np.random.Generator | int | None = None,
    alphabet_size: float | None = None,
    scheme: str = "auto",
) -> CountEstimate:
    """Estimate entropy from counts, with standard error and interval where available.

    Parameters
    ----------
    counts : array_like
        Non-negative integer counts of the observed states.
    estimator : str
        One of :data:`ESTIMATORS`.
    base : float
        Logarithm base of the result (2 = bits).
    ci : float
        Confidence level of the bootstrap interval, in (0, 1).
    n_boot : int
        Bootstrap replicates (``bootstrap`` only), >= 1.
    rng : numpy.random.Generator, int or None
        Randomness for ``bootstrap``; an int is a seed.
    alphabet_size : float, optional
        Number of possible states K (``nsb`` only); defaults to K_obs.
    scheme : {'auto', 'poisson', 'multinomial'}
        Bootstrap resampling scheme, see :func:`bootstrap`.

    Returns
    -------
    CountEstimate
        ``value`` in ``base`` units; ``stderr`` for jackknife, bootstrap and nsb;
        ``ci`` for them too: bootstrap percentile (shifted by twice the bias), jackknife
        value ± z·s.e., NSB posterior mean ± z·s.d. (within [0, log K]).
    """
    get_estimator(estimator)  # validates the name; the message lists the valid ones
    log_base = _check_base(base)
    _check_options(n_boot, ci, alphabet_size, scheme)
    if rng is not None and not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    c = check_counts(counts)
    opts = _Options(int(n_boot), float(ci), rng, alphabet_size, scheme)
    res = _REGISTRY[estimator](c, opts)
    scale = 1.0 / log_base
    return CountEstimate(
        float(res.value) * scale,
        None if res.stderr is None else float(res.stderr) * scale,
        None if res.ci is None else (res.ci[0] * scale, res.ci[1] * scale),
    )


# ---------------------------------------------------------------- public functions


def plugin(counts, base: float = 2) -> float:
    """Plug-in (maximum-likelihood) entropy: -Σ (n_k/N) log(n_k/N).

    Parameters
    ----------
    counts : array_like
        Non-negative integer counts.
    base : float
        Logarithm base (2 = bits).

    Returns
    -------
    float

    Notes
    -----
    Biased low: E[Ĥ] - H ≈ -(K-1)/(2N ln b); never exceeds log N, so it saturates at
    log2 N when all samples are distinct. Exact E[Ĥ] is in :mod:`mi_regimes.theory`.

    Examples
    --------
    >>> from mi_regimes.estimators import plugin
    >>> round(plugin([7, 3]), 9)
    0.881290899
    """
    return estimate_counts(counts, "plugin", base=base).value


def miller_madow(counts, base: float = 2) -> float:
    """Miller–Madow entropy: plug-in + (K_obs - 1) / (2N), in nats before conversion.

    Notes
    -----
    Removes the leading bias term with K replaced by K_obs, so it under-corrects when
    many states are unseen (undersampled regime) and is always >= plug-in.

    Examples
    --------
    >>> from mi_regimes.estimators import miller_madow
    >>> round(miller_madow([7, 3]), 6)  # 0.881291 + 1/(20 ln 2)
    0.953426
    """
    return estimate_counts(counts, "miller_madow", base=base).value


def jackknife(counts, base: float = 2) -> float:
    """Quenouille–Tukey jackknife of the plug-in: N·Ĥ - (N-1)·mean(Ĥ_{-i}).

    Notes
    -----
    Removes the 1/N bias term exactly for the plug-in; computed in O(K_obs) from the
    leave-one-out identity (removing a sample of state k changes only that term).
    Like every estimator built on observed states, it cannot see unobserved mass.

    Examples
    --------
    >>> from mi_regimes.estimators import jackknife
    >>> round(jackknife([7, 3]), 4)
    0.9643
    """
    return estimate_counts(counts, "jackknife", base=base).value


def bootstrap(
    counts,
    base: float = 2,
    n_boot: int = 1000,
    rng: np.random.Generator | int | None = None,
    scheme: str = "auto",
) -> float:
    """Efron's bootstrap bias-corrected plug-in: 2Ĥ - mean(Ĥ*).

    Parameters
    ----------
    counts : array_like
        Non-negative integer counts.
    base : float
        Logarithm base.
    n_boot : int
        Number of replicates B.
    rng : numpy.random.Generator, int or None
        Randomness (an int is a seed).
    scheme : {'auto', 'poisson', 'multinomial'}
        ``'multinomial'`` resamples the count vector exactly, O(K_obs) per replicate.
        ``'poisson'`` gives each state Poisson(n_k) copies and draws them class by class
        from the count *profile*, O(#distinct counts) per replicate. Conditional on its
        total N*, a Poisson resample *is* a multinomial resample of size N*, so the mean
        replicate differs from the multinomial one by about (K_obs-1)/(2N^2) nats
        (checked in the tests against the exact multinomial expectation).
        ``'auto'`` (default) is exact while K_obs * n_boot <= 2e4 (at most ~0.4 ms) and
        Poisson beyond, where the difference is below 1/(2N) nats with N >= K_obs >
        2e4 / n_boot: under 0.1 % of H in every cell of the default regime grid.

    Notes
    -----
    The empirical distribution has no unseen states, so in the undersampled regime the
    bootstrap estimates the bias of a *smaller* alphabet: it under-corrects, and its
    interval (percentile interval shifted by twice the bias estimate) under-covers.

    Examples
    --------
    >>> from mi_regimes.estimators import bootstrap
    >>> h = bootstrap([7, 3], rng=0)  # plug-in 0.881 plus the estimated bias ~0.08
    >>> 0.9 < h < 1.0
    True
    """
    return estimate_counts(
        counts, "bootstrap", base=base, n_boot=n_boot, rng=rng, scheme=scheme
    ).value


def nsb(counts, base: float = 2, alphabet_size: float | None = None) -> float:
    """Nemenman–Shafee–Bialek Bayesian entropy estimate (posterior mean).

    Parameters
    ----------
    counts : array_like
        Non-negative integer counts.
    base : float
        Logarithm base.
    alphabet_size : int or float, optional
        Number of possible states K (``2**D`` for D-bit rows, as an exact integer for
        any D: no state is enumerated). Defaults to K_obs.

    Notes
    -----
    A mixture of symmetric Dirichlet priors that is flat in the prior expected entropy.
    Nearly unbiased as long as there are coincidences (some n_k >= 2). With none, the
    data cannot tell concentration parameters κ = Kβ between about N and K apart: the
    posterior is nearly flat in ln κ over that range, and the estimate lands roughly
    midway between log N and log K (11.10 bits for K = 4096 and N = 50 distinct
    samples, not log2 K = 12), growing without bound with K. The integral over β runs
    to convergence (no fixed range) and works in ln K, so K may be any size.
    The posterior standard deviation is reported as ``stderr`` by :func:`estimate_counts`.

    Examples
    --------
    >>> from mi_regimes.estimators import nsb
    >>> 0.8 < nsb([7, 3], alphabet_size=2) < 1.0
    True
    """
    return estimate_counts(counts, "nsb", base=base, alphabet_size=alphabet_size).value


def chao_shen(counts, base: float = 2) -> float:
    """Chao–Shen coverage-adjusted Horvitz–Thompson entropy.

    Notes
    -----
    Shrinks probabilities by the Good–Turing coverage C = 1 - f1/N and weights each term
    by its inclusion probability 1 - (1 - C n_k/N)^N. Corrects upward for unseen mass;
    when every sample is a singleton, f1 is set to N - 1 to keep C > 0.

    Examples
    --------
    >>> from mi_regimes.estimators import chao_shen
    >>> round(chao_shen([7, 3]), 4)
    0.8964
    """
    return estimate_counts(counts, "chao_shen", base=base).value


def grassberger(counts, base: float = 2) -> float:
    """Grassberger (2003) estimator: log N - (1/N) Σ n_k G(n_k).

    Notes
    -----
    G(n) = ψ(n) + ½(-1)^n [ψ((n+1)/2) - ψ(n/2)]; less biased than Miller–Madow when
    counts are small, still blind to unseen states. Not clipped: on tiny samples it can
    exceed log2 K or fall slightly below 0 (one state seen twice gives -0.05 bits).

    Examples
    --------
    >>> from mi_regimes.estimators import grassberger
    >>> round(grassberger([7, 3]), 4)  # above log2(2) = 1: tiny samples can overshoot
    1.1921
    """
    return estimate_counts(counts, "grassberger", base=base).value
