"""Pitman–Yor mixture (PYM) entropy: the posterior mean under a mixture of PY priors.

Archer, Park & Pillow (2014), "Bayesian entropy estimation for countable discrete
distributions" (JMLR 15). Under a Pitman–Yor prior PY(d, α) (0 <= d < 1, α > -d) the
posterior given counts n_1..n_K (N samples) is a Dirichlet on the K seen states and the
unseen mass, the unseen mass split again by PY(d, α + K d); its entropy has the closed-form
posterior mean (A = α + N, ψ the digamma function)

    E[H | n, d, α] = ψ(A + 1) - Σ_i (n_i - d)/A · ψ(n_i - d + 1) - (α + K d)/A · ψ(1 - d),

and the probability of the counts (the exchangeable partition probability) is

    p(n | d, α) ∝ Π_{l=1}^{K-1} (α + l d) · Γ(α + 1)/Γ(α + N) · Π_i Γ(n_i - d)/Γ(1 - d).

A single (d, α) fixes the prior's entropy almost surely, so, as NSB does for β, the
mixture spreads it: our mixing density takes d uniform on [0, ``D_MAX``] and, given d,
α such that the prior mean entropy E[H | d, α] = ψ(α + 1) - ψ(1 - d) is uniform on
(0, H_max] (density ψ'(α + 1) in α); H_max = ln K when an alphabet size is given (at
most ``H_CAP_NATS`` = 256 nats, where α would leave double range), else ``H_MAX_NATS``
(64 bits). (Archer et al. build their mixture the same way from the prior mean; the
uniform d, D_MAX and the caps are our choices.) The posterior over (d, α) is integrated
on a grid in (d, ln(α + d)), first coarse over the whole range, then refined around the
region within e^-30 of the maximum. Works on the count profile, so its cost depends on
the number of distinct counts, not on N.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["pym_nats", "py_posterior_mean", "py_log_evidence", "D_MAX", "H_MAX_NATS",
           "H_CAP_NATS"]

D_MAX = 0.95
H_MAX_NATS = 64 * math.log(2)  # 64-bit codes
H_CAP_NATS = 256.0
_COARSE = (48, 400)
_FINE = (64, 200)


def py_posterior_mean(values, mult, d, alpha):
    """E[H | counts, d, α] in nats (arrays of d and α broadcast)."""
    v = np.asarray(values, np.float64)
    m = np.asarray(mult, np.float64)
    n, k = float(np.sum(v * m)), float(np.sum(m))
    d = np.asarray(d, np.float64)
    alpha = np.asarray(alpha, np.float64)
    big_a = alpha + n
    seen = np.sum(m * (v - d[..., None]) * special.digamma(v - d[..., None] + 1), axis=-1)
    return (special.digamma(big_a + 1) - seen / big_a
            - (alpha + k * d) / big_a * special.digamma(1 - d))


def _seen_term(values, mult, d):
    """Σ_i [ln Γ(n_i - d) - ln Γ(1 - d)], per d."""
    v = np.asarray(values, np.float64)
    m = np.asarray(mult, np.float64)
    d = np.asarray(d, np.float64)
    return np.sum(m * (special.gammaln(v - d[..., None]) - special.gammaln(1 - d[..., None])),
                  axis=-1)


def _log_rising(x, m: float):
    """ln Γ(x + m) - ln Γ(x), accurate also for x far above m (where the difference of
    two huge ln Γ values would cancel): m ln x + Σ_j ln(1 + j/x), to second order."""
    x = np.asarray(x, np.float64)
    direct = special.gammaln(np.minimum(x, 1e7 * max(m, 1.0)) + m) \
        - special.gammaln(np.minimum(x, 1e7 * max(m, 1.0)))
    s1 = m * (m - 1) / 2.0  # Σ j
    s2 = (m - 1) * m * (2 * m - 1) / 6.0  # Σ j²
    with np.errstate(divide="ignore"):
        series = m * np.log(x) + s1 / x - s2 / (2 * x * x)
    return np.where(x > 1e7 * max(m, 1.0), series, direct)


def py_log_evidence(values, mult, d, alpha, seen=None):
    """ln p(counts | d, α) up to a constant (d > 0; arrays broadcast)."""
    n = float(np.sum(np.asarray(values) * np.asarray(mult)))
    k = float(np.sum(mult))
    d = np.asarray(d, np.float64)
    alpha = np.asarray(alpha, np.float64)
    if seen is None:
        seen = _seen_term(values, mult, d)
    product = (k - 1) * np.log(d) + _log_rising(alpha / d + 1, k - 1)
    return product - _log_rising(alpha + 1, n - 1) + seen


def _log_weights(values, mult, d, u, h_max):
    """Log posterior weight on the grid d (rows) × u = ln(α + d) (columns)."""
    dd = d[:, None]
    alpha = np.exp(u)[None, :] - dd
    # prior: d uniform; E[H | d, α] uniform on (0, h_max]: density ψ'(α + 1) dα, and
    # dα = (α + d) du on the grid
    prior_h = special.digamma(alpha + 1) - special.digamma(1 - dd)
    log_prior = np.log(special.polygamma(1, alpha + 1)) + u[None, :]
    log_prior = np.where(prior_h <= h_max, log_prior, -np.inf)
    seen = _seen_term(values, mult, d)[:, None]
    return log_prior + py_log_evidence(values, mult, dd, alpha, seen), alpha


def pym_nats(values: np.ndarray, mult: np.ndarray, alphabet_size=None) -> tuple[float, float]:
    """PYM posterior mean of H and the spread of the conditional means (nats)."""
    if alphabet_size is not None and alphabet_size <= 1:
        return 0.0, 0.0  # one possible state: H = 0, and the prior on (0, ln K] is empty
    h_max = math.log(alphabet_size) if alphabet_size is not None else H_MAX_NATS
    h_max = min(h_max, H_CAP_NATS)  # beyond, exp(ln(α + d)) leaves double range
    # ψ(α + 1) ~ ln α, so E[H | d, α] <= h_max needs ln(α + d) below about h_max + 1
    d_lo, d_hi, u_lo, u_hi = 0.0, D_MAX, math.log(1e-6), h_max + 1.0
    for size in (_COARSE, _FINE):
        # midpoint rule: every node stands for a cell of equal size, boundaries included
        d = d_lo + (np.arange(size[0]) + 0.5) * (d_hi - d_lo) / size[0]
        u = u_lo + (np.arange(size[1]) + 0.5) * (u_hi - u_lo) / size[1]
        logw, alpha = _log_weights(values, mult, d, u, h_max)
        top = np.max(logw)
        if not np.isfinite(top):
            raise ValueError("PYM: the posterior has no mass on the grid")
        keep = logw > top - 30.0
        rows, cols = np.nonzero(keep)
        step_d = (d_hi - d_lo) / size[0]
        step_u = (u_hi - u_lo) / size[1]
        d_lo, d_hi = max(0.0, d[rows.min()] - step_d), min(D_MAX, d[rows.max()] + step_d)
        u_lo, u_hi = u[cols.min()] - step_u, u[cols.max()] + step_u
    w = np.exp(logw - top)
    w /= w.sum()
    means = py_posterior_mean(values, mult, d[:, None], alpha)
    mean = float(np.sum(w * means))
    spread = float(math.sqrt(max(np.sum(w * (means - mean) ** 2), 0.0)))
    return mean, spread
