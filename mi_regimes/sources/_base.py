"""The base class of synthetic sources, and the checks their constructors share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._random import as_generator
from .._validation import check_float, check_int
from ..bits import PackedBits, pack_bits, unpack_bits

__all__ = ["Source", "binary_entropy", "check_int", "check_probability", "as_generator"]


def binary_entropy(p: float) -> float:
    """h(p) in bits."""
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def check_probability(name: str, value) -> float:
    """A probability in [0, 1]."""
    return check_float(name, value, 0.0, 1.0)


@dataclass(frozen=True)
class Source:
    """Base class of the synthetic sources (use the family functions to build one).

    Attributes
    ----------
    name : str
        Family name.
    d : int
        Bits per sample.
    params : dict
        The family parameters, for display and for rebuilding with :func:`make`.
    """

    name: str
    d: int
    params: dict = field(default_factory=dict)

    # -- exact quantities (bits) --------------------------------------------------------
    def pmf_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Multiplicities and probabilities of the groups of equally likely states.

        Returns
        -------
        multiplicities : numpy.ndarray
            float64 (may exceed 2**53 for large D; exact enough for the sums here).
        probabilities : numpy.ndarray
            float64, probability of *one* state of the group; zero-probability groups
            are omitted.
        """
        raise NotImplementedError

    @property
    def entropy(self) -> float:
        """Shannon entropy H in bits."""
        m, p = self.pmf_groups()
        return float(-np.sum(m * p * np.log2(p)))

    @property
    def collision_entropy(self) -> float:
        """Collision (Rényi order-2) entropy H₂ = -log2 Σ p² in bits (H₂ <= H)."""
        m, p = self.pmf_groups()
        return float(-np.log2(np.sum(m * p * p)))

    @property
    def support(self) -> float:
        """Number of states with positive probability."""
        return float(np.sum(self.pmf_groups()[0]))

    def weight_pmf(self) -> np.ndarray:
        """Distribution of the Hamming weight (number of ones), length ``d + 1``."""
        raise NotImplementedError

    def log2_prob(self, rows) -> np.ndarray:
        """Exact log2 probability of each row (``-inf`` off the support).

        Parameters
        ----------
        rows : array_like
            ``(m, d)`` array of {0, 1}.
        """
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.d:
            raise ValueError(f"rows: expected shape (m, {self.d}), got {rows.shape}")
        return self._log2_prob(rows.astype(np.int64))

    def _log2_prob(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- sampling -----------------------------------------------------------------------
    def sample_packed(self, n: int, rng=None) -> PackedBits:
        """Draw n samples already packed (``words``: ``uint64[n, ceil(d/64)]``)."""
        return pack_bits(self._sample_bits(check_int("n", n, 1), as_generator(rng)))

    def sample(self, n: int, rng=None) -> np.ndarray:
        """Draw n iid samples as ``uint8[n, d]`` of {0, 1}.

        Parameters
        ----------
        n : int
            Number of samples, >= 1.
        rng : numpy.random.Generator, int or None
            Randomness (an int is a seed).
        """
        return unpack_bits(self.sample_packed(n, rng))

    def _sample_bits(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"
