"""Compiled sums over a source's pmf groups, for :mod:`mi_regimes.theory`.

A source with tens of thousands of distinct probabilities (a Zipf codebook over 2^16
states) has as many groups, and a few NumPy calls per group made the exact E[Ĥ] take
~4 s and the choice of a variance method ~3 s; each loop here runs over all groups in one
call. Counts are float64 (N may exceed int64: past 2^53 it is rounded, as the log pmf
always took it), and each group's binomial counts run over :func:`binom_bounds`, counted
by an integer (past 2^53, c + 1 == c: a float counter never ended).

Sums are compensated (Neumaier): the variance is a sum of covariances that nearly cancel,
so its rounding is what the result shows.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._binomial import log_one_minus_exp, log_pmf_one

LN2 = math.log(2.0)


@nb.njit(cache=True)
def binom_bounds(n, p, start):
    """First and last count c in start..n where Binom(c; n, p) is not negligible (mass
    outside < 1e-30): mean ± 12 s.d., widened by 1 below and 30 above, as floats
    (np.floor, not math.floor: compiled, math.floor returns an int64, which wrapped
    around past 2^63 and made N = 2^70 sum nothing)."""
    mu = n * p
    sd = math.sqrt(n * p * (1.0 - p))
    return max(start, np.floor(mu - 12.0 * sd - 1.0)), min(n, np.ceil(mu + 12.0 * sd + 30.0))


@nb.njit(cache=True)
def listing_costs(n, log_p, start):
    """The widest group's count range from ``start``, and the counts the groups surely
    keep: with s.d. σ >= 100, Binom(c; N, p) > 1e-40 within μ ± 8σ, so listing (at
    N ~ 1e11, 1024 groups of ~1e5 counts each) can be skipped once its cost is known."""
    widest = 0.0
    surely = 0.0
    for k in range(log_p.size):
        p = math.exp(log_p[k])
        lo, hi = binom_bounds(n, p, start)
        widest = max(widest, hi - lo + 1.0)
        sd = math.sqrt(n * p * (1.0 - p))
        if sd >= 100.0:
            surely += max(0.0, min(n, n * p + 8.0 * sd) - max(2.0, n * p - 8.0 * sd))
    return widest, surely


@nb.njit(cache=True)
def series_f(n, log_p):
    """E[f(c)], c ~ Binom(N, p), from the central moments of c to order 1/N² (bits).

    Taylor's series of f(c) = -(c/N) ln(c/N) about μ = Np (its second, third and fourth
    derivatives there are -1/(Nμ), 1/(Nμ²) and -2/(Nμ³)), with the central moments
    σ² = Np(1-p), Np(1-p)(1-2p) and 3σ⁴ + O(N), gives
    -p ln p - (1-p)/(2N) + [(1-p)(1-2p)/6 - (1-p)²/4] / (N²p) + O(1/(N³p²)).
    Used only where N p (1 - p) > ~7e6: the remainder is then below 1e-20 bits.
    """
    p = math.exp(log_p)
    q = -math.expm1(log_p)
    return (-p * log_p - q / (2.0 * n) + (q * (1.0 - 2.0 * p) / 6.0 - q * q / 4.0)
            / (n * n * p)) / LN2


@nb.njit(cache=True)
def _add(total, lost, term):
    """One step of Neumaier's compensated sum: the new (total, lost)."""
    step = total + term
    if abs(total) >= abs(term):
        lost += (total - step) + term
    else:
        lost += (term - step) + total
    return step, lost


@nb.njit(cache=True)
def expected_f_total(n, log_m, log_p, series_range):
    """Σ over groups of m · E[f(c)], f(c) = -(c/N) log2(c/N), c ~ Binom(N, p): E[Ĥ_plugin].

    A group whose count range spans ``series_range`` counts or more takes
    :func:`series_f`; a certain state (ln p = 0) adds f(N) = 0.

    A group's sum stops past its mean once a term falls below 1e-20 of the group's sum so
    far: beyond c = Np the ratio of successive terms, at most (N - c)p / (c(1 - p)), is
    below 1 and falling, so the rest adds less than that term times 1/(1 - ratio) (at
    most ~σ/9 there, σ < 3000 in this branch), i.e. < 1e-16 of the group, below float64's
    resolution. A state of probability 1e-6 at N = 1000 then sums 6 counts, not 31: a
    Zipf codebook over 10⁶ states took 3.9 s.
    """
    total = 0.0
    lost = 0.0
    for k in range(log_p.size):
        lp = log_p[k]
        if lp >= 0.0:
            continue
        p = math.exp(lp)
        lo, hi = binom_bounds(n, p, 1.0)
        if hi - lo >= series_range:
            total, lost = _add(total, lost, math.exp(log_m[k]) * series_f(n, lp))
            continue
        log_q = log_one_minus_exp(lp)
        mean = n * p
        group = 0.0
        for offset in range(int(hi - lo) + 1):
            c = lo + offset
            q = c / n
            term = math.exp(log_m[k] + log_pmf_one(c, n, lp, log_q, p < 0.5, p)) \
                * (-q * math.log2(q))
            total, lost = _add(total, lost, term)
            group += term
            if c > mean and term <= 1e-20 * group:
                break
    return total + lost


