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

import numpy as np

from ._scratch import scratch
from .bits import PackedBits, alphabet_size, codes_into
from .counting import count_words, joint_counts
from .estimators import CountEstimate, estimate_counts, get_estimator

__all__ = [
    "Estimate",
    "entropy",
    "entropy_estimate",
    "conditional_entropy",
    "mutual_information",
    "estimate_from_counts",
    "count_samples",
    "mutual_information_from_counts",
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
        ``value / log_base(n)``: 1 means the estimate sits at the all-distinct ceiling.
    """

    value: float
    ci: tuple[float, float] | None
    stderr: float | None
    n: int
    k_observed: int
    estimator: str
    base: float = 2.0
    saturation: float = float("nan")

    @property
    def n_coincidences(self) -> int:
        """Samples that repeat an earlier state, ``n - k_observed``."""
        return self.n - self.k_observed


def _options(estimator: str, alphabet_size, kwargs) -> dict:
    get_estimator(estimator)
    opts = dict(kwargs)
    if estimator == "nsb" and opts.get("alphabet_size") is None:
        opts["alphabet_size"] = alphabet_size
    return opts


def _counts_and_alphabet(x, name: str, transient: bool = False) -> tuple[np.ndarray, float]:
    """Counts of the rows of ``x`` and its alphabet size.

    With ``transient`` the rows are packed into a reused scratch buffer and the counts
    may live there too: they are valid only until the next transient count on this
    thread, so only callers that reduce them to numbers at once may ask for it.
    """
    allocate = partial(scratch, "packed rows") if transient else np.empty
    words, alphabet = codes_into(x, name, allocate)
    # symbol alphabets are max-min+1, not an upper bound on the words: let counting scan
    packed = not (isinstance(x, np.ndarray) and x.ndim == 1)
    # new words unless x came packed: counting may then consume them
    made_here = not isinstance(x, PackedBits)
    return count_words(words, alphabet if packed else None, overwrite=made_here), alphabet


def entropy_estimate(
    x, estimator: str = "bootstrap", ci: float = 0.95, rng=None, *, base: float = 2,
    **options,
) -> Estimate:
    """Estimate H(X) from samples, with uncertainty and saturation diagnostics.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` rows of {0,1} or {-1,+1}, a ``PackedBits``, or 1-D integer symbols.
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    ci : float
        Confidence level of the interval (bootstrap), in (0, 1).
    rng : numpy.random.Generator, int or None
        Randomness for the bootstrap.
    base : float
        Logarithm base (2 = bits).
    **options
        Passed to the estimator: ``n_boot``, ``alphabet_size`` (nsb; default 2**D for
        binary rows), ``scheme`` (bootstrap).

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
    counts, alphabet = _counts_and_alphabet(x, "x", transient=True)
    return estimate_from_counts(counts, alphabet, estimator, ci, rng, base=base, **options)


def estimate_from_counts(
    counts: np.ndarray, alphabet_size: float, estimator: str = "bootstrap", ci: float = 0.95,
    rng=None, *, base: float = 2, **options,
) -> Estimate:
    """:func:`entropy_estimate` for rows already counted (see :mod:`mi_regimes.counting`).

    Parameters
    ----------
    counts : numpy.ndarray
        Counts of the distinct rows.
    alphabet_size : float
        Number of possible rows (2**D), used by ``nsb`` unless given in ``options``.
    estimator, ci, rng, base, **options
        As for :func:`entropy_estimate`.

    Returns
    -------
    Estimate
    """
    opts = _options(estimator, alphabet_size, options)
    res: CountEstimate = estimate_counts(counts, estimator, base=base, ci=ci, rng=rng, **opts)
    n = int(np.sum(counts))
    ceiling = math.log(n, base) if n > 1 else float("nan")
    return Estimate(
        value=res.value, ci=res.ci, stderr=res.stderr, n=n, k_observed=int(counts.size),
        estimator=estimator, base=float(base),
        saturation=res.value / ceiling if n > 1 else float("nan"),
    )


def count_samples(x, name: str = "x") -> tuple[np.ndarray, float]:
    """Validate samples and count their distinct rows once.

    Returns
    -------
    counts : numpy.ndarray
        Counts of the distinct rows (or symbols).
    alphabet_size : float
        2**D for binary rows; see :func:`mi_regimes.bits.as_codes` for symbols.
    """
    return _counts_and_alphabet(x, name)


def entropy(x, estimator: str = "plugin", base: float = 2, **options) -> float:
    """Estimate the entropy H(X) of samples.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` rows of {0,1} or {-1,+1}, a ``PackedBits``, or 1-D integer symbols.
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base (2 = bits).
    **options
        Estimator options (``rng``, ``n_boot``, ``alphabet_size``, ``scheme``).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> mr.entropy(np.array([[0], [1], [0], [1]]))
    1.0
    """
    counts, alphabet = _counts_and_alphabet(x, "x", transient=True)
    opts = _options(estimator, alphabet, options)
    return estimate_counts(counts, estimator, base=base, **opts).value


def _three_terms(a, b, estimator, base, options, name_a, name_b):
    get_estimator(estimator)
    counts = joint_counts(a, b, name_a, name_b)
    alphabets = None
    if estimator == "nsb" and options.get("alphabet_size") is None:
        alphabets = (alphabet_size(a, name_a), alphabet_size(b, name_b))
    return _entropy_terms(counts, estimator, base, options, alphabets)


def _entropy_terms(counts, estimator, base, options, alphabets):
    """H(A), H(B), H(A,B) from the three count vectors, one estimator throughout."""
    opts = [dict(options), dict(options), dict(options)]
    if alphabets is not None:
        k_a, k_b = alphabets
        for o, k in zip(opts, (k_a, k_b, k_a * k_b), strict=True):
            o["alphabet_size"] = k
    if options.get("rng") is not None:
        # three independent streams from one seed: reproducible, no shared state
        for o, r in zip(opts, np.random.default_rng(options["rng"]).spawn(3), strict=True):
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
    h_a, h_b, h_ab = _entropy_terms((counts_a, counts_b, counts_ab), estimator, base, options,
                                    alphabet_sizes)
    return _bounded_mi(h_a, h_b, h_ab, estimator)


def _bounded_mi(h_a: float, h_b: float, h_ab: float, estimator: str) -> float:
    mi = h_a + h_b - h_ab
    if estimator == "plugin":
        # exact bounds of the plug-in MI; only rounding could cross them
        mi = min(max(mi, 0.0), h_a, h_b)
    return mi


def conditional_entropy(
    x, given, estimator: str = "plugin", base: float = 2, **options
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
    _, h_y, h_xy = _three_terms(x, given, estimator, base, options, "x", "given")
    return h_xy - h_y


def mutual_information(a, b, estimator: str = "plugin", base: float = 2, **options) -> float:
    """Estimate I(A; B) = H(A) + H(B) - H(A, B) with one estimator for all three terms.

    Parameters
    ----------
    a, b : array_like or PackedBits
        Samples on the same N samples: binary rows, packed rows or 1-D symbols.
    estimator : str
        One of :data:`mi_regimes.ESTIMATORS`.
    base : float
        Logarithm base.
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
    h_a, h_b, h_ab = _three_terms(a, b, estimator, base, options, "a", "b")
    return _bounded_mi(h_a, h_b, h_ab, estimator)
