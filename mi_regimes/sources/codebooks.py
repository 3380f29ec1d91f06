"""Sources on a random codebook: a fixed set of distinct D-bit codewords with given
probabilities (uniform, or Zipf's heavy tail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validation import check_float
from ..bits import PackedBits, pack_bits
from ._base import Source, check_d, check_int

__all__ = ["uniform_codebook", "zipf_codebook"]


def _random_codebook(d: int, k: int, seed) -> np.ndarray:
    """k distinct random D-bit rows (uint8[k, d]), deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    if d <= 30:
        values = rng.choice(2**d, size=k, replace=False)
        return ((values[:, None] >> np.arange(d)) & 1).astype(np.uint8)
    rows = np.empty((0, d), np.uint8)
    while rows.shape[0] < k:
        extra = rng.integers(0, 2, size=(k - rows.shape[0], d), dtype=np.uint8)
        rows = np.concatenate([rows, extra])
        _, first = np.unique(rows, axis=0, return_index=True)
        rows = rows[np.sort(first)]
    return rows


@dataclass(frozen=True)
class _Codebook(Source):
    codebook: np.ndarray = field(default=None, repr=False, compare=False)
    probs: np.ndarray = field(default=None, repr=False, compare=False)

    def pmf_groups(self):
        values, counts = np.unique(self.probs, return_counts=True)
        return counts.astype(np.float64), values

    def weight_pmf(self):
        w = self.codebook.sum(axis=1)
        return np.bincount(w, weights=self.probs, minlength=self.d + 1)

    # Computed once per source: a simulation draws thousands of small samples, and
    # packing a 65 536-word codebook for each took ~1 ms, more than the draw.
    @cached_property
    def _words(self) -> np.ndarray:
        return pack_bits(self.codebook).words

    @cached_property
    def _cumulative(self) -> tuple[np.ndarray, float] | None:
        """(cumulative probabilities, their total), or None for a uniform codebook."""
        if np.all(self.probs == self.probs[0]):
            return None
        return np.cumsum(self.probs), self.probs.sum()

    def sample_packed(self, n, rng=None):
        n, rng = self._draw_arguments(n, rng)
        k = self.probs.size
        if self._cumulative is None:
            idx = rng.integers(0, k, size=n)
        else:
            cumulative, total = self._cumulative
            idx = np.searchsorted(cumulative, rng.random(n) * total,
                                  side="right").clip(0, k - 1)
        return PackedBits._trusted(self._words[idx], self.d)

    def _log2_prob(self, rows):
        index = {tuple(r): i for i, r in enumerate(self.codebook.tolist())}
        found = [index.get(tuple(r), -1) for r in rows.tolist()]
        with np.errstate(divide="ignore"):
            return np.array([np.log2(self.probs[i]) if i >= 0 else -np.inf for i in found])


def uniform_codebook(d: int, support: int = 1024, codebook_seed: int = 0) -> Source:
    """Uniform over ``support`` distinct random D-bit codewords.

    Parameters
    ----------
    d : int
        Bits per sample.
    support : int
        Number of codewords, 1 <= support <= 2**d (and <= 10**7).
    codebook_seed : int
        Which codebook (a parameter of the source, not randomness of its samples).

    Returns
    -------
    Source
        H = H₂ = log2 support.
    """
    d = check_d(d)
    support = check_int("support", support, 1, int(min(2**min(d, 62), 10**7)))
    book = _random_codebook(d, support, codebook_seed)
    return _Codebook("uniform_codebook", d,
                     {"d": d, "support": support, "codebook_seed": codebook_seed}, book,
                     np.full(support, 1.0 / support))


def zipf_codebook(d: int, support: int = 1024, s: float = 1.0,
                  codebook_seed: int = 0) -> Source:
    """``support`` distinct random codewords with Zipf probabilities p_r ∝ r^-s (heavy tail).

    Parameters
    ----------
    d : int
        Bits per sample.
    support : int
        Number of codewords, 1 <= support <= 2**d (and <= 10**7).
    s : float
        Zipf exponent, >= 0 (0 = uniform).
    codebook_seed : int
        Which codebook (a parameter of the source, not randomness of its samples).

    Returns
    -------
    Source
    """
    d = check_d(d)
    k = check_int("support", support, 1, int(min(2**min(d, 62), 10**7)))
    s = check_float("s", s, 0.0)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    probs = ranks ** -float(s)
    probs /= probs.sum()
    book = _random_codebook(d, k, codebook_seed)
    return _Codebook("zipf_codebook", d, {"d": d, "support": k, "s": float(s),
                                          "codebook_seed": codebook_seed}, book,
                     probs)
