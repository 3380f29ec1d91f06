"""How far the plug-in's mean can be below H, given the fingerprint: two linear programmes.

The plug-in's error in the mean is a sum over states: in a sample of exactly N the count of
state k is Binomial(N, p_k), so H - E[Ĥ] = Σ_k β(p_k) with β(x) = g(x) - E[g(c/N)],
c ~ Binomial(N, x), g(p) = p·log2(1/p): about (1 - x)/(2N ln 2) for a state seen often, all
of g(x) for one almost never seen. The fingerprint's bands are Poisson statements (counts
independent Poi(λ_k), λ_k = N·p_k, each failure probability times e·sqrt(N) for a sample of
exactly N).

Describe the source by its histogram: w_i, the probability mass in states whose λ lies in
the cell [λ_i, λ_(i+1)] of a fixed grid. Then everything is linear in w:

* the bias: Σ_i w_i·β(x)/x;
* the number of states seen a number of times in bin b (1, 2, 3, 4, 5, 6–7, 8–11, 12–19,
  20–39, 40 and more) is a sum of independent indicators with mean
  Σ_i w_i·(N/λ)·P(Poi(λ) ∈ b): Chernoff's two tails give a band for that mean;
* at most K states: Σ_i w_i·N/λ_(i+1) <= K; and Σ_i w_i = 1.

Below λ = 10⁻³ (the "dust": states almost never seen) cells are not needed: there every
unit of mass adds about N to E[f_1] and nothing else, and m units spread over at most K
states carry at most m·log2(K/m) bits, a concave function the programme meets through its
tangents (one variable for the dust's mass, one for its entropy).

The largest and the smallest bias over the histograms the bands allow bound H - E[Ĥ]: the
true histogram is feasible when the bands hold. Each coefficient is taken at its least
favourable value over five points of its cell. This is Valiant & Valiant's "unseen" linear
programme (2011, 2013) turned from a best fit into two bounds. Derivation and checks in
docs/theory.md (section 7.2).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from ._highs import minimise

__all__ = ["BIN_STARTS", "bias_range", "bin_occupancy", "band_lower",
           "band_upper", "BiasRange"]

#: Lower ends of the count bins whose occupancy is banded (the last bin is open).
BIN_STARTS = (1, 2, 3, 4, 5, 6, 8, 12, 20, 40)
# Cell ratio of the grid of expected counts λ = N·x, from _DUST_LAMBDA to N; five points
# per cell. Below _DUST_LAMBDA the dust is one variable (see above), its entropy bounded by
# tangents of m·log2(K/m) at m = 2**-j, j = 0 … _TANGENTS - 1.
_GRID_RATIO = 1.1
_DUST_LAMBDA = 1e-3
_POINTS = 5
_TANGENTS = 48
# Binomial sums run over λ ± _SPAN·sqrt(λ) + _SPAN (terms beyond are below 1e-30); above
# _EXACT_LAMBDA the bias per state is bracketed by [0, (1 + 1/λ)/(2N ln 2)] (the Poisson
# bias, an upper bound, is 1 + 1/(6λ) + O(1/λ²) times 1/(2N ln 2) there).
_SPAN = 13.0
_EXACT_LAMBDA = 1000.0


def band_upper(observed, log_odds):
    """The largest mean of a sum of independent [0, 1] variables not rejected at e^-L.

    Chernoff's lower tail, P(S <= s) <= exp(-(μ - s - s·ln(μ/s))).
    """
    from ._bounds import _mean_upper  # the one solver of this equation

    return _mean_upper(np.asarray(observed, dtype=np.float64), log_odds)


def band_lower(observed, log_odds: float) -> np.ndarray:
    """The smallest mean not rejected by Chernoff's upper tail at e^-L (elementwise).

    P(S >= s) <= exp(-(s·ln(s/μ) - s + μ)) for μ <= s; the root μ of
    s·ln(s/μ) - s + μ = L is found by bisection on ln μ (the left side falls as μ grows).
    """
    s = np.atleast_1d(np.asarray(observed, dtype=np.float64))
    out = np.zeros_like(s)

    def excess(si: float, log_mu: float) -> float:
        return si * (math.log(si) - log_mu) - si + math.exp(log_mu) - log_odds

    for i, si in enumerate(s):
        lo = -745.0  # μ = e^-745 ~ 0
        if si <= 0.0 or excess(si, lo) <= 0.0:
            continue  # even μ -> 0 is not rejected
        hi = math.log(si)  # μ = s is never rejected
        while hi - lo > 1e-12:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if excess(si, mid) > 0.0 else (lo, mid)
        out[i] = math.exp(lo)  # the rejected side: never narrower than the exact band
    return out


def bin_occupancy(values: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """How many states were seen a number of times in each bin of :data:`BIN_STARTS`."""
    starts = np.asarray(BIN_STARTS)
    which = np.searchsorted(starts, values, side="right") - 1
    return np.bincount(which, weights=mult, minlength=starts.size).astype(np.float64)


def _binomial_window(n: int, x: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts around N·x and their Binomial(N, x) probabilities (the rest below 1e-30)."""
    lam = n * x
    width = _SPAN * math.sqrt(lam) + _SPAN
    counts = np.arange(max(0, int(lam - width)), min(n, int(lam + width) + 1) + 1)
    if x >= 1.0:
        return counts, (counts == n).astype(np.float64)
    log_pmf = (special.gammaln(n + 1.0) - special.gammaln(counts + 1.0)
               - special.gammaln(n - counts + 1.0) + counts * math.log(x)
               + (n - counts) * math.log1p(-x))
    return counts, np.exp(log_pmf)


