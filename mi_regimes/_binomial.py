"""ln Binom(c; n, p) accurate for any n, from ln p (Loader's saddle-point form).

The textbook ln n! - ln c! - ln (n-c)! + c ln p + (n-c) ln q subtracts numbers of size
n ln n: at n = 10^9 they are ~2·10^10, so a rounding of 1e-16 in each leaves ~2e-6 in the
log pmf, and the exact E[Ĥ] of a fair coin came out at 1.0000012 bits, above the 1 bit
that no plug-in estimate can exceed (5.6e-4 above at n = 10^12). Loader (2000, "Fast and
accurate computation of binomial probabilities") writes the same quantity as

    ln Binom(c; n, p) = δ(n) - δ(c) - δ(n-c) - D(c, np) - D(n-c, nq)
                        + ½ ln(n / (2π c (n-c))),

with δ(k) = ln k! - [(k + ½) ln k - k + ½ ln 2π] (Stirling's error, ~1/(12k)) and
D(x, m) = x ln(x/m) + m - x >= 0, each term of modest size and computed without
cancellation (a series in (x - m)/(x + m) where x is near m). ``np`` is used through
ln(np) = ln n + ln p, so p far below float64's smallest number still works.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["log_binom_pmf"]

_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
_SMALL = 15.0  # below, Stirling's error from ln Γ directly (exact enough there)
_SERIES_TERMS = 12  # |v| < 0.1: twelve odd powers leave < 1e-24 of the sum


def _stirling_error(k: np.ndarray) -> np.ndarray:
    """δ(k) = ln k! - [(k + ½) ln k - k + ½ ln 2π] for k >= 1 (and δ(0) = 0 by use)."""
    k = np.asarray(k, np.float64)
    small = k <= _SMALL
    ks = np.where(small, np.maximum(k, 1.0), _SMALL)
    direct = special.gammaln(ks + 1.0) - ((ks + 0.5) * np.log(ks) - ks + _HALF_LN_2PI)
    kl = np.where(small, _SMALL + 1.0, k)
    inv2 = 1.0 / (kl * kl)
    series = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - inv2 / 1188) * inv2) * inv2)
              * inv2) / kl
    return np.where(small, direct, series)


def _deviance(x: np.ndarray, log_m: np.ndarray, m: np.ndarray, x_minus_m: np.ndarray
              ) -> np.ndarray:
    """D(x, m) = x ln(x/m) + m - x for x >= 1, given ln m, m and x - m (each exact)."""
    near = np.abs(x_minus_m) < 0.1 * (x + m)
    # series: D = (x - m) v + 2x Σ_{j>=1} v^(2j+1)/(2j+1), v = (x - m)/(x + m)
    v = np.where(near, x_minus_m / np.where(near, x + m, 1.0), 0.0)
    total = x_minus_m * v
    power = 2.0 * x * v
    for j in range(1, _SERIES_TERMS + 1):
        power = power * v * v
        total = total + power / (2 * j + 1)
    far = x * (np.log(x) - log_m) + m - x
    return np.where(near, total, far)


def log_binom_pmf(c, n, log_p: float) -> np.ndarray:
    """ln Binom(c; n, p) for counts ``c`` in 0..n (float64 integers) and ln p <= 0.

    ``n`` is an integer or an array of them broadcasting against ``c``.
    """
    c = np.asarray(c, np.float64)
    n = np.asarray(n, np.float64)
    if log_p >= 0.0:  # p = 1 (two states holding all the mass leave the second q = 1)
        return np.where(c == n, 0.0, -np.inf)
    p = math.exp(log_p)  # may underflow to 0: only ln(np) is needed then
    # ln q without losing q = 1 - p to rounding when p is near 1 (or p to it when small)
    log_q = math.log1p(-p) if p < 0.5 else math.log(-math.expm1(log_p))
    ln_n = np.log(np.maximum(n, 1.0))
    inner = (c > 0) & (c < n)
    ci = np.where(inner, c, 1.0)
    rest = np.where(inner, n - c, 1.0)
    # the smaller of np and nq as n times its probability (closer than exp(ln n + ln p)
    # at large n), the other as n minus it, and each count's distance from its mean
    # through the smaller one, so that neither loses digits to the other's size
    if p < 0.5:
        n_p = n * p
        n_q = n - n_p
        c_minus_np = ci - n_p
    else:
        n_q = n * math.exp(log_q)
        n_p = n - n_q
        c_minus_np = n_q - rest
    log_pmf = (_stirling_error(n) - _stirling_error(ci) - _stirling_error(rest)
               - _deviance(ci, ln_n + log_p, n_p, c_minus_np)
               - _deviance(rest, ln_n + log_q, n_q, -c_minus_np)
               + 0.5 * (ln_n - np.log(ci) - np.log(rest)) - _HALF_LN_2PI)
    ends = np.where(c == 0, n * log_q, n * log_p)  # c = 0: q^n; c = n: p^n
    return np.where(inner, log_pmf, ends)
