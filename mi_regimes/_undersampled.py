"""Estimators for the undersampled regime: JVHW polynomial approximation and the unseen LP.

Both work on the count profile (distinct counts and how many states have each), so their
cost depends on the number of distinct count values, not on N. Values in nats.

**JVHW** (Jiao, Venkat, Han & Weissman 2015, "Minimax estimation of functionals of
discrete distributions"). Each observed state with count x, p̂ = x/N, contributes:

* p̂ >= Δ: the plug-in term with its second-order bias correction, -p̂ ln p̂ + (1 - p̂)/(2N);
* p̂ <= Δ/2: -p ln p replaced on [0, Δ] by its best uniform polynomial approximation
  Δ·P(p/Δ) - p ln Δ (P of degree K approximating -t ln t on [0, 1]), each power (p/Δ)^k
  replaced by its unbiased estimate (x)_k / ((N)_k Δ^k) (falling factorials);
* in between, a linear blend of the two, so the estimate is continuous in the counts.

Constants, ours, measured rather than copied: Δ = ``JVHW_RANGE``·ln N / N with
JVHW_RANGE = 2; K = ⌈``JVHW_DEGREE``·ln N⌉ with JVHW_DEGREE = 1.2, at most
``JVHW_MAX_DEGREE`` = 14. Degree: over 11 uniform, Zipf and geometric sources (N from 30
to 10⁶, alphabets 16 to 10⁶) the largest relative bias was 3.7 % with 1.2·ln N and 6.5 %
with 0.7·ln N; degrees above 14 lost digits to cancellation in the monomial sum (16.6 %
bias at N = 10⁶, degree 17). Range: Δ = ln N / N did best on those sources but
overshot by 11 % on dyadic Zipf codes (D = 12, N = 2¹⁶), where many states have p just
above Δ and fall below the cut by chance, so the polynomial is evaluated beyond its
interval; Δ = 2 ln N / N removes that overshoot (largest error then 11 % *low*, in cells
where every estimator fails) at the cost of up to 5.8 % on the first set.
States never seen contribute nothing (as in the authors'
code): the constant term a_0·Δ of each small-count state stands for the unseen ones, and
no alphabet size is needed. P is the best approximation computed once per degree as a
linear programme (HiGHS) on 1003 Chebyshev points of [0, 1] in the Chebyshev basis.

**Unseen** (Valiant & Valiant 2011, "Estimating the unseen"; the linear programme of
their 2013 practical version). From the fingerprint F_i (the number of states seen exactly
i times): states seen often (count above a cut where the fingerprint is dense) are taken
as seen; the rest of the distribution is a histogram h_j >= 0 on a geometric grid of
probabilities x_j (ratio ``UNSEEN_GRID`` = 1.2: against 1.05, the relative bias on ten
Bernoulli and dyadic-Zipf cells moved by at most 0.001 and the LPs ran 2.2x faster) whose
expected fingerprint Σ_j h_j·Poi(N x_j, i) best matches F_i (first LP: least weighted
absolute error, weights 1/sqrt(F_i + 1)); the second LP keeps the simplest histogram
(least support) whose error is within ``UNSEEN_SLACK`` of the best. The entropy is that
of the histogram plus the seen part.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, special

from ._profile import profile_of

__all__ = ["jvhw_nats", "jvhw_coefficients", "jvhw_settings", "unseen_nats", "JVHW_DEGREE",
           "JVHW_RANGE", "JVHW_MAX_DEGREE", "UNSEEN_GRID", "UNSEEN_SLACK"]

JVHW_DEGREE = 1.2
JVHW_RANGE = 2.0
JVHW_MAX_DEGREE = 14
UNSEEN_GRID = 1.2
UNSEEN_SLACK = 0.5


@functools.cache
def jvhw_coefficients(degree: int) -> tuple[float, ...]:
    """a_0..a_K of the best uniform approximation Σ a_k t^k of -t ln t on [0, 1].

    Examples
    --------
    >>> a = jvhw_coefficients(4)
    >>> t = np.linspace(0, 1, 201)
    >>> p = sum(c * t ** k for k, c in enumerate(a))
    >>> round(float(np.max(np.abs(p + t * np.log(np.where(t > 0, t, 1))))), 3)  # ~0.22/K^2
    0.014
    """
    from numpy.polynomial import chebyshev as C

    nodes = 0.5 * (1 - np.cos(np.pi * (np.arange(1001) + 0.5) / 1001))
    nodes = np.concatenate([[0.0], nodes, [1.0]])
    target = -nodes * np.log(np.where(nodes > 0, nodes, 1.0))
    basis = C.chebvander(2 * nodes - 1, degree)  # Chebyshev basis on [0, 1]: well conditioned
    m = degree + 1
    # variables c_0..c_K, e: minimise e subject to |basis·c - target| <= e
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    ones = np.ones((nodes.size, 1))
    a_ub = np.vstack([np.hstack([basis, -ones]), np.hstack([-basis, -ones])])
    b_ub = np.concatenate([target, -target])
    res = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * m + [(0, None)],
                           method="highs")
    if not res.success:  # pragma: no cover - a fixed, feasible programme
        raise RuntimeError(f"JVHW: the approximation LP failed ({res.message})")
    mono = C.Chebyshev(res.x[:m], domain=[0, 1]).convert(kind=np.polynomial.Polynomial).coef
    return tuple(float(v) for v in mono)


def jvhw_settings(n: int) -> tuple[int, float]:
    """(degree K, approximation range Δ) for a sample of size n."""
    ln_n = math.log(max(n, 2))
    degree = int(min(JVHW_MAX_DEGREE, max(2, math.ceil(JVHW_DEGREE * ln_n))))
    return degree, min(1.0, JVHW_RANGE * ln_n / n)


def jvhw_term(x: int, n: int, degree: int, delta: float) -> float:
    """JVHW's estimate of -p ln p for one state seen x times (nats)."""
    p = x / n
    plug = -p * math.log(p) + (1.0 - p) / (2.0 * n)
    blend = min(max(2.0 * p / delta - 1.0, 0.0), 1.0)  # 0 below Δ/2, 1 from Δ
    if blend >= 1.0:
        return plug
    # Δ·P(p/Δ) - p·ln Δ, each (p/Δ)^k replaced by (x)_k / ((N)_k Δ^k): unbiased
    coef = jvhw_coefficients(degree)
    power, poly = 1.0, coef[0]
    for k in range(1, min(degree, x) + 1):  # (x)_k = 0 beyond k = x
        power *= (x - k + 1) / ((n - k + 1) * delta)
        poly += coef[k] * power
    approx = delta * poly - p * math.log(delta)
    return max(blend * plug + (1.0 - blend) * approx, 0.0)