@functools.lru_cache(maxsize=32)
def _cells(n: int) -> dict:
    """The grid of λ from _DUST_LAMBDA to N, and per unit mass each cell's bias range
    (over five points), and the dust's bias at its top."""
    log_n, ln2 = math.log(n), math.log(2.0)
    log_dust, log_top = math.log(_DUST_LAMBDA), log_n  # λ <= N: x <= 1
    fine = np.arange(log_dust, log_top, math.log(_GRID_RATIO))
    log_edges = np.concatenate([fine, [log_top]])
    t = np.linspace(0.0, 1.0, _POINTS)
    log_points = log_edges[:-1, None] + t[None, :] * np.diff(log_edges)[:, None]
    lam = np.exp(log_points)
    bias_high = np.empty_like(lam)  # β(λ)·N/λ, the bias per unit mass, bracketed
    bias_low = np.empty_like(lam)
    for idx in np.ndindex(lam.shape):
        log_lam = float(log_points[idx])
        if lam[idx] > _EXACT_LAMBDA:
            # Binomial(N, x) is below Poisson(λ) in the convex order, so its bias (g is
            # concave) is at most the Poisson one, <= (1 + 1/λ)/(2N ln 2); at least 0
            bias_low[idx] = 0.0
            bias_high[idx] = math.exp(log_n - log_lam) * (1.0 + 1.0 / lam[idx]) / (2 * n * ln2)
            continue
        x = min(math.exp(log_lam - log_n), 1.0)
        counts, pmf = _binomial_window(n, x)
        # β/x = log2(1/x) - E[g(c/N)]/x, c ~ Binomial(N, x): the plug-in's mean is over
        # samples of exactly N (the bands alone are Poisson statements)
        value = (log_n - log_lam) / ln2 - float(pmf @ special.entr(counts / n)) / (x * ln2)
        bias_low[idx] = bias_high[idx] = value
    return {"log_edges": log_edges, "log_points": log_points, "lam": lam,
            "bias_max": bias_high.max(axis=1), "bias_min": bias_low.min(axis=1),
            "dust_low": float(bias_low[0, 0])}


