"""Reliability verdicts on observed data, each with a stated bound.

A verdict turns the counts of a sample into an interval [L, U] that holds the true
entropy H with probability at least ``confidence`` (95 %) for *any* source on a known
alphabet of K states (K = 2**D for D-bit rows), then judges an estimate Ĥ by it:
``reliable`` means [L, U] lies within ``tol`` of Ĥ, so |Ĥ - H| <= tol with probability
at least 95 % whatever the source. The derivation, and which steps are exact bounds and
which are asymptotic, is in docs/theory.md ("Verdicts with a stated guarantee").

The bounds, in bits, from observables only (N, K_obs, singletons f1, the counts):

* **unseen mass**: M0 <= M0⁺ (:func:`unseen_mass_bound`: Good–Turing's f1/N plus
  concentration terms, worst-case or variance-adaptive, whichever is smaller);
* **unseen entropy**: mass m spread over at most K - K_obs unseen states carries at most
  m·log2((K - K_obs)/m) bits, so H <= max over m <= M0⁺ of h(m) + (1 - m)·A +
  m·log2(K - K_obs), with A the upper bound of the seen part below (and H <= log2 K);
* **seen states**: A = Ĥ_plugin + b + z·s, with b the larger of the Miller–Madow and
  jackknife bias corrections and s the delta-method standard deviation of Ĥ_plugin;
* **lower end**: L = Ĥ_plugin - z·s (the plug-in is biased low for every source).

Labels, each defined here once and used by the regime grid, the planes and the plots:
``reliable``, ``biased`` (the seen states' bias or spread exceeds the tolerance),
``undersampled`` (the unseen-mass term alone exceeds it), ``saturated`` (the plug-in is
within ``SATURATION_TOL`` of log2 N: almost every sample distinct) and ``no guarantee``
(no alphabet size is known, so unseen states could carry any entropy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._validation import check_alphabet_size, check_float, check_fraction
from .estimators import check_counts, estimate_counts
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
LN2 = math.log(2.0)
# How the 5 % of failure is shared: the unseen mass, the seen part above, and below.
# Without unseen states (K_obs = K) the first share goes to the other two.
_SHARES = (0.4, 0.3, 0.3)
# θ grid of the Chernoff bound on the missing mass (fixed in advance: a union bound)
_THETA = np.arange(1, 17) / 16.0


def is_saturated(h_plugin_bits: float, n: int) -> bool:
    """The one definition of saturation: Ĥ_plugin >= (1 - SATURATION_TOL)·log2 N."""
    return n > 1 and h_plugin_bits >= (1.0 - SATURATION_TOL) * math.log2(n)


@dataclass(frozen=True)
class CountSummary:
    """What the verdicts read from the counts of real data (bits)."""

    n: int
    k_observed: int
    singletons: int
    doubletons: int
    h_plugin: float
    sd_plugin: float
    seen_bias: float
    values: np.ndarray  # the count profile: distinct counts ...
    multiplicities: np.ndarray  # ... and how many states have each

    @property
    def coincidences(self) -> int:
        """Samples repeating an earlier state: n - K_obs."""
        return self.n - self.k_observed

    @property
    def saturation(self) -> float:
        """Ĥ_plugin / log2 n (1 = all samples distinct)."""
        return self.h_plugin / math.log2(self.n) if self.n > 1 else 0.0


def summarize_counts(counts) -> CountSummary:
    """The observables of a count vector, computed once for every estimator's verdict."""
    c = check_counts(counts)
    n = int(c.sum())
    q = c / n
    log_q = np.log2(q)
    h = float(max(0.0, -np.dot(q, log_q)))
    # delta method, with the second-order term that keeps it positive when q is uniform
    var = max(float(np.dot(q, log_q * log_q)) - h * h, 0.0) / n
    var += (c.size - 1) / (2.0 * n * n * LN2 * LN2)
    miller_madow = (c.size - 1) / (2.0 * n * LN2)
    jackknife = estimate_counts(c, "jackknife").value - h if n > 1 else 0.0
    values, mult = np.unique(c, return_counts=True)
    return CountSummary(n, int(c.size), int(np.count_nonzero(c == 1)),
                        int(np.count_nonzero(c == 2)), h, math.sqrt(var),
                        max(miller_madow, jackknife, 0.0), values, mult)


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
        The tolerance, in bits, the estimate was judged against.
    unseen_mass : float
        M0⁺, the upper confidence bound on the probability of unseen states.
    unseen_entropy : float
        The most entropy those states can add above the seen part's bound.
    seen_bias : float
        b, the seen states' bias correction of the plug-in.
    spread : float
        z·s, the spread of the plug-in at the chosen confidence.
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


def _binary_entropy(m: float) -> float:
    return 0.0 if m <= 0.0 or m >= 1.0 else -(m * math.log2(m) + (1 - m) * math.log2(1 - m))


