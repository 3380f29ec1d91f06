"""Sources defined bit by bit: iid Bernoulli bits, a Markov chain along the bits, and
uniform words of fixed weight. Their pmf groups are Hamming-weight (or switch-count)
classes, so exact theory costs O(D) whatever the size of the alphabet."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..bits import PackedBits, n_words
from ._base import (
    LN2,
    Source,
    binary_entropy,
    check_d,
    check_int,
    check_probability,
    linear_groups,
    log_binomials,
)

__all__ = ["bernoulli", "sparse", "markov"]


@dataclass(frozen=True)
class _Bernoulli(Source):
    p: float = 0.5

    def pmf_groups(self):
        d, p = self.d, self.p
        if p in (0.0, 1.0):
            return np.array([1.0]), np.array([1.0])
        log_m, _ = self.log_pmf_groups()
        w = np.arange(d + 1)
        # in log2, so that p = 1/2 gives exactly 2**-d for every group
        with np.errstate(under="ignore"):
            log2_p = w * math.log2(p) + (d - w) * math.log2(1 - p)
        mult, _ = linear_groups(log_m, log2_p * LN2, str(self))
        return np.round(mult), np.exp2(log2_p)

    def log_pmf_groups(self):
        d, p = self.d, self.p
        if p in (0.0, 1.0):
            return np.array([0.0]), np.array([0.0])
        w = np.arange(d + 1)
        return log_binomials(d), w * math.log(p) + (d - w) * math.log1p(-p)

    @property
    def entropy(self) -> float:
        return self.d * binary_entropy(self.p)

    @property
    def collision_entropy(self) -> float:
        return -self.d * math.log2(self.p**2 + (1 - self.p) ** 2) + 0.0  # no -0.0

    def weight_pmf(self):
        from scipy import stats

        return stats.binom.pmf(np.arange(self.d + 1), self.d, self.p)

    def sample_packed(self, n, rng=None):
        n, rng = self._draw_arguments(n, rng)
        if self.p != 0.5:
            return super().sample_packed(n, rng)
        # fair bits: raw 64-bit words, masked to d bits in the last word
        words = rng.integers(0, 2**64 - 1, size=(n, n_words(self.d)), dtype=np.uint64,
                             endpoint=True)
        tail = self.d % 64
        if tail:
            words[:, -1] &= np.uint64((1 << tail) - 1)
        return PackedBits._trusted(words, self.d)

    def _sample_bits(self, n, rng):
        return (rng.random((n, self.d)) < self.p).astype(np.uint8)

    def _log2_prob(self, rows):
        w = rows.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_one, log_zero = np.log2(self.p), np.log2(1 - self.p)
            # 0 * log 0 = 0: a bit value that never occurs only matters where it appears
            return (np.where(w > 0, w * log_one, 0.0)
                    + np.where(self.d - w > 0, (self.d - w) * log_zero, 0.0))


def bernoulli(d: int, p: float = 0.5) -> Source:
    """D iid bits, each 1 with probability p.

    Parameters
    ----------
    d : int
        Bits per sample, >= 1.
    p : float
        Probability of a one, in [0, 1].

    Returns
    -------
    Source
        H = d·h(p); H₂ = -d log2(p² + (1-p)²); groups are the Hamming-weight classes.

    Examples
    --------
    >>> from mi_regimes import sources
    >>> s = sources.bernoulli(8, 0.5)
    >>> s.entropy, s.collision_entropy, s.support
    (8.0, 8.0, 256.0)
    """
    d = check_d(d)
    p = check_probability("p", p)
    return _Bernoulli("bernoulli", d, {"d": d, "p": p}, p)




@dataclass(frozen=True)
class _Sparse(Source):
    ones: int = 1

    def pmf_groups(self):
        size = math.comb(self.d, self.ones)
        return np.array([float(size)]), np.array([1.0 / size])

    @property
    def entropy(self):
        return math.log2(math.comb(self.d, self.ones))

    @property
    def collision_entropy(self):
        return self.entropy

    def weight_pmf(self):
        out = np.zeros(self.d + 1)
        out[self.ones] = 1.0
        return out

    def _sample_bits(self, n, rng):
        x = np.zeros((n, self.d), np.uint8)
        if self.ones:
            ones = np.argpartition(rng.random((n, self.d)), self.ones - 1, axis=1)[:, : self.ones]
            np.put_along_axis(x, ones, 1, axis=1)
        return x

    def _log2_prob(self, rows):
        on = rows.sum(axis=1) == self.ones
        return np.where(on, -self.entropy, -np.inf)


def sparse(d: int, ones: int = 2) -> Source:
    """Uniform over all D-bit words with exactly ``ones`` ones.

    Returns
    -------
    Source
        H = H₂ = log2 C(d, ones).
    """
    d = check_d(d)
    ones = check_int("ones", ones, 0, d)
    return _Sparse("sparse", d, {"d": d, "ones": ones}, ones)




@dataclass(frozen=True)
class _Markov(Source):
    p_stay: float = 0.9

    def pmf_groups(self):
        log_m, log_p = self.log_pmf_groups()
        mult, prob = linear_groups(log_m - LN2, log_p, str(self))
        return 2.0 * np.round(mult), prob

    def log_pmf_groups(self):
        # A word is fixed by its first bit and its s switches: prob ½ q^s p^(d-1-s).
        d, p = self.d, self.p_stay
        s = np.arange(d)
        log_m = LN2 + log_binomials(d - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            # 0·log 0 = 0: a chain that never (or always) switches has one group
            log_switch = np.where(s > 0, s * np.log(1 - p), 0.0)
            log_stay = np.where(d - 1 - s > 0, (d - 1 - s) * np.log(p), 0.0)
        log_p = math.log(0.5) + log_switch + log_stay
        keep = np.isfinite(log_p)
        return log_m[keep], log_p[keep]

    @property
    def entropy(self):
        return 1.0 + (self.d - 1) * binary_entropy(self.p_stay)

    @property
    def collision_entropy(self):
        p = self.p_stay
        return 1.0 - (self.d - 1) * math.log2(p * p + (1 - p) ** 2)

    def weight_pmf(self):
        # dynamic programme over positions: state (last bit, weight so far)
        d, p = self.d, self.p_stay
        prob = np.zeros((2, d + 1))
        prob[0, 0] = prob[1, 1] = 0.5
        for _ in range(d - 1):
            nxt = np.zeros_like(prob)
            nxt[0] += p * prob[0] + (1 - p) * prob[1]
            nxt[1, 1:] += p * prob[1, :-1] + (1 - p) * prob[0, :-1]
            prob = nxt
        return prob.sum(axis=0)

    def _sample_bits(self, n, rng):
        first = (rng.random((n, 1)) < 0.5).astype(np.uint8)
        flips = (rng.random((n, self.d - 1)) >= self.p_stay).astype(np.uint8)
        return np.bitwise_xor.accumulate(np.concatenate([first, flips], axis=1), axis=1)

    def _log2_prob(self, rows):
        switches = np.abs(np.diff(rows, axis=1)).sum(axis=1)
        stays = self.d - 1 - switches
        with np.errstate(divide="ignore", invalid="ignore"):
            log_switch, log_stay = np.log2(1 - self.p_stay), np.log2(self.p_stay)
            return (-1.0 + np.where(switches > 0, switches * log_switch, 0.0)
                    + np.where(stays > 0, stays * log_stay, 0.0))


def markov(d: int, p_stay: float = 0.9) -> Source:
    """A stationary binary Markov chain along the D bits.

    The first bit is fair; each next bit repeats the previous one with probability
    ``p_stay``.

    Returns
    -------
    Source
        H = 1 + (d-1)·h(p_stay); H₂ = 1 - (d-1) log2(p² + (1-p)²).
    """
    d = check_d(d)
    p = check_probability("p_stay", p_stay)
    return _Markov("markov", d, {"d": d, "p_stay": p}, p)