@functools.lru_cache(maxsize=32)
def _occupancy(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit mass, the least and largest expected number of states in each count bin."""
    cells = _cells(n)
    lam, log_points = cells["lam"], cells["log_points"]
    lo = np.asarray(BIN_STARTS, dtype=np.float64)[:, None, None]
    hi = np.asarray(BIN_STARTS[1:] + (np.inf,), dtype=np.float64)[:, None, None]
    # (N/λ)·P(lo <= Poi(λ) < hi); λ >= _DUST_LAMBDA, so N/λ <= 1000·N
    prob = special.pdtr(hi - 1, lam[None]) - special.pdtr(lo - 1, lam[None])
    per_mass = np.exp(math.log(n) - log_points)[None] * np.maximum(prob, 0.0)
    return per_mass.min(axis=2), per_mass.max(axis=2)


@functools.lru_cache(maxsize=64)
def _programme(n: int, log2_k: float) -> tuple:
    """The parts of both programmes that do not depend on the counts: the occupancy
    coefficients with the dust's two columns, the count and tangent rows, the dust's
    largest bias per unit mass."""
    cells = _cells(n)
    occ_min, occ_max = _occupancy(n)
    log_n, ln2 = math.log(n), math.log(2.0)
    size = cells["bias_max"].size
    # the dust (λ < _DUST_LAMBDA): mass m and entropy t. Per unit mass it adds N·e^-λ to
    # E[f_1] (least N·e^-0.001, most N), at most N·λ/2 to E[f_2], nothing measurable beyond
    dust_min = np.zeros(len(BIN_STARTS))
    dust_max = np.zeros(len(BIN_STARTS))
    dust_min[0], dust_max[0] = n * math.exp(-_DUST_LAMBDA), n
    dust_max[1] = n * _DUST_LAMBDA / 2.0
    no_entropy = np.zeros((len(BIN_STARTS), 1))
    occ_min = np.hstack([occ_min, dust_min[:, None], no_entropy])
    occ_max = np.hstack([occ_max, dust_max[:, None], no_entropy])
    # at most K states: a cell's states per unit mass are at least N/λ_hi (dust: N/0.001)
    count = np.exp(log_n - np.concatenate([cells["log_edges"][1:], [math.log(_DUST_LAMBDA)]])
                   - log2_k * ln2)
    # t <= m·log2(K/m) through its tangents at m_j = 2**-j: t <= m·(log2 K + j - 1/ln 2) +
    # 2**-j/ln 2 (a concave function lies below its tangents)
    j = np.arange(_TANGENTS, dtype=np.float64)
    tangents = np.zeros((_TANGENTS, size + 2))
    tangents[:, size] = -(log2_k + j - 1.0 / ln2)
    tangents[:, size + 1] = 1.0
    rows = np.vstack([np.concatenate([count, [0.0]])[None, :], tangents])
    bounds = np.concatenate([[1.0], 2.0**-j / ln2])
    # the dust's bias per unit mass is log2(1/x) - E[g(c/N)]/x, c ~ Binomial(N, x), at most
    # log2(1/x) - (1 - x)^(N-1)·log2 N (its singletons alone; x < 0.001/N), and Σ over the
    # dust of mass·log2(1/x) <= t; at least its value at λ = 0.001 (it falls with λ)
    dust_high = -math.exp((n - 1) * math.log1p(-_DUST_LAMBDA / n)) * math.log2(n)
    return occ_min, occ_max, rows, bounds, dust_high


class BiasRange(NamedTuple):
    """Bounds on H - E[Ĥ_plugin] (bits), and the upper one's two parts."""

    low: float
    high: float
    unseen: float  # from states expected to be seen less than once (λ <= 1)
    seen: float  # from the others


def bias_range(occupancy: np.ndarray, n: int, log2_k: float, log_odds: float) -> BiasRange:
    """The least and largest H - E[Ĥ_plugin] (bits) over histograms the bands allow.

    The programmes see the counts only through their ten bin occupancies, which many
    samples share (every state seen 40 times or more, say), so results are cached by them.

    Parameters
    ----------
    occupancy : numpy.ndarray
        :func:`bin_occupancy` of the counts.
    n : int
        Sample size N.
    log2_k : float
        log2 of the alphabet size K.
    log_odds : float
        L of every band end (each fails with probability at most e^-L).

    Returns
    -------
    BiasRange
        Bands no histogram meets (an event rarer than the bands' share) give an infinite
        range.
    """
    return _bias_range(tuple(np.asarray(occupancy, dtype=np.float64).tolist()), int(n),
                       float(log2_k), float(log_odds))


# the default heatmap's 4 327 intervals have 3 202 distinct occupancies
@functools.lru_cache(maxsize=8192)
def _bias_range(occupancy_key: tuple, n: int, log2_k: float, log_odds: float) -> BiasRange:
    occupancy = np.array(occupancy_key)
    cells = _cells(n)
    occ_min, occ_max, fixed_rows, fixed_bounds, dust_high = _programme(n, log2_k)
    up = np.asarray(band_upper(occupancy, log_odds), dtype=np.float64)
    lo = band_lower(occupancy, log_odds)
    size = cells["bias_max"].size
    scale = 1.0 / np.maximum(up, 1.0)  # rows of comparable size for the solver
    a_ub = np.vstack([occ_min * scale[:, None], -occ_max * scale[:, None], fixed_rows])
    b_ub = np.concatenate([up * scale, -lo * scale, fixed_bounds])
    a_eq = np.concatenate([np.ones(size + 1), [0.0]])[None, :]  # Σ w + m = 1
    high_ok, high_fun, w = minimise(-np.concatenate([cells["bias_max"], [dust_high, 1.0]]),
                                    a_ub, b_ub, a_eq, [1.0])
    low_ok, low_fun, _ = minimise(np.concatenate([cells["bias_min"], [cells["dust_low"], 0.0]]),
                                  a_ub, b_ub, a_eq, [1.0])
    if not (high_ok and low_ok):
        return BiasRange(-math.inf, math.inf, math.inf, math.nan)
    rarely = np.exp(cells["log_edges"][1:]) <= 1.0
    unseen = float(w[:size][rarely] @ cells["bias_max"][rarely] + dust_high * w[size]
                   + w[size + 1])
    return BiasRange(max(float(low_fun), 0.0), -float(high_fun), unseen,
                     float(w[:size][~rarely] @ cells["bias_max"][~rarely]))
