"""Long-tailed sources with exact pmf groups: the hard cases for any verdict.

* :func:`heavy_tail`: a few heavy states carry most of the mass, and a small mass is
  spread evenly over a wide tail of 2**t states. Samples look well covered (the heavy
  states repeat) while the tail hides up to ``tail_mass·t`` bits that no sample shows.
* :func:`dyadic_zipf`: Zipf's law p(i) ∝ (i+1)**-s over all 2**D words, made exact by
  giving every word of one dyadic rank class [2**(j-1), 2**j) the probability of the
  class: D + 1 groups, so theory is exact and cheap for any D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._validation import check_float
from ..bits import PackedBits, n_words
from ._base import LN2, Source, check_d, check_int, check_probability, linear_groups

__all__ = ["heavy_tail", "dyadic_zipf"]


def _words_of_integers(values: np.ndarray, d: int) -> np.ndarray:
    """Little-endian packing of non-negative integers below 2**d (d <= 64 per word)."""
    out = np.zeros((values.size, n_words(d)), np.uint64)
    out[:, 0] = values
    return out


@dataclass(frozen=True)
class _HeavyTail(Source):
    heavy: int = 4
    tail_bits: int = 30
    tail_mass: float = 0.05
    heavy_rows: np.ndarray = field(default=None, repr=False, compare=False)
    # the tail's fixed high bits
    prefix: np.ndarray = field(default=None, repr=False, compare=False)
    overlap: int = 0  # heavy states that also lie in the tail

    def pmf_groups(self):
        h, t, eps = self.heavy, self.tail_bits, self.tail_mass
        tail_p = eps / 2.0**t if eps > 0 else 0.0
        m = [float(h - self.overlap), float(self.overlap), 2.0**t - self.overlap]
        p = [(1 - eps) / h, (1 - eps) / h + tail_p, tail_p]
        keep = [(mi, pi) for mi, pi in zip(m, p, strict=True) if mi > 0 and pi > 0]
        return np.array([k[0] for k in keep]), np.array([k[1] for k in keep])

    def weight_pmf(self):
        w = np.zeros(self.d + 1)
        heavy_w = self.heavy_rows.sum(axis=1)
        np.add.at(w, heavy_w, (1 - self.tail_mass) / self.heavy)
        from scipy import stats

        base = int(self.prefix.sum())
        w[base:base + self.tail_bits + 1] += self.tail_mass * stats.binom.pmf(
            np.arange(self.tail_bits + 1), self.tail_bits, 0.5)
        return w

    def _sample_bits(self, n, rng):
        rows = np.empty((n, self.d), np.uint8)
        in_tail = rng.random(n) < self.tail_mass
        rows[~in_tail] = self.heavy_rows[rng.integers(0, self.heavy, size=(~in_tail).sum())]
        k = int(in_tail.sum())
        rows[in_tail, :self.tail_bits] = rng.integers(0, 2, size=(k, self.tail_bits))
        rows[in_tail, self.tail_bits:] = self.prefix
        return rows

    def _log2_prob(self, rows):
        m, p = self.pmf_groups()
        tail = np.all(rows[:, self.tail_bits:] == self.prefix, axis=1)
        heavy = np.zeros(rows.shape[0], bool)
        for r in self.heavy_rows:
            heavy |= np.all(rows == r, axis=1)
        tail_p = self.tail_mass / 2.0**self.tail_bits
        prob = np.where(heavy, (1 - self.tail_mass) / self.heavy, 0.0) + np.where(
            tail, tail_p, 0.0)
        with np.errstate(divide="ignore"):
            return np.log2(prob)


def heavy_tail(d: int, heavy: int = 4, tail_bits: int | None = None, tail_mass: float = 0.05,
               codebook_seed: int = 0) -> Source:
    """A few heavy states plus a small mass spread over a wide tail of 2**tail_bits states.

    Parameters
    ----------
    d : int
        Bits per sample (>= tail_bits, and >= 2).
    heavy : int
        Number of heavy states (random D-bit words), sharing 1 - tail_mass equally.
    tail_bits : int, optional
        The tail is every word with ``tail_bits`` free low bits and a fixed random
        prefix on the other ``d - tail_bits`` bits: 2**tail_bits states. Default
        ``min(30, d)``.
    tail_mass : float
        Probability of the tail, in [0, 1).
    codebook_seed : int
        Which heavy words and prefix (a parameter of the source).

    Returns
    -------
    Source

    Examples
    --------
    >>> from mi_regimes import sources
    >>> s = sources.heavy_tail(40, heavy=4, tail_bits=30, tail_mass=0.05)
    >>> round(s.entropy, 4), s.support
    (3.6864, 1073741828.0)
    """
    d = check_d(d)
    heavy = check_int("heavy", heavy, 1, 10**6)
    if heavy > 2**d:  # the draw of distinct heavy words below would never end
        raise ValueError(f"heavy: {heavy} distinct heavy states do not fit {d}-bit words "
                         f"(at most 2**{d} = {2**d}); use fewer, or d >= "
                         f"{math.ceil(math.log2(heavy))}")
    tail_bits = check_int("tail_bits", min(30, d) if tail_bits is None else tail_bits, 0,
                          min(d, 1000))
    tail_mass = check_probability("tail_mass", tail_mass)
    if tail_mass >= 1:
        raise ValueError("tail_mass: must be < 1 (the heavy states need some mass)")
    gen = np.random.default_rng(codebook_seed)
    prefix = gen.integers(0, 2, size=d - tail_bits, dtype=np.uint8)
    heavy_rows = gen.integers(0, 2, size=(heavy, d), dtype=np.uint8)
    heavy_rows = np.unique(heavy_rows, axis=0)
    while heavy_rows.shape[0] < heavy:  # distinct heavy words
        extra = gen.integers(0, 2, size=(heavy - heavy_rows.shape[0], d), dtype=np.uint8)
        heavy_rows = np.unique(np.concatenate([heavy_rows, extra]), axis=0)
    overlap = int(np.all(heavy_rows[:, tail_bits:] == prefix, axis=1).sum())
    params = {"d": d, "heavy": heavy, "tail_bits": tail_bits, "tail_mass": tail_mass,
              "codebook_seed": codebook_seed}
    return _HeavyTail("heavy_tail", d, params, heavy, tail_bits, tail_mass, heavy_rows,
                      prefix, overlap)


@dataclass(frozen=True)
class _DyadicZipf(Source):
    s: float = 1.0

    def log_pmf_groups(self):
        """Per rank class j = 0..D: ln of its number of words and of one word's probability."""
        j = np.arange(self.d + 1)
        log_sizes = np.where(j == 0, 0.0, (j - 1) * LN2)
        log_w = -self.s * j * LN2  # (i+1)**-s ~ 2**(-s j) within class j
        return log_sizes, log_w - special.logsumexp(log_sizes + log_w)

    def pmf_groups(self):
        return linear_groups(*self.log_pmf_groups(), str(self))

    def _class_mass(self) -> np.ndarray:
        """Probability of each rank class (≤ 1, so representable for any D)."""
        log_sizes, log_p = self.log_pmf_groups()
        mass = np.exp(log_sizes + log_p)
        return mass / mass.sum()

    def weight_pmf(self):
        from scipy import stats

        mass = self._class_mass()
        out = np.zeros(self.d + 1)
        out[0] += mass[0]
        for j in range(1, self.d + 1):  # top bit j-1 set, the j-1 bits below free
            out[1:j + 1] += mass[j] * stats.binom.pmf(np.arange(j), j - 1, 0.5)
        return out

    def _classes(self, n, rng) -> np.ndarray:
        return rng.choice(self.d + 1, size=n, p=self._class_mass())

    def sample_packed(self, n, rng=None):
        n, rng = self._draw_arguments(n, rng)
        if self.d > 64:
            return super().sample_packed(n, rng)
        cls = self._classes(n, rng).astype(np.uint64)
        # class j: top bit j-1 set, the j-1 bits below uniform (integers, not floats:
        # a float draw would leave the low bits of wide classes empty)
        half = np.where(cls == 0, np.uint64(1), np.uint64(1) << np.maximum(cls, 1) - 1)
        offset = rng.integers(0, half, dtype=np.uint64, endpoint=False)
        values = np.where(cls == 0, np.uint64(0), half + offset)
        return PackedBits._trusted(_words_of_integers(values, self.d), self.d)

    def _sample_bits(self, n, rng):
        cls = self._classes(n, rng)
        col = np.arange(self.d)
        rows = rng.integers(0, 2, size=(n, self.d), dtype=np.uint8)
        rows[col[None, :] >= cls[:, None] - 1] = 0
        rows[col[None, :] == cls[:, None] - 1] = 1
        return rows

    def _log2_prob(self, rows):
        log_p = self.log_pmf_groups()[1]
        top = np.where(rows.any(axis=1), self.d - np.argmax(rows[:, ::-1], axis=1), 0)
        return log_p[top] / LN2


def dyadic_zipf(d: int, s: float = 1.0) -> Source:
    """Zipf's law over all 2**D words, exact by dyadic rank classes.

    Word i (its bits read as an integer, little-endian) lies in class j = bit_length(i);
    the 2**(j-1) words of class j share probability ∝ 2**(-s·j) ≈ (i+1)**-s. With s = 1
    every class carries the same mass: a heavy tail over the whole alphabet.

    Parameters
    ----------
    d : int
        Bits per sample.
    s : float
        Exponent, >= 0 (0 = uniform over the 2**D words).

    Returns
    -------
    Source

    Examples
    --------
    >>> from mi_regimes import sources
    >>> round(sources.dyadic_zipf(20, 1.0).entropy, 4)
    13.0049
    """
    d = check_d(d)
    s = check_float("s", s, 0.0)
    return _DyadicZipf("dyadic_zipf", d, {"d": d, "s": s}, s)

