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

import numpy as np

from ._count_estimators import IMPLEMENTATIONS, CountEstimate, Options
from ._random import as_generator
from ._validation import (
    MAX_BOOT,
    check_alphabet_covers,
    check_alphabet_size,
    check_counts,
)

__all__ = [
    "ESTIMATORS",
    "USES_ALPHABET",
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
    "jvhw",
    "unseen",
    "pym",
    "check_counts",
    "check_options",
]


# ---------------------------------------------------------------- validation helpers


def _check_base(base: float) -> float:
    if not isinstance(base, int | float | np.integer | np.floating) or isinstance(base, bool):
        raise TypeError(f"base: expected a number such as 2 or math.e, got {type(base).__name__}")
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base: must be positive, finite and not 1, got {base}; use 2 for bits")
    return math.log(base)


def _check_options(n_boot: int, ci: float, alphabet_size: float | None, scheme: str) -> None:
    if (isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1
            or n_boot > MAX_BOOT):
        raise ValueError(f"n_boot: number of bootstrap replicates must be an integer from 1 "
                         f"to {MAX_BOOT}, got {n_boot!r}")
    if not isinstance(ci, int | float | np.floating) or not 0 < ci < 1:
        raise ValueError(f"ci: confidence level must lie strictly between 0 and 1, got {ci!r}; "
                         "e.g. ci=0.95")
    check_alphabet_size("alphabet_size", alphabet_size)
    if scheme not in ("auto", "poisson", "multinomial"):
        raise ValueError(f"scheme: must be 'auto', 'poisson' or 'multinomial', got {scheme!r}")


_REGISTRY: dict[str, Callable[[np.ndarray, Options], CountEstimate]] = IMPLEMENTATIONS

#: Names of the available estimators, in order of increasing cost.
ESTIMATORS: tuple[str, ...] = tuple(_REGISTRY)
#: Estimators that use the alphabet size K when given (NSB's prior; the others' cap log K).
USES_ALPHABET: tuple[str, ...] = ("nsb", "jvhw", "unseen", "pym")


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
    **unknown,
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
        Number of possible states K, at least the states observed (used by the
        estimators in :data:`USES_ALPHABET`); defaults to K_obs.
    scheme : {'auto', 'poisson', 'multinomial'}
        Bootstrap resampling scheme, see :func:`bootstrap`.

    Returns
    -------
    CountEstimate
        ``value`` in ``base`` units; ``stderr`` for jackknife, bootstrap and nsb;
        ``ci`` for them too: bootstrap percentile (shifted by twice the bias), jackknife
        value ± z·s.e., NSB posterior mean ± z·s.d. (within [0, log K]).
    """
    log_base, rng = check_options(estimator, base=base, ci=ci, n_boot=n_boot, rng=rng,
                                  alphabet_size=alphabet_size, scheme=scheme, **unknown)
    c = check_counts(counts)
    check_alphabet_covers(alphabet_size, int(np.count_nonzero(c)))
    opts = Options(int(n_boot), float(ci), rng, alphabet_size, scheme)
    res = _REGISTRY[estimator](c, opts)
    scale = 1.0 / log_base
    return CountEstimate(
        float(res.value) * scale,
        None if res.stderr is None else float(res.stderr) * scale,
        None if res.ci is None else (res.ci[0] * scale, res.ci[1] * scale),
    )


def check_options(
    estimator: str,
    *,
    base: float = 2,
    ci: float = 0.95,
    n_boot: int = 1000,
    rng: np.random.Generator | int | None = None,
    alphabet_size: float | None = None,
    scheme: str = "auto",
    **unknown,
) -> tuple[float, np.random.Generator | None]:
    """Check an estimator's name and options as :func:`estimate_counts` does, estimating
    nothing: a caller can refuse bad options before its own work (the CLI does).

    Parameters are those of :func:`estimate_counts`.

    Returns
    -------
    (float, numpy.random.Generator or None)
        The natural log of ``base``, and ``rng`` as a generator (None stays None).

    Raises
    ------
    TypeError, ValueError
        Naming the option, what is wrong with it and what to pass instead.
    """
    if unknown:  # reached through **options of every public function: name the options
        raise TypeError(f"{', '.join(sorted(unknown))}: unknown option; estimators take "
                        "ci, n_boot, rng, alphabet_size and scheme")
    get_estimator(estimator)  # validates the name; the message lists the valid ones
    log_base = _check_base(base)
    _check_options(n_boot, ci, alphabet_size, scheme)
    return log_base, None if rng is None else as_generator(rng)


def value_of_valid_counts(counts: np.ndarray, estimator: str) -> float:
    """:func:`estimate_counts`'s value in bits, without its checks or options.

    For loops that estimate thousands of count vectors made by the library itself (the
    paired bootstrap of :mod:`mi_regimes.compression`), where the checks cost ~30 µs a
    call, several times the estimate. ``counts``: positive int64 counts of the observed
    states; ``estimator``: a name of :data:`ESTIMATORS` that needs no options.
    """
    return _REGISTRY[estimator](counts, _DEFAULT_OPTIONS).value * (1.0 / math.log(2))


_DEFAULT_OPTIONS = Options()


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


def jvhw(counts, base: float = 2, alphabet_size: float | None = None) -> float:
    """Jiao–Venkat–Han–Weissman (2015) minimax entropy estimator.

    Notes
    -----
    Small counts: an unbiased estimate of the best polynomial approximation of -p ln p
    near 0 (degree ⌈1.2 ln N⌉ <= 14 on [0, ln N / N]); large counts: the bias-corrected
    plug-in; a linear blend in between. Needs no alphabet size; reliable from N of order
    K / ln K rather than K. With ``alphabet_size`` the result is capped at log K (the
    small-count terms can overshoot it). Constants and their measurement in
    :mod:`mi_regimes._undersampled`.

    Examples
    --------
    >>> from mi_regimes.estimators import jvhw
    >>> round(jvhw([500, 500]), 4)  # well sampled: the bias-corrected plug-in
    1.0007
    """
    return estimate_counts(counts, "jvhw", base=base, alphabet_size=alphabet_size).value


def unseen(counts, base: float = 2, alphabet_size: float | None = None) -> float:
    """Valiant & Valiant's unseen estimator: the entropy of the simplest histogram whose
    expected fingerprint matches the observed one (two linear programmes, HiGHS).

    Notes
    -----
    Runs on the fingerprint (how many states were seen once, twice, ...), so its cost
    depends on the number of distinct counts, not on N. With ``alphabet_size`` the
    result is capped at log K.

    Examples
    --------
    >>> from mi_regimes.estimators import unseen
    >>> round(unseen([250, 250, 250, 250]), 3)
    2.0
    """
    return estimate_counts(counts, "unseen", base=base, alphabet_size=alphabet_size).value


def pym(counts, base: float = 2, alphabet_size: float | None = None) -> float:
    """Pitman–Yor mixture (PYM) posterior mean entropy (Archer, Park & Pillow 2014).

    Notes
    -----
    Bayesian, like NSB, but over countable alphabets: a mixture of Pitman–Yor priors
    whose prior mean entropy is spread uniformly, so heavy (power-law) tails are
    expected rather than ruled out. On bounded supports it tends to overshoot (it
    expects more unseen states than there are); with ``alphabet_size`` the prior mean
    entropy is bounded by log K and the result capped there. Details in
    :mod:`mi_regimes._pym`.

    Examples
    --------
    >>> from mi_regimes.estimators import pym
    >>> 1.9 < pym([250, 250, 250, 250]) < 2.1
    True
    """
    return estimate_counts(counts, "pym", base=base, alphabet_size=alphabet_size).value
