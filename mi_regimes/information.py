"""Entropy, conditional entropy and mutual information from samples.

Rows are validated and counted once (:mod:`mi_regimes.counting`); the chosen estimator
(:mod:`mi_regimes.estimators`) is then applied to each count vector. Compound quantities
apply the *same* estimator to every entropy term:

    H(A | B) = H(A, B) - H(B),        I(A; B) = H(A) + H(B) - H(A, B).

With a bias-corrected estimator the terms are corrected separately, so I(A; B) can come
out slightly negative when the true value is near zero; the plug-in MI is always >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from ._bounds import entropy_interval, summarize_counts
from ._random import as_generator
from ._scratch import scratch
from .bits import as_samples
from .counting import count_rows, joint_counts
from .estimators import CountEstimate, estimate_counts, get_estimator

__all__ = [
    "Estimate",
    "entropy",
    "entropy_estimate",
    "conditional_entropy",
    "mutual_information",
    "estimate_from_counts",
    "count_samples",
    "CountedSamples",
    "mutual_information_from_counts",
    "widen_interval",
]


@dataclass(frozen=True)
class Estimate:
    """An entropy estimate with what is needed to judge it.

    Attributes
    ----------
    value : float
        The estimate, in ``base`` units.
    ci : tuple of float or None
        Confidence interval (low, high) where the estimator gives one.
    stderr : float or None
        Standard error (jackknife, bootstrap) or posterior s.d. (nsb).
    n : int
        Number of samples.
    k_observed : int
        Number of distinct states observed.
    estimator : str
        Estimator name.
    base : float
        Logarithm base of ``value``.
    saturation : float
        ``value / log_base(n)``: 1 means the estimate sits at the all-distinct ceiling;
        NaN for a single sample, whose ceiling log 1 is 0.
    alphabet_size : int, float or None
        The number of possible states K: ``2**D`` for binary rows, the value given by the
        caller, or (symbols without one) a guess, see ``alphabet_known``.
    alphabet_known : bool
        False when ``alphabet_size`` is only a guess from the symbols (``max - min + 1``
        of integers, or the number of distinct text labels); estimators that use K
        (nsb) then rest on that guess: pass ``alphabet_size`` to fix it.
    ci_method : str
        How ``ci`` was made. Resampling and posterior intervals cannot see states that
        were never observed; with a known alphabet ``ci`` is joined with the interval
        that holds H for any source (see :func:`widen_interval`), and the method says
        so; without one it says that the interval ignores unseen states.
    """

    value: float
    ci: tuple[float, float] | None
    stderr: float | None
    n: int
    k_observed: int
    estimator: str
    base: float = 2.0
    saturation: float = float("nan")
    alphabet_size: int | float | None = None
    alphabet_known: bool = True
    ci_method: str = ""

    @property
    def n_coincidences(self) -> int:
        """Samples that repeat an earlier state, ``n - k_observed``."""
        return self.n - self.k_observed


class CountedSamples(NamedTuple):
    """The counts of validated samples and what is known of their alphabet."""

    counts: np.ndarray
    n: int
    d: int | None
    alphabet_size: int | float | None
    alphabet_known: bool


def _counted(x, name: str, alphabet_size=None, transient: bool = False) -> CountedSamples:
    """Validate and count ``x`` once.

    With ``transient`` the rows are packed into a reused scratch buffer and the counts
    may live there too: they are valid only until the next transient count on this
    thread, so only callers that reduce them to numbers at once may ask for it.
    """
    allocate = partial(scratch, "packed rows") if transient else np.empty
    samples = as_samples(x, name, alphabet_size=alphabet_size, allocate=allocate)
    k, known = samples.nsb_alphabet
    return CountedSamples(count_rows(samples), samples.n, samples.d, k, known)


def count_samples(x, name: str = "x", *, alphabet_size=None) -> CountedSamples:
    """Validate samples and count their distinct rows (or symbols) once.

    Parameters
    ----------
    x : array_like or PackedBits
        Binary rows, packed rows or 1-D symbols, in any container.
    name : str
        Argument name used in error messages.
    alphabet_size : int or float, optional
        The number of possible states, if known (default ``2**D`` for rows).

    Returns
    -------
    CountedSamples
        ``counts``, ``n``, ``d`` (None for symbols), ``alphabet_size`` and whether it
        was known or only guessed (``alphabet_known``).
    """
    return _counted(x, name, alphabet_size)


def entropy_estimate(
    x, estimator: str = "bootstrap", ci: float = 0.95, rng=None, *, base: float = 2,
    alphabet_size=None, **options,
) -> Estimate:
    """Estimate H(X) from samples, with uncertainty and saturation diagnostics.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` rows of {0,1} or {-1,+1}, a ``PackedBits``, or 1-D symbols, in any
        container (lists, tuples, pandas, memmaps, ...).
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    ci : float
        Confidence level of the interval (bootstrap), in (0, 1).
    rng : numpy.random.Generator, int or None
        Randomness for the bootstrap.
    base : float
        Logarithm base (2 = bits).
    alphabet_size : int or float, optional
        The number of possible states K (used by nsb). Default ``2**D`` for binary rows;
        for symbols a guess, flagged in the result (``alphabet_known=False``).
    **options
        Passed to the estimator: ``n_boot``, ``scheme`` (bootstrap).

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> x = np.random.default_rng(0).integers(0, 2, size=(1000, 4))
    >>> est = mr.entropy_estimate(x, "bootstrap", rng=0)
    >>> 3.9 < est.value < 4.05, est.k_observed, est.n
    (True, 16, 1000)
    """
    counted = _counted(x, "x", alphabet_size, transient=True)
    return estimate_from_counts(counted.counts, estimator, ci, rng, base=base,
                                alphabet_size=counted.alphabet_size,
                                alphabet_known=counted.alphabet_known, **options)


def estimate_from_counts(
    counts: np.ndarray, estimator: str = "bootstrap", ci: float = 0.95, rng=None, *,
    base: float = 2, alphabet_size=None, alphabet_known: bool = True, **options,
) -> Estimate:
    """:func:`entropy_estimate` for states already counted (see :mod:`mi_regimes.counting`).

    Parameters
    ----------
    counts : numpy.ndarray
        Counts of the distinct rows.
    estimator, ci, rng, base
        As for :func:`entropy_estimate`.
    alphabet_size : int or float, optional
        Number of possible states (2**D), used by ``nsb``.
    alphabet_known : bool
        Whether ``alphabet_size`` is known or only a guess (reported in the result).
    **options
        Estimator options (``n_boot``, ``scheme``).

    Returns
    -------
    Estimate
    """
    res: CountEstimate = estimate_counts(counts, estimator, base=base, ci=ci, rng=rng,
                                         alphabet_size=alphabet_size, **options)
    n = int(np.sum(counts))
    k_observed = int(np.count_nonzero(counts))
    ceiling = math.log(n, base) if n > 1 else float("nan")
    interval, method = res.ci, ""
    if interval is not None:
        interval, method = widen_interval(interval, counts, estimator, ci, base,
                                          alphabet_size if alphabet_known else None)
    return Estimate(
        value=res.value, ci=interval, stderr=res.stderr, n=n, k_observed=k_observed,
        estimator=estimator, base=float(base),
        saturation=res.value / ceiling if n > 1 else float("nan"),
        alphabet_size=alphabet_size, alphabet_known=bool(alphabet_known), ci_method=method,
    )


_CI_NAMES = {"bootstrap": "bootstrap percentile (bias-shifted)",
             "jackknife": "jackknife value ± z·s.e.", "nsb": "NSB posterior mean ± z·s.d."}


def widen_interval(interval, counts, estimator, level, base, alphabet_size, guaranteed=None):
    """An estimator's interval joined with the interval [L, U] that holds H for any source.

    Resampling and posterior intervals cannot see states that were never observed, nor
    the estimator's own bias. With a known alphabet the reported interval is the hull of
    the estimator's and of [L, U] (:func:`mi_regimes._bounds.entropy_interval`, at the
    same level), so it covers H at least as often as [L, U] does. Returns
    ``(interval, method)``; without an alphabet size the interval is unchanged and
    ``method`` says that it ignores unseen states. ``guaranteed``: the counts'
    :func:`~mi_regimes._bounds.entropy_interval` at ``level``, when the caller has it.
    """
    name = _CI_NAMES.get(estimator, estimator)
    if alphabet_size is None:
        return interval, f"{name}; ignores states never observed (alphabet size unknown)"
    if guaranteed is None:
        guaranteed = entropy_interval(summarize_counts(counts), alphabet_size, level)
    low, high = guaranteed.low, guaranteed.high
    scale = math.log(base, 2)  # bits per unit of ``base``
    low, high = low / scale, high / scale
    joined = (float(min(interval[0], low)), float(max(interval[1], high)))
    guarantee = (f"[L, U] = [{low:.4g}, {high:.4g}], which holds H w.p. >= {level:.0%} for "
                 "any source on the alphabet")
    if joined == tuple(interval):
        return joined, f"{name}; contains {guarantee}"
    return joined, f"{name}, joined with {guarantee}"


def entropy(x, estimator: str = "plugin", base: float = 2, *, alphabet_size=None,
            **options) -> float:
    """Estimate the entropy H(X) of samples.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` rows of {0,1} or {-1,+1}, a ``PackedBits``, or 1-D symbols, in any
        container (lists, tuples, pandas, memmaps, ...).
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base (2 = bits).
    alphabet_size : int or float, optional
        The number of possible states K (nsb); default ``2**D`` for rows, a guess for
        symbols (see :func:`entropy_estimate` to see whether it was guessed).
    **options
        Estimator options (``rng``, ``n_boot``, ``scheme``).

    Returns
    -------
    float

    Examples
    --------
    >>> import mi_regimes as mr
    >>> mr.entropy([[0], [1], [0], [1]])
    1.0
    >>> round(mr.entropy([1, 2, 3, 1]), 12)  # symbols, in a list
    1.5
    """
    counted = _counted(x, "x", alphabet_size, transient=True)
    return estimate_counts(counted.counts, estimator, base=base,
                           alphabet_size=counted.alphabet_size, **options).value


def _three_terms(a, b, estimator, base, options, name_a, name_b, alphabet_sizes):
    get_estimator(estimator)
    k_a, k_b = (None, None) if alphabet_sizes is None else _two_sizes(alphabet_sizes)
    sa = as_samples(a, name_a, alphabet_size=k_a)
    sb = as_samples(b, name_b, alphabet_size=k_b)
    counts = joint_counts(sa, sb, name_a, name_b)
    alphabets = (sa.nsb_alphabet[0], sb.nsb_alphabet[0])
    return _entropy_terms(counts, estimator, base, options, alphabets)


def _two_sizes(alphabet_sizes) -> tuple:
    if not isinstance(alphabet_sizes, tuple | list) or len(alphabet_sizes) != 2:
        raise ValueError(f"alphabet_sizes: expected a pair (K_a, K_b), got {alphabet_sizes!r}")
    return tuple(alphabet_sizes)


def _entropy_terms(counts, estimator, base, options, alphabets):
    """H(A), H(B), H(A,B) from the three count vectors, one estimator throughout."""
    opts = [dict(options), dict(options), dict(options)]
    if alphabets is not None and None not in alphabets:
        k_a, k_b = alphabets
        for o, k in zip(opts, (k_a, k_b, k_a * k_b), strict=True):
            o["alphabet_size"] = k
    if options.get("rng") is not None:
        # three independent streams from one seed: reproducible, no shared state
        for o, r in zip(opts, as_generator(options["rng"]).spawn(3), strict=True):
            o["rng"] = r
    return tuple(estimate_counts(c, estimator, base=base, **o).value
                 for c, o in zip(counts, opts, strict=True))


def mutual_information_from_counts(
    counts_a, counts_b, counts_ab, estimator: str = "plugin", base: float = 2, *,
    alphabet_sizes: tuple[float, float] | None = None, **options,
) -> float:
    """I(A; B) from already counted marginals and joint (see ``counting.joint_counts``).

    Parameters
    ----------
    counts_a, counts_b, counts_ab : array_like
        Count vectors of A, of B and of the pairs (A, B).
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base.
    alphabet_sizes : (float, float), optional
        (K_A, K_B) for ``nsb``; the joint alphabet is K_A · K_B.
    **options
        Estimator options.

    Returns
    -------
    float
    """
    get_estimator(estimator)
    sizes = None if alphabet_sizes is None else _two_sizes(alphabet_sizes)
    h_a, h_b, h_ab = _entropy_terms((counts_a, counts_b, counts_ab), estimator, base, options,
                                    sizes)
    return _bounded_mi(h_a, h_b, h_ab, estimator)


def _bounded_mi(h_a: float, h_b: float, h_ab: float, estimator: str) -> float:
    mi = h_a + h_b - h_ab
    if estimator == "plugin":
        # exact bounds of the plug-in MI; only rounding could cross them
        mi = min(max(mi, 0.0), h_a, h_b)
    return mi


def conditional_entropy(
    x, given, estimator: str = "plugin", base: float = 2, *, alphabet_sizes=None, **options
) -> float:
    """Estimate H(X | Y) = H(X, Y) - H(Y) with one estimator for both terms.

    Parameters
    ----------
    x : array_like or PackedBits
        Samples of X (binary rows or 1-D symbols).
    given : array_like or PackedBits
        Samples of Y on the same N samples (binary rows or 1-D symbols, e.g. labels).
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base.
    alphabet_sizes : (int, int), optional
        (K_X, K_Y), the numbers of possible states (nsb); the joint alphabet is their
        product. Default ``2**D`` for rows, a guess for symbols.
    **options
        Estimator options.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> x = np.array([[0], [1], [0], [1]]); y = np.array([0, 1, 0, 1])
    >>> mr.conditional_entropy(x, y)
    0.0
    """
    _, h_y, h_xy = _three_terms(x, given, estimator, base, options, "x", "given",
                                alphabet_sizes)
    return h_xy - h_y


def mutual_information(a, b, estimator: str = "plugin", base: float = 2, *,
                       alphabet_sizes=None, **options) -> float:
    """Estimate I(A; B) = H(A) + H(B) - H(A, B) with one estimator for all three terms.

    Parameters
    ----------
    a, b : array_like or PackedBits
        Samples on the same N samples: binary rows, packed rows or 1-D symbols.
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base.
    alphabet_sizes : (int, int), optional
        (K_A, K_B), the numbers of possible states (nsb); the joint alphabet is their
        product. Default ``2**D`` for rows, a guess for symbols.
    **options
        Estimator options.

    Returns
    -------
    float
        Plug-in MI lies in [0, min(H(A), H(B))]; bias-corrected MI can be slightly
        negative when the true MI is near zero.

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> t = np.array([[0, 1], [1, 1], [0, 0], [1, 0]]); y = np.array([0, 1, 0, 1])
    >>> mr.mutual_information(t, y)
    1.0
    """
    h_a, h_b, h_ab = _three_terms(a, b, estimator, base, options, "a", "b", alphabet_sizes)
    return _bounded_mi(h_a, h_b, h_ab, estimator)
