"""Nemenman–Shafee–Bialek posterior mean and standard deviation of the entropy (nats).

The prior is a mixture over β of symmetric Dirichlet(β) priors on K states, weighted by
dξ/dβ with ξ(β) = ψ(Kβ+1) - ψ(β+1) the prior mean entropy, so that the prior on H is
nearly flat. For each β the posterior over the pmf is Dirichlet(n_k + β), whose entropy
moments are known in closed form (Wolpert & Wolf 1995). States are handled in groups of
equal count (the profile) plus one group of K - K_obs unseen states, so K may be as
large as 2**64 without enumerating anything.

The β integral is done in t = log β: a coarse grid finds the posterior peak, two finer
grids zoom in on the region holding all but e^-40 of the mass, and the moments are
integrated there by the trapezoid rule.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from scipy.integrate import trapezoid

_SPAN = 40.0  # keep grid points whose log posterior is within this of the maximum


def _log_rising(x: np.ndarray, n) -> np.ndarray:
    """lnΓ(x + n) - lnΓ(x), stable when x is huge (where the two gammaln nearly cancel)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    big = x > 1e5
    xs = np.where(big, 1.0, x)
    exact = special.gammaln(xs + n) - special.gammaln(xs)
    xb = np.where(big, x, 1e6)
    # Stirling: (x-1/2) log1p(n/x) + n log(x+n) - n + 1/(12(x+n)) - 1/(12x)
    stirling = ((xb - 0.5) * np.log1p(n / xb) + n * np.log(xb + n) - n
                + 1.0 / (12.0 * (xb + n)) - 1.0 / (12.0 * xb))
    return np.where(big, stirling, exact)


def _log_posterior(t: np.ndarray, values, mult, n: int, k: float) -> np.ndarray:
    beta = np.exp(t)
    kappa = k * beta
    # Σ_k [lnΓ(n_k+β) - lnΓ(β)] over observed states; unseen ones contribute 0.
    loglik = -_log_rising(kappa, n) + np.sum(
        mult[:, None] * _log_rising(beta[None, :], values[:, None]), axis=0
    )
    dxi = k * special.polygamma(1, kappa + 1) - special.polygamma(1, beta + 1)
    with np.errstate(divide="ignore"):
        return loglik + np.log(np.maximum(dxi, 0.0)) + t


def _moments_given_beta(beta: np.ndarray, values, mult, n: int, k: float):
    """E[H | n, β] and E[H² | n, β] for each β (arrays over the grid)."""
    k_obs = float(mult.sum())
    # groups: observed counts (multiplicity mult) and the unseen states (count 0)
    a = np.concatenate([values[:, None] + beta[None, :], beta[None, :]], axis=0)
    m = np.concatenate([mult.astype(np.float64), [k - k_obs]])[:, None]
    big_a = n + k * beta
    psi_a1 = special.digamma(a + 1)
    mean = special.digamma(big_a + 1) - np.sum(m * a * psi_a1, axis=0) / big_a

    psi_top = special.digamma(big_a + 2)
    tri_top = special.polygamma(1, big_a + 2)
    u = a * (psi_a1 - psi_top)
    sum_u = np.sum(m * u, axis=0)
    cross = sum_u**2 - np.sum(m * u**2, axis=0) - tri_top * (big_a**2 - np.sum(m * a**2, axis=0))
    diag = np.sum(
        m * a * (a + 1) * ((special.digamma(a + 2) - psi_top) ** 2
                           + special.polygamma(1, a + 2) - tri_top),
        axis=0,
    )
    second = (cross + diag) / (big_a * (big_a + 1))
    return mean, second


def nsb_posterior(counts: np.ndarray, alphabet_size: float) -> tuple[float, float]:
    """Posterior mean and standard deviation of H (nats) under the NSB prior.

    Parameters
    ----------
    counts : numpy.ndarray
        Positive int64 counts of the observed states.
    alphabet_size : float
        K >= number of observed states.

    Returns
    -------
    mean, sd : float
    """
    k = float(alphabet_size)
    if k <= 1.0:
        return 0.0, 0.0
    values, mult = np.unique(counts, return_counts=True)
    values = values.astype(np.float64)
    mult = mult.astype(np.float64)
    n = int(counts.sum())
    lo, hi = math.log(1e-8 / k), math.log(1e6)
    grid = np.linspace(lo, hi, 400)
    for size in (400, 2000):
        logp = _log_posterior(grid, values, mult, n, k)
        top = int(np.nanargmax(logp))
        keep = np.flatnonzero(logp >= logp[top] - _SPAN)
        # the peak lies within one step of the best grid point (the posterior is unimodal)
        i0, i1 = max(keep[0] - 1, 0), min(keep[-1] + 1, grid.size - 1)
        grid = np.linspace(grid[i0], grid[i1], size)
    logp = _log_posterior(grid, values, mult, n, k)
    w = np.exp(logp - np.nanmax(logp))
    w = np.where(np.isfinite(w), w, 0.0)
    mean_b, second_b = _moments_given_beta(np.exp(grid), values, mult, n, k)
    z = trapezoid(w, grid)
    mean = trapezoid(w * mean_b, grid) / z
    second = trapezoid(w * second_b, grid) / z
    return float(mean), float(math.sqrt(max(second - mean * mean, 0.0)))
