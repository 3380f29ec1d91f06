"""Reliability verdicts on observed data: is an entropy estimate to be trusted?

The labels, each defined here once and used by the regime grid, the planes and the
plots:

* ``saturated``: the plug-in estimate is within ``SATURATION_TOL`` of log2 N (almost
  every sample distinct), so any estimate reflects N, not H;
* ``reliable``: the estimate is predicted to lie within the tolerance of H;
* ``biased``: neither.

Only observable quantities are used (N, K_obs, singletons, doubletons, Ĥ/log2 N).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validation import check_fraction
from .estimators import check_counts, plugin
from .information import Estimate, count_samples, estimate_from_counts

__all__ = ["DEFAULT_TOL", "SATURATION_TOL", "STATUSES", "CountSummary", "Verdict",
           "summarize_counts", "classify", "assess", "is_saturated"]

#: Default relative tolerance of a reliable estimate (5 % of H).
DEFAULT_TOL = 0.05
#: An estimate is saturated when Ĥ_plugin >= (1 - SATURATION_TOL)·log2 N.
SATURATION_TOL = 0.02
#: Every verdict status, in order of trust.
STATUSES = ("reliable", "biased", "saturated")
LN2 = math.log(2.0)


def is_saturated(h_plugin_bits: float, n: int) -> bool:
    """The one definition of saturation: Ĥ_plugin >= (1 - SATURATION_TOL)·log2 N."""
    return n > 1 and h_plugin_bits >= (1.0 - SATURATION_TOL) * math.log2(n)


class CountSummary(NamedTuple):
    """What can be observed from the counts of real data."""

    n: int
    k_observed: int
    singletons: int
    doubletons: int
    h_plugin: float

    @property
    def coincidences(self) -> int:
        """Samples repeating an earlier state: n - K_obs."""
        return self.n - self.k_observed

    @property
    def saturation(self) -> float:
        """Ĥ_plugin / log2 n (1 = all samples distinct)."""
        return self.h_plugin / math.log2(self.n) if self.n > 1 else 0.0

    @property
    def chao1(self) -> float:
        """Chao1 lower-bound estimate of the number of states, K_obs + f1²/(2 f2)."""
        f1, f2 = self.singletons, self.doubletons
        extra = f1 * f1 / (2.0 * f2) if f2 > 0 else f1 * (f1 - 1) / 2.0
        return self.k_observed + extra


def summarize_counts(counts) -> CountSummary:
    """Summarise a count vector into the observables used by :func:`classify`."""
    c = check_counts(counts)
    return CountSummary(int(c.sum()), int(c.size), int(np.count_nonzero(c == 1)),
                        int(np.count_nonzero(c == 2)), plugin(c))


class Verdict(NamedTuple):
    """A reliability verdict: its status (one of :data:`STATUSES`) and a one-line reason."""

    status: str
    reason: str


def classify(summary: CountSummary, estimator: str = "plugin", value: float | None = None,
             tol: float = DEFAULT_TOL) -> Verdict:
    """Judge an entropy estimate as ``reliable``, ``biased`` or ``saturated``.

    * **saturated**: :func:`is_saturated` on the plug-in estimate;
    * else the bias is predicted from the Chao1 estimate K̂ of the number of states:
      (K̂ - 1)/(2 n ln 2) for the plug-in, (K̂ - K_obs)/(2 n ln 2) for estimators
      that already correct the observed-state term; **reliable** if that is at most
      ``tol`` times the estimate, else **biased**.

    Parameters
    ----------
    summary : CountSummary
        From :func:`summarize_counts`.
    estimator : str
        Name of the estimator that produced ``value``.
    value : float, optional
        The estimate in bits (defaults to the plug-in).
    tol : float
        Relative error accepted as reliable (default :data:`DEFAULT_TOL`).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> from mi_regimes.verdicts import classify, summarize_counts
    >>> classify(summarize_counts([1] * 998 + [2])).status
    'saturated'
    >>> classify(summarize_counts([250, 250, 250, 250])).status
    'reliable'
    """
    tol = check_fraction("tol", tol)
    s = summary
    if is_saturated(s.h_plugin, s.n):
        return Verdict("saturated", f"saturated: {s.k_observed} of {s.n} rows distinct "
                                    f"(Ĥ/log2 n = {s.saturation:.3f})")
    value = s.h_plugin if value is None else value
    k_hat = s.chao1
    unseen_only = estimator != "plugin"
    bias = ((k_hat - s.k_observed) if unseen_only else (k_hat - 1)) / (2 * s.n * LN2)
    rel = bias / value if value > 0 else (0.0 if bias == 0 else math.inf)
    what = f"predicted relative bias {rel:.1%} (K_obs = {s.k_observed}, Chao1 K ≈ {k_hat:.0f})"
    if rel <= tol:
        return Verdict("reliable", f"reliable: {what} <= {tol:.0%}")
    return Verdict("biased", f"biased: {what} > {tol:.0%}")


def assess(x, estimator: str = "plugin", tol: float = DEFAULT_TOL, **options
           ) -> tuple[Estimate, Verdict]:
    """Estimate the entropy of samples and judge whether the estimate can be trusted.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` binary rows (or packed rows, or 1-D symbols), in any container.
    estimator : str
        Estimator name.
    tol : float
        Relative error accepted as reliable.
    **options
        Estimator options (``rng``, ``n_boot``, ``ci``, ``alphabet_size``).

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
    return est, classify(summarize_counts(counted.counts), estimator, est.value, tol)