@nb.njit(cache=True)
def _grown(a, size):
    """``a`` copied into an array twice as long (at least ``size``)."""
    out = np.empty(max(size, 2 * a.size))
    out[:a.size] = a
    return out


@nb.njit(cache=True)
def kept_counts(n, log_m, log_p, start, floor_log, budget):
    """The counts c >= start each group keeps (those where m · Binom(c; N, p) exceeds
    e^floor_log), flat (group k's at ``starts[k]:starts[k+1]``), with their
    ln Binom(c; N, p), their g(c) = (c/N) log2 c, and each group's E[g(c)] and E[g(c)²]
    over them. One pass; it stops once more than ``budget`` counts are kept, and then
    ``complete`` (returned first) is False and the rest is partial."""
    starts = np.zeros(log_p.size + 1, np.int64)
    counts, log_pmfs, gs = np.empty(64), np.empty(64), np.empty(64)
    mean_g = np.zeros(log_p.size)
    second_g = np.zeros(log_p.size)
    i = 0
    for k in range(log_p.size):
        lp = log_p[k]
        p = math.exp(lp)
        log_q = log_one_minus_exp(lp) if lp < 0.0 else -np.inf
        lo, hi = binom_bounds(n, p, start)
        first, lost_first, second, lost_second = 0.0, 0.0, 0.0, 0.0
        for offset in range(int(hi - lo) + 1):
            c = lo + offset
            log_pmf = log_pmf_one(c, n, lp, log_q, p < 0.5, p)
            if log_m[k] + log_pmf <= floor_log:
                continue
            if i == counts.size:
                counts, log_pmfs, gs = _grown(counts, i + 1), _grown(log_pmfs, i + 1), \
                    _grown(gs, i + 1)
            g = c / n * math.log2(c)
            counts[i], log_pmfs[i], gs[i] = c, log_pmf, g
            pmf = math.exp(log_pmf)
            first, lost_first = _add(first, lost_first, pmf * g)
            second, lost_second = _add(second, lost_second, pmf * g * g)
            i += 1
        starts[k + 1] = i
        mean_g[k], second_g[k] = first + lost_first, second + lost_second
        if i > budget:
            return False, counts, log_pmfs, gs, starts, mean_g, second_g
    return True, counts[:i], log_pmfs[:i], gs[:i], starts, mean_g, second_g


@nb.njit(cache=True)
def _times_multiplicity(log_m, x):
    """m·x from ln m, finite whenever the product is (m alone may overflow float64)."""
    if x == 0.0:
        return 0.0
    return math.copysign(math.exp(log_m + math.log(abs(x))), x)


@nb.njit(cache=True)
def _pair_moment(n, counts, log_pmfs, gs, starts, log_p, g, h):
    """E[g(a) g(b)] for two distinct states of groups g and h (probabilities p, q), over
    the counts that matter for each. Given a, b is Binomial(N - a, q / (1 - p))."""
    log_r = min(log_p[h] - log_one_minus_exp(log_p[g]), 0.0)  # q / (1 - p) <= 1
    log_1mr = log_one_minus_exp(log_r) if log_r < 0.0 else -np.inf
    r = math.exp(log_r)
    total = 0.0
    lost = 0.0
    for i in range(starts[g], starts[g + 1]):
        rest = n - counts[i]
        for j in range(starts[h], starts[h + 1]):
            # q = 1 - p (ln r = 0): b is all the rest, which log_pmf_one knows
            log_b = log_pmf_one(counts[j], rest, log_r, log_1mr, r < 0.5, r)
            total, lost = _add(total, lost, math.exp(log_pmfs[i] + log_b) * (gs[i] * gs[j]))
    return total + lost


@nb.njit(cache=True)
def plugin_variance(n, log_m, log_p, counts, log_pmfs, gs, starts, mean_g, second_g, live):
    """Var Ĥ_plugin = Σ_k Var g(n_k) + Σ_{k≠l} Cov(g(n_k), g(n_l)), over the ``live``
    groups (those with counts that matter and p < 1), in bits².

    Each state contributes m · (E[g²] - E[g]²); each unordered pair of groups, m_g m_h
    ordered pairs of distinct states (m (m - 1) within one group), times their
    covariance E[g(a) g(b)] - E[g(a)] E[g(b)].
    """
    total = 0.0
    lost = 0.0
    for k in live:
        total, lost = _add(total, lost,
                           _times_multiplicity(log_m[k], second_g[k] - mean_g[k] ** 2))
    for x in range(live.size):
        g = live[x]
        for y in range(x, live.size):
            h = live[y]
            if g == h:  # m (m - 1) ordered pairs of distinct states in one group
                if log_m[g] <= 0.0:
                    continue
                log_pairs = 2.0 * log_m[g] + math.log1p(-math.exp(-log_m[g]))
            else:
                log_pairs = LN2 + log_m[g] + log_m[h]
            if math.exp(log_p[g]) + math.exp(log_p[h]) > 1.0 + 1e-12:
                continue  # two such states cannot both exist
            cov = _pair_moment(n, counts, log_pmfs, gs, starts, log_p, g, h) \
                - mean_g[g] * mean_g[h]
            total, lost = _add(total, lost, _times_multiplicity(log_pairs, cov))
    return total + lost
