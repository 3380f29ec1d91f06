"""Reliability verdicts on observed data, each with a stated bound.

A verdict turns the counts of a sample into an interval [L, U] that holds the true
entropy H with probability at least ``confidence`` (95 %) for *any* source on a known
alphabet of K states (K = 2**D for D-bit rows), then judges an estimate Ĥ by it:
``reliable`` means [L, U] lies within ``tol`` of Ĥ, so |Ĥ - H| <= tol with probability
at least 95 % whatever the source. The derivation, and which steps are exact bounds and
which are asymptotic, is in docs/theory.md ("Verdicts with a stated guarantee").

The bounds, in bits, from observables only (N, the counts, and their fingerprint: how many
states were seen once, twice, …):

* **bias**: the plug-in's mean lies below H by b = Σ_k β(N·p_k), each state's share
  depending on its expected count alone; b⁻ <= b <= b⁺ are the least and largest such
  sums over every histogram of probabilities on at most K states whose expected
  fingerprint stays inside Chernoff confidence bands around the observed one (two linear
  programmes, :func:`mi_regimes._fingerprint_lp.bias_range`); b⁺ is reported in two parts,
  from states expected to be seen less than once (``unseen_entropy``) and from the others
  (``seen_bias``);
* **spread**: z·s, s the delta-method standard deviation of Ĥ_plugin with one potential
  singleton's variance (log2(N)/N)² added (the delta method gives none to unseen states);
* U = Ĥ_plugin + b⁺ + z·s (at most log2 K) and L = Ĥ_plugin + b⁻ - z·s; the unseen mass's
  upper bound M0⁺ (:func:`unseen_mass_bound`) is reported beside them.

A relative tolerance asks |Ĥ - H| <= tol·H for every H in [L, U], that is Ĥ - L <= tol·L
and U - Ĥ <= tol·U.

Labels, each defined here once and used by the regime grid, the planes and the plots:
``reliable``, ``biased`` (the interval reaches beyond the tolerance),
``undersampled`` (what states expected to be seen less than once may add alone exceeds
it), ``saturated`` (the plug-in is
within ``SATURATION_TOL`` of log2 N: almost every sample distinct) and ``no guarantee``
(no alphabet size is known, so unseen states could carry any entropy; or no distribution
on the alphabet gives the counts within their bands, as when every row is duplicated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._bounds import (
    CountSummary,
    Interval,
    entropy_interval,
    summarize_counts,
    unseen_mass_bound,
)
from ._validation import (
    check_alphabet_covers,
    check_alphabet_size,
    check_float,
    check_fraction,
)
from .information import Estimate, count_samples, estimate_from_counts

__all__ = ["DEFAULT_TOL", "SATURATION_TOL", "CONFIDENCE", "STATUSES", "CountSummary",
           "Verdict", "summarize_counts", "classify", "assess", "is_saturated",
           "entropy_interval", "unseen_mass_bound"]

#: Default relative tolerance of a reliable estimate (5 % of H).
DEFAULT_TOL = 0.05
#: An estimate is saturated when Ĥ_plugin >= (1 - SATURATION_TOL)·log2 N.
SATURATION_TOL = 0.02
#: Probability with which the interval [L, U] holds H, for any source.
CONFIDENCE = 0.95
#: Every verdict status, in order of trust.
STATUSES = ("reliable", "biased", "undersampled", "saturated", "no guarantee")


def is_saturated(h_plugin_bits: float, n: int) -> bool:
    """The one definition of saturation: Ĥ_plugin >= (1 - SATURATION_TOL)·log2 N."""
    return n > 1 and h_plugin_bits >= (1.0 - SATURATION_TOL) * math.log2(n)


@dataclass(frozen=True)
class Verdict:
    """A reliability verdict with the interval and the bounds it rests on (bits).

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    reason : str
        One line naming the deciding bound and its value.
    h_low, h_high : float
        The interval [L, U] holding H with probability >= ``CONFIDENCE`` (NaN when no
        alphabet size is known).
    tol_bits : float
        The tolerance, in bits, below the estimate (tol·L; above it tol·U is allowed).
    unseen_mass : float
        M0⁺, the upper confidence bound on the probability of unseen states.
    unseen_entropy : float
        The part of b⁺ from states expected to be seen less than once: the most their
        entropy can exceed what the plug-in gives them.
    seen_bias : float
        The part of b⁺ from the other states.
    spread : float
        z·s, the plug-in's spread at the chosen confidence.
    """

    status: str
    reason: str
    h_low: float = float("nan")
    h_high: float = float("nan")
    tol_bits: float = float("nan")
    unseen_mass: float = float("nan")
    unseen_entropy: float = float("nan")
    seen_bias: float = float("nan")
    spread: float = float("nan")


def classify(summary: CountSummary, value: float | None = None, *, alphabet_size=None,
             tol: float = DEFAULT_TOL, tol_bits: float | None = None,
             confidence: float = CONFIDENCE, interval: Interval | None = None) -> Verdict:
    """Judge an entropy estimate from what the counts show.

    Parameters
    ----------
    summary : CountSummary
        From :func:`summarize_counts`.
    value : float, optional
        The estimate in bits (default the plug-in).
    alphabet_size : int or float, optional
        K, the number of possible states (2**D for D-bit rows). Without it no bound on
        the unseen states exists: the verdict is ``no guarantee``.
    tol : float
        Relative tolerance: |Ĥ - H| <= tol·H is asked (judged against tol·L <= tol·H).
    tol_bits : float, optional
        Absolute tolerance in bits; replaces ``tol`` when given.
    confidence : float
        Probability with which [L, U] must hold H.
    interval : Interval, optional
        :func:`entropy_interval` of the same summary, alphabet and confidence, when the
        caller has it already (it is the same for every estimator of one sample).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> from mi_regimes.verdicts import classify, summarize_counts
    >>> classify(summarize_counts([1] * 998 + [2]), alphabet_size=2**40).status
    'saturated'
    >>> classify(summarize_counts([2500] * 4), alphabet_size=4).status
    'reliable'
    >>> classify(summarize_counts([25] * 4), alphabet_size=2**30).status
    'undersampled'
    >>> classify(summarize_counts([5] * 200), alphabet_size=2**30).status  # too regular
    'no guarantee'
    """
    s = summary
    value = s.h_plugin if value is None else float(value)
    confidence = check_fraction("confidence", confidence)
    if tol_bits is not None:
        tol_bits = check_float("tol_bits", tol_bits, 0.0)
    else:
        tol = check_fraction("tol", tol)
    if is_saturated(s.h_plugin, s.n):
        return Verdict("saturated", f"saturated: {s.k_observed} of {s.n} samples distinct "
                                    f"(Ĥ/log2 N = {s.saturation:.3f} >= "
                                    f"{1 - SATURATION_TOL:.2f})")
    k = check_alphabet_size("alphabet_size", alphabet_size)
    if k is None:
        return Verdict("no guarantee", "no guarantee: the alphabet size is unknown, so "
                       "unseen states could carry any entropy; pass alphabet_size")
    check_alphabet_covers(k, s.k_observed)
    if interval is None:
        interval = entropy_interval(s, k, confidence)
    low, high, m0, rare, spread, bias = interval
    if not interval.consistent:
        # a draw rarer than the bands' failure share, or counts that are not independent
        # draws (every row duplicated, say)
        return Verdict("no guarantee", f"no guarantee: no distribution on the alphabet "
                       f"gives these counts within their {confidence:.0%} bands (rows "
                       f"duplicated, or not independent draws?); H in [{low:.4g}, "
                       f"{high:.4g}] bits is all that holds", h_low=low, h_high=high,
                       tol_bits=tol_bits if tol_bits is not None else tol * low,
                       unseen_mass=m0, spread=spread)
    # |Ĥ - H| <= tol·H for every H in [L, U]: Ĥ - L <= tol·L and U - Ĥ <= tol·U
    tol_low = tol_bits if tol_bits is not None else tol * low
    tol_high = tol_bits if tol_bits is not None else tol * high
    over, under = high - value, value - low
    parts = (f"H in [{low:.4g}, {high:.4g}] bits w.p. >= {confidence:.0%} (states expected "
             f"to be seen less than once may add <= {rare:.3g} bits, the others' bias "
             f"<= {bias:.3g}, spread {spread:.3g}; unseen mass <= {m0:.3g})")
    bounds = dict(h_low=low, h_high=high, tol_bits=tol_low, unseen_mass=m0,
                  unseen_entropy=rare, seen_bias=bias, spread=spread)
    if over <= tol_high and under <= tol_low:
        return Verdict("reliable", f"reliable: error <= {max(over, under):.3g} bits within "
                                   f"tol ({tol_low:.3g} below, {tol_high:.3g} above); "
                                   f"{parts}", **bounds)
    if rare > tol_high:
        return Verdict("undersampled", f"undersampled: rarely seen states may add "
                                       f"{rare:.3g} > tol {tol_high:.3g} bits; {parts}",
                       **bounds)
    if over - tol_high >= under - tol_low:
        gap, side, limit = over, "above", tol_high
    else:
        gap, side, limit = under, "below", tol_low
    return Verdict("biased", f"biased: H may lie {gap:.3g} bits {side} the estimate > tol "
                             f"{limit:.3g}; {parts}", **bounds)


def assess(x, estimator: str = "plugin", tol: float = DEFAULT_TOL, *,
           tol_bits: float | None = None, **options) -> tuple[Estimate, Verdict]:
    """Estimate the entropy of samples and judge whether the estimate can be trusted.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` binary rows (or packed rows, or 1-D symbols), in any container.
    estimator : str
        Estimator name.
    tol : float
        Relative tolerance (see :func:`classify`).
    tol_bits : float, optional
        Absolute tolerance in bits, instead of ``tol``.
    **options
        Estimator options (``rng``, ``n_boot``, ``ci``) and ``alphabet_size``.

    Returns
    -------
    (Estimate, Verdict)

    Examples
    --------
    >>> import numpy as np
    >>> from mi_regimes import verdicts
    >>> x = np.random.default_rng(0).integers(0, 2, size=(1000, 40))
    >>> est, verdict = verdicts.assess(x)
    >>> verdict.status, bool(est.value == np.log2(1000))
    ('saturated', True)
    """
    counted = count_samples(x, alphabet_size=options.pop("alphabet_size", None))
    ci = options.pop("ci", 0.95)
    rng = options.pop("rng", None)
    est = estimate_from_counts(counted.counts, estimator, ci, rng,
                               alphabet_size=counted.alphabet_size,
                               alphabet_known=counted.alphabet_known, **options)
    known = counted.alphabet_size if counted.alphabet_known else None
    return est, classify(summarize_counts(counted.counts), est.value, alphabet_size=known,
                         tol=tol, tol_bits=tol_bits)