def jvhw_nats(values: np.ndarray, mult: np.ndarray) -> float:
    """JVHW entropy (nats) from the count profile."""
    n = int(np.sum(values * mult))
    degree, delta = jvhw_settings(n)
    return float(sum(m * jvhw_term(x, n, degree, delta)
                     for x, m in zip(values.tolist(), mult.tolist(), strict=True)))


def _fingerprint(values: np.ndarray, mult: np.ndarray) -> np.ndarray:
    f = np.zeros(int(values.max()) + 1)
    f[values] = mult
    return f  # f[i]: states seen exactly i times (f[0] unused)


def unseen_nats(values: np.ndarray, mult: np.ndarray) -> float:
    """Valiant–Valiant unseen entropy (nats) from the count profile."""
    n = int(np.sum(values * mult))
    f = _fingerprint(values, mult)
    top = f.size - 1
    # the cut between the rare part (fitted) and the dense part (taken as seen): the
    # first count i whose window i ± sqrt(i) holds at most 2·sqrt(i) states
    cut = top
    for i in range(1, top + 1):
        w = math.ceil(math.sqrt(i))
        if f[max(1, i - w): min(top, i + w) + 1].sum() <= 2 * math.sqrt(i):
            cut = i
            break
    cut = min(top, cut)
    seen_values = np.arange(cut + 2 * math.ceil(math.sqrt(cut)) + 1, top + 1)
    seen_values = seen_values[f[seen_values] > 0] if seen_values.size else seen_values
    seen_mass = float(np.sum(seen_values * f[seen_values])) / n
    seen_entropy = float(np.sum(f[seen_values] * -(seen_values / n)
                                * np.log(seen_values / n)))
    last = cut + 2 * math.ceil(math.sqrt(cut))  # fitted fingerprint entries: 1..last
    last = min(last, top)
    fitted = f[1:last + 1].copy()
    rare_mass = 1.0 - seen_mass
    if rare_mass <= 1e-12 or fitted.sum() == 0:
        return seen_entropy
    x_min = 1.0 / (n * max(10, n))
    x_max = min(1.0, (last + 1) / n)
    grid = x_min * UNSEEN_GRID ** np.arange(int(math.log(x_max / x_min)
                                                / math.log(UNSEEN_GRID)) + 2)
    i = np.arange(1, last + 1)
    # Poisson probabilities of seeing each grid state i times, in log space
    lam = n * grid
    poi = np.exp(i[:, None] * np.log(lam)[None, :] - lam[None, :]
                 - special.gammaln(i + 1)[:, None])
    weight = 1.0 / np.sqrt(fitted + 1.0)
    j = grid.size
    r = fitted.size
    # variables: h_1..h_J >= 0, s_1..s_R >= 0 (slacks |Σ h poi - F_i| <= s_i)
    cost = np.concatenate([np.zeros(j), weight])
    eye = np.eye(r)
    a_ub = np.vstack([np.hstack([poi, -eye]), np.hstack([-poi, -eye])])
    b_ub = np.concatenate([fitted, -fitted])
    a_eq = np.concatenate([grid, np.zeros(r)])[None, :]
    first = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[rare_mass],
                             bounds=(0, None), method="highs")
    if not first.success:
        raise RuntimeError(f"unseen: the first LP failed ({first.message})")
    # second LP: least support among histograms within UNSEEN_SLACK of the best fit
    cost2 = np.concatenate([np.ones(j), np.zeros(r)])
    a_ub2 = np.vstack([a_ub, cost[None, :]])
    b_ub2 = np.concatenate([b_ub, [first.fun + UNSEEN_SLACK]])
    second = optimize.linprog(cost2, A_ub=a_ub2, b_ub=b_ub2, A_eq=a_eq, b_eq=[rare_mass],
                              bounds=(0, None), method="highs")
    h = (second if second.success else first).x[:j]
    return max(0.0, seen_entropy + float(np.sum(h * -grid * np.log(grid))))


def profile(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct counts and their multiplicities of a positive int64 count vector."""
    return profile_of(c)