def unseen_mass_bound(counts, delta: float) -> float:
    """M0⁺: the unseen states' total probability is at most this, w.p. >= 1 - delta.

    The smaller of two bounds, each allowed delta/2 (derivations in docs/theory.md):

    * worst case: f1/N + sqrt(2 ln(4/δ)/N) + sqrt(ln(4/δ)/N) (Good–Turing's
      E[M0] <= E[f1]/N; McDiarmid on f1; McAllester & Ortiz 2003 on M0);
    * variance-adaptive: under Poisson(N) sampling the counts are independent, Good–Turing
      is unbiased (E[M0] = E[f1]/N), and for 0 < θ <= 1 the moment generating function
      of M0 obeys ln E exp(θN(M0 - E M0)) <= Σ_k e^(-N p_k) φ(θ N p_k) = E[S_θ] with
      S_θ = Σ_k θ^(n_k) 1{n_k >= 2} and φ(u) = e^u - 1 - u. Upper confidence bounds on
      E[f1] and E[S_θ] (Chernoff's lower tails for sums of independent variables in
      [0, 1] and [0, θ²]) then give M0⁺ through Chernoff's bound, minimised over a fixed
      grid of θ (union bound). A multinomial sample is a Poisson one conditioned on its
      size, which multiplies every failure probability by at most e·sqrt(N)
      (P(Poisson(N) = N) >= 1/(e sqrt N)).

    Parameters
    ----------
    counts : numpy.ndarray
        Positive counts of the observed states.
    delta : float
        Allowed failure probability.

    Examples
    --------
    >>> round(unseen_mass_bound([4] * 16384, 0.02), 4)
    0.0029
    """
    values, mult = np.unique(check_counts(counts), return_counts=True)
    return _unseen_mass(values, mult, delta)


def _unseen_mass(values: np.ndarray, mult: np.ndarray, delta: float) -> float:
    """:func:`unseen_mass_bound` from the count profile (distinct counts, multiplicities)."""
    n = int(np.dot(values, mult))
    f1 = int(mult[0]) if values[0] == 1 else 0
    half = delta / 2
    worst = f1 / n + math.sqrt(2 * math.log(2 / half) / n) + math.sqrt(math.log(2 / half) / n)
    # adaptive: three events (E[f1], the E[S_θ], the Chernoff bounds), each half/3, the
    # last two over the θ grid; every Poisson-level probability times e·sqrt(N)
    depoisson = math.e * math.sqrt(n)
    l_f1 = math.log(depoisson * 3 / half)
    l_grid = math.log(depoisson * 3 * _THETA.size / half)
    f1_high = (math.sqrt(l_f1 / 2) + math.sqrt(f1 + l_f1 / 2)) ** 2
    repeated = values >= 2
    s_theta = (_THETA[:, None] ** values[repeated][None, :]) @ mult[repeated].astype(float)
    t2 = _THETA**2 * l_grid / 2
    s_high = (np.sqrt(t2) + np.sqrt(s_theta + t2)) ** 2
    adaptive = f1_high / n + float(np.min((s_high + l_grid) / (_THETA * n)))
    return min(1.0, worst, adaptive)


def entropy_interval(summary: CountSummary, alphabet_size, confidence: float = CONFIDENCE
                     ) -> tuple[float, float, float, float, float]:
    """The interval [L, U] for H and its parts (see the module docstring).

    Returns
    -------
    (low, high, unseen_mass, unseen_entropy, spread)
    """
    s, delta = summary, 1.0 - confidence
    unseen_states = alphabet_size - s.k_observed
    shares = _SHARES if unseen_states > 0 else (0.0, 0.5, 0.5)
    d_unseen, d_hi, d_lo = (share * delta for share in shares)
    unseen_mass = _unseen_mass(s.values, s.multiplicities, d_unseen) if unseen_states > 0 \
        else 0.0
    z_hi, z_lo = stats.norm.isf(d_hi), stats.norm.isf(d_lo)
    seen_high = s.h_plugin + s.seen_bias + z_hi * s.sd_plugin
    high = seen_high
    log2_k = math.log2(alphabet_size)
    if unseen_states > 0:
        log2_unseen = math.log2(unseen_states)
        # h(m) + (1-m)·A + m·log2 U is concave in m, largest at 1/(1 + 2**(A - log2 U))
        best = 1.0 / (1.0 + 2.0 ** min(seen_high - log2_unseen, 1000.0))
        m = min(unseen_mass, best)
        high = _binary_entropy(m) + (1 - m) * seen_high + m * log2_unseen
    high = min(high, log2_k)
    low = max(0.0, s.h_plugin - z_lo * s.sd_plugin)
    return low, high, unseen_mass, max(high - seen_high, 0.0), z_hi * s.sd_plugin


def classify(summary: CountSummary, value: float | None = None, *, alphabet_size=None,
             tol: float = DEFAULT_TOL, tol_bits: float | None = None,
             confidence: float = CONFIDENCE) -> Verdict:
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
    >>> classify(summarize_counts([5] * 200), alphabet_size=2**30).status
    'undersampled'
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
    if k < s.k_observed:
        raise ValueError(f"alphabet_size: {k} is smaller than the {s.k_observed} states "
                         "observed")
    low, high, m0, unseen, spread = entropy_interval(s, k, confidence)
    tol_used = tol_bits if tol_bits is not None else tol * low
    over, under = high - value, value - low
    parts = (f"H in [{low:.4g}, {high:.4g}] bits w.p. >= {confidence:.0%} (unseen mass "
             f"<= {m0:.3g} adds <= {unseen:.3g} bits; seen bias {s.seen_bias:.3g}, "
             f"spread {spread:.3g})")
    bounds = dict(h_low=low, h_high=high, tol_bits=tol_used, unseen_mass=m0,
                  unseen_entropy=unseen, seen_bias=s.seen_bias, spread=spread)
    worst = max(over, under)
    if worst <= tol_used:
        return Verdict("reliable", f"reliable: error <= {worst:.3g} <= tol {tol_used:.3g} "
                                   f"bits; {parts}", **bounds)
    if unseen > tol_used:
        return Verdict("undersampled", f"undersampled: unseen states may add {unseen:.3g} "
                                       f"> tol {tol_used:.3g} bits; {parts}", **bounds)
    return Verdict("biased", f"biased: error bound {worst:.3g} > tol {tol_used:.3g} bits; "
                             f"{parts}", **bounds)


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
