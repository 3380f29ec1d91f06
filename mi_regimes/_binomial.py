"""ln Binom(c; n, p) accurate for any n, from ln p (Loader's saddle-point form).

The textbook ln n! - ln c! - ln (n-c)! + c ln p + (n-c) ln q subtracts numbers of size
n ln n: at n = 10^9 they are ~2·10^10, so a rounding of 1e-16 in each leaves ~2e-6 in the
log pmf, and the exact E[Ĥ] of a fair coin came out at 1.0000012 bits, above the 1 bit
that no plug-in estimate can exceed; the exact variance, whose pair covariances are small
differences of such sums, was wrong by factors from N ~ 10^5. Loader (2000, "Fast and
accurate computation of binomial probabilities") writes the same quantity as

    ln Binom(c; n, p) = δ(n) - δ(c) - δ(n-c) - D(c, np) - D(n-c, nq)
                        + ½ ln(n / (2π c (n-c))),

with δ(k) = ln k! - [(k + ½) ln k - k + ½ ln 2π] (Stirling's error, ~1/(12k)) and
D(x, m) = x ln(x/m) + m - x >= 0, each term of modest size and computed without
cancellation (a series in (x - m)/(x + m) where x is near m). ``np`` is used through
ln(np) = ln n + ln p, so p far below float64's smallest number still works. Compiled,
one count per call, for the loops of :mod:`mi_regimes._group_sums` (a NumPy version of the
branches cost 8x the old three ln Γ calls).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["log_one_minus_exp", "log_pmf_one"]

_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)


@nb.njit(cache=True)
def _stirling_error(k):
    """δ(k) = ln k! - [(k + ½) ln k - k + ½ ln 2π] for k >= 1."""
    if k <= 15.0:  # ln Γ directly: no cancellation worth the name this small
        return math.lgamma(k + 1.0) - ((k + 0.5) * math.log(k) - k + _HALF_LN_2PI)
    inv2 = 1.0 / (k * k)
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - inv2 / 1188) * inv2) * inv2)
            * inv2) / k


@nb.njit(cache=True)
def _deviance(x, log_m, m, x_minus_m):
    """D(x, m) = x ln(x/m) + m - x for x >= 1, given ln m, m and x - m (each exact)."""
    if abs(x_minus_m) >= 0.1 * (x + m):
        return x * (math.log(x) - log_m) + m - x
    # D = (x - m) v + 2x Σ_{j>=1} v^(2j+1)/(2j+1), v = (x - m)/(x + m), |v| < 0.1
    v = x_minus_m / (x + m)
    v2 = v * v
    total = x_minus_m * v
    power = 2.0 * x * v
    for j in range(1, 40):
        power *= v2
        step = power / (2 * j + 1)
        if abs(step) <= 1e-17 * abs(total):
            break
        total += step
    return total


@nb.njit(cache=True)
def log_pmf_one(ci, ni, log_p, log_q, p_small, p):
    """ln Binom(ci; ni, p) of one count, from ln p, ln q and p (compiled callers); p = 1
    (ln p = 0: two states holding all the mass leave the second q = 1) is all at ni."""
    if log_p >= 0.0:
        return 0.0 if ci == ni else -np.inf
    if ci <= 0.0:
        return ni * log_q if ci == 0.0 else -np.inf
    if ci >= ni:
        return ni * log_p if ci == ni else -np.inf
    rest = ni - ci
    ln_n = math.log(ni)
    # the smaller of np and nq as n times its probability (closer than e^(ln n + ln p)
    # at large n), the other as n minus it; each count's distance from its mean
    # through the smaller one, so neither loses digits to the other's size
    if p_small:
        n_p = ni * p
        n_q = ni - n_p
        c_minus_np = ci - n_p
    else:
        n_q = ni * math.exp(log_q)
        n_p = ni - n_q
        c_minus_np = n_q - rest
    return (_stirling_error(ni) - _stirling_error(ci) - _stirling_error(rest)
            - _deviance(ci, ln_n + log_p, n_p, c_minus_np)
            - _deviance(rest, ln_n + log_q, n_q, -c_minus_np)
            + 0.5 * (ln_n - math.log(ci) - math.log(rest)) - _HALF_LN_2PI)


@nb.njit(cache=True)
def log_one_minus_exp(log_p):
    """ln(1 - p) from ln p < 0, without losing 1 - p to rounding when p is near 1 (nor p
    when it is small); ``math.log1p(-math.exp(x))`` raised a domain error for
    -1e-16 < x < 0, where e^x rounds to 1. Compiled: the exact variance's pair loop
    calls it too."""
    p = math.exp(log_p)
    return math.log1p(-p) if p < 0.5 else math.log(-math.expm1(log_p))
