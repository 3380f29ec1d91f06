"""Nemenman–Shafee–Bialek posterior mean and standard deviation of the entropy (nats).

The prior is a mixture over β of symmetric Dirichlet(β) priors on K states, weighted by
dξ/dβ with ξ(β) = ψ(Kβ+1) - ψ(β+1) the prior mean entropy, so that the prior on H is
nearly flat. For each β the posterior over the pmf is Dirichlet(n_k + β), whose entropy
moments are known in closed form (Wolpert & Wolf 1995).

Everything is computed from the *profile* of the counts (each distinct count value and
how many states have it) plus one group of K - K_obs unseen states, and in terms of
u = ln κ with κ = Kβ and ln β = u - ln K. Nothing is ever multiplied by K itself, so K
may be any size (2**5000 for 5000-bit rows); the unseen group enters only through
(K - K_obs)·β = κ - K_obs·β.

Integration over u runs to convergence: a coarse scan that widens until the log
posterior has fallen ``_SPAN`` below its maximum on both sides, zooms that shrink the
bracket around the peak, then a composite 32-point Gauss–Legendre rule whose panels are
halved until the mean and second moment agree to ``_RTOL``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._profile import profile_of

_SPAN = 60.0  # keep the region where the log posterior is within this of its maximum
# convergence of the quadrature (relative, on the first two moments). Not tighter: the
# digamma sums carry rounding of a few 1e-12 relative when the posterior spans hundreds
# of units of ln κ (no coincidences, K = 2^512), so a tighter test is never met there and
# only multiplies the panels by 64 (0.8 s instead of 20 ms per call)
_RTOL = 1e-11
_BIG = 1e5  # above this, lnΓ differences use Stirling's series (no cancellation)


def _log_rising(x: np.ndarray, log_x: np.ndarray, n) -> np.ndarray:
    """ln Γ(x + n) - ln Γ(x) for x > 0 given with its log, any size.

    Small x: ln Γ(x+n) - ln Γ(x+1) + ln x (exact; x may underflow to 0, ln x may not).
    Large x: Stirling's series, where the two gammaln would nearly cancel.
    """
    n = np.asarray(n, dtype=np.float64)
    big = x > _BIG
    xs = np.where(big, 1.0, x)
    small = special.gammaln(xs + n) - special.gammaln(xs + 1.0) + np.where(big, 0.0, log_x)
    xb = np.where(big, x, 2 * _BIG)
    stirling = ((xb - 0.5) * np.log1p(n / xb) + n * np.log(xb + n) - n
                + 1.0 / (12.0 * (xb + n)) - 1.0 / (12.0 * xb))
    return np.where(big, stirling, small)


def _x_trigamma(x: np.ndarray) -> np.ndarray:
    """x·ψ₁(x + 1), with its large-x series (1 - 1/(2x) + ...) written apart."""
    big = x > 1e3
    xs = np.where(big, 1.0, x)
    xb = np.where(big, x, 1e3)
    inv = 1.0 / xb
    series_minus_one = -0.5 * inv + inv**2 / 6.0 - inv**4 / 30.0 + inv**6 / 42.0
    return np.where(big, 1.0 + series_minus_one, xs * special.polygamma(1, xs + 1.0))


def _prior_weight(kappa: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """β·dξ/dβ = κψ₁(κ+1) - βψ₁(β+1) > 0, without cancellation when both are large."""
    both_big = beta > 1e3
    direct = _x_trigamma(kappa) - _x_trigamma(beta)
    # 1 - 1/(2x) + 1/(6x²) - 1/(30x⁴) for x = κ and x = β: subtract term by term
    ik, ib = 1.0 / np.where(both_big, kappa, 1.0), 1.0 / np.where(both_big, beta, 1.0)
    series = (0.5 * (ib - ik) - (ib**2 - ik**2) / 6.0 + (ib**4 - ik**4) / 30.0)
    return np.where(both_big, series, direct)


_HUGE_U = 300.0  # ln κ beyond which κ is treated as infinite (its square must stay finite)


class _Profile:
    """The counts' profile and K, with the quantities every evaluation needs."""

    def __init__(self, values: np.ndarray, mult: np.ndarray, log_k: float):
        self.v = values.astype(np.float64)[:, None]
        self.m = mult.astype(np.float64)[:, None]
        self.n = float(np.sum(values * mult))
        self.k_obs = float(mult.sum())
        self.log_k = log_k

    def params(self, u: np.ndarray):
        # κ = e^u beyond _HUGE_U would overflow (K = 2^1024 and no coincidences puts
        # posterior mass there): those points use the κ -> ∞ forms below, and κ is
        # clamped only so that the finite-κ formulas (discarded there) stay finite
        kappa = np.exp(np.minimum(u, _HUGE_U))
        log_beta = u - self.log_k
        return kappa, np.exp(np.minimum(log_beta, _HUGE_U)), log_beta

    def log_posterior(self, u: np.ndarray) -> np.ndarray:
        """ln of the (unnormalised) posterior density of u = ln κ."""
        u = np.asarray(u, dtype=np.float64)
        kappa, beta, log_beta = self.params(u)
        huge = u >= _HUGE_U
        # ln Γ(κ + N) - ln Γ(κ) = N ln κ + O(N²/κ), and κψ₁(κ + 1) -> 1, for κ -> ∞
        rising = np.where(huge, self.n * u, _log_rising(kappa, u, self.n))
        loglik = -rising + np.sum(
            self.m * _log_rising(beta[None, :], np.minimum(log_beta, _HUGE_U)[None, :],
                                 self.v), axis=0)
        weight = np.where(huge, 1.0 - _x_trigamma(beta), _prior_weight(kappa, beta))
        with np.errstate(divide="ignore"):
            return loglik + np.log(np.maximum(weight, 0.0))

    def moments(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E[H | n, β] and E[H² | n, β] at each u."""
        mean, second = self._finite_moments(u)
        huge = np.asarray(u) >= _HUGE_U
        if not huge.any():
            return mean, second
        # κ -> ∞: E[H | β] = ψ(N + κ + 1) - [...]/(N + κ) -> ln κ - ψ(β + 1), and the
        # variance given β vanishes like 1/κ
        _, beta, _ = self.params(np.asarray(u))
        limit = np.asarray(u) - special.digamma(beta + 1)
        return np.where(huge, limit, mean), np.where(huge, limit**2, second)

    def _finite_moments(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kappa, beta, _ = self.params(u)
        a = self.v + beta[None, :]  # observed groups
        unseen_ma = kappa - self.k_obs * beta  # (K - K_obs)·β, for any K
        big_a = self.n + kappa
        psi_a1 = special.digamma(a + 1)
        psi_b1 = special.digamma(beta + 1)
        mean = special.digamma(big_a + 1) - (
            np.sum(self.m * a * psi_a1, axis=0) + unseen_ma * psi_b1) / big_a

        psi_top = special.digamma(big_a + 2)
        tri_top = special.polygamma(1, big_a + 2)
        d_obs = psi_a1 - psi_top
        d_un = psi_b1 - psi_top
        sum_u = np.sum(self.m * a * d_obs, axis=0) + unseen_ma * d_un
        sum_u2 = np.sum(self.m * a * a * d_obs**2, axis=0) + unseen_ma * beta * d_un**2
        sum_a2 = np.sum(self.m * a * a, axis=0) + unseen_ma * beta
        cross = sum_u**2 - sum_u2 - tri_top * (big_a**2 - sum_a2)
        diag = np.sum(self.m * a * (a + 1) * ((special.digamma(a + 2) - psi_top) ** 2
                                              + special.polygamma(1, a + 2) - tri_top), axis=0)
        diag += unseen_ma * (beta + 1) * ((special.digamma(beta + 2) - psi_top) ** 2
                                          + special.polygamma(1, beta + 2) - tri_top)
        second = (cross + diag) / (big_a * (big_a + 1))
        return mean, second


def _bracket(profile: _Profile) -> tuple[float, float]:
    """An interval of u holding all but a negligible part of the posterior."""
    lo, hi = -30.0, math.log(profile.n) + 30.0
    for _ in range(64):
        grid = np.arange(lo, hi + 0.5, 1.0)
        logp = _finite_or_minus_inf(profile.log_posterior(grid))
        top = float(logp.max())
        if not math.isfinite(top):
            raise FloatingPointError("NSB: the posterior is zero on every grid point")
        # widen where an edge still carries weight: with few coincidences the posterior
        # is flat in u up to ln K, and the prior's tails decay only like e^-u
        grow_lo = lo > -700.0 and logp[0] >= top - _SPAN
        grow_hi = logp[-1] >= top - _SPAN
        if not (grow_lo or grow_hi):
            break
        width = hi - lo
        lo -= width if grow_lo else 0.0
        hi += width if grow_hi else 0.0
    a, b = _high_region(grid, logp, top)
    # zoom: a finer scan of the bracket, until it no longer shrinks
    for _ in range(12):
        grid = np.linspace(a, b, 65)
        logp = _finite_or_minus_inf(profile.log_posterior(grid))
        na, nb = _high_region(grid, logp, float(logp.max()))
        shrunk = (nb - na) < 0.5 * (b - a)
        a, b = na, nb
        if not shrunk:
            break
    return a, b


def _finite_or_minus_inf(logp: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(logp), -np.inf, logp)


def _high_region(grid: np.ndarray, logp: np.ndarray, top: float) -> tuple[float, float]:
    """The grid interval where logp >= top - _SPAN, padded by one point each side."""
    keep = np.flatnonzero(logp >= top - _SPAN)
    return float(grid[max(keep[0] - 1, 0)]), float(grid[min(keep[-1] + 1, grid.size - 1)])


# A 32-point Gauss–Legendre rule on each panel of a composite rule.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)


def _composite_gauss_legendre(profile: _Profile, a: float, b: float, panels: int):
    """The posterior's first two moments by a composite rule of ``panels`` equal panels."""
    edges = np.linspace(a, b, panels + 1)
    half = 0.5 * (edges[1] - edges[0])
    u = ((edges[:-1] + half)[:, None] + half * _NODES[None, :]).ravel()
    w = np.tile(_WEIGHTS, panels)
    logp = profile.log_posterior(u)
    weights = w * np.exp(logp - np.nanmax(logp))
    weights = np.where(np.isfinite(weights), weights, 0.0)
    mean_b, second_b = profile.moments(u)
    z = weights.sum()
    # sums, not BLAS dots: the rounding must not depend on BLAS's threads
    return float(np.sum(weights * mean_b) / z), float(np.sum(weights * second_b) / z)


def nsb_posterior(counts: np.ndarray, log_alphabet: float) -> tuple[float, float]:
    """Posterior mean and standard deviation of H (nats) under the NSB prior.

    Parameters
    ----------
    counts : numpy.ndarray
        Positive int64 counts of the observed states.
    log_alphabet : float
        ln K, with K >= the number of observed states (any size).

    Returns
    -------
    mean, sd : float
    """
    if log_alphabet <= 0.0:
        return 0.0, 0.0
    values, mult = profile_of(counts)
    profile = _Profile(values, mult, float(log_alphabet))
    a, b = _bracket(profile)
    # panels about 4 wide in ln κ (one for a peaked posterior), halved until the first
    # two moments agree to _RTOL
    panels = max(1, math.ceil((b - a) / 4.0))
    mean, second = _composite_gauss_legendre(profile, a, b, panels)
    for _ in range(6):
        panels *= 2
        new_mean, new_second = _composite_gauss_legendre(profile, a, b, panels)
        done = (abs(new_mean - mean) <= _RTOL * max(1.0, abs(new_mean))
                and abs(new_second - second) <= _RTOL * max(1.0, abs(new_second)))
        mean, second = new_mean, new_second
        if done:
            break
    return mean, math.sqrt(max(second - mean * mean, 0.0))
