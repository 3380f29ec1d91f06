"""A class label attached to any source, through a noisy channel with known I(T; Y)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._base import Source, as_generator, binary_entropy, check_int, check_probability

__all__ = ["LabelledSource", "labelled"]


@dataclass(frozen=True)
class LabelledSource:
    """A pair (T, Y): T from ``source``; Y the class of T through a noisy channel.

    The clean class is ``popcount(T) mod n_classes``; with probability ``noise`` it is
    replaced by one of the other classes, uniformly. Then H(Y | T) = h(noise) +
    noise·log2(n_classes - 1) exactly, and I(T; Y) = H(Y) - H(Y | T).
    """

    source: Source
    noise: float
    n_classes: int

    @property
    def d(self) -> int:
        """Bits per sample of T."""
        return self.source.d

    def class_pmf(self) -> np.ndarray:
        """P(Y = y) for y = 0 .. n_classes - 1."""
        w = self.source.weight_pmf()
        clean = np.bincount(np.arange(w.size) % self.n_classes, weights=w,
                            minlength=self.n_classes)
        m, eps = self.n_classes, self.noise
        if m == 1:
            return np.ones(1)
        return (1 - eps) * clean + eps * (1 - clean) / (m - 1)

    @property
    def conditional_entropy(self) -> float:
        """H(Y | T) in bits."""
        if self.n_classes == 1:
            return 0.0
        return binary_entropy(self.noise) + self.noise * math.log2(self.n_classes - 1)

    @property
    def label_entropy(self) -> float:
        """H(Y) in bits."""
        p = self.class_pmf()
        p = p[p > 0]
        return float(-np.sum(p * np.log2(p)))

    @property
    def mutual_information(self) -> float:
        """I(T; Y) in bits."""
        return max(0.0, self.label_entropy - self.conditional_entropy)

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw (T, Y): ``uint8[n, d]`` rows and ``int64[n]`` labels."""
        rng = as_generator(rng)
        t = self.source.sample(n, rng)
        clean = t.sum(axis=1, dtype=np.int64) % self.n_classes
        flip = rng.random(n) < self.noise
        other = (clean + rng.integers(1, max(self.n_classes, 2), size=n)) % self.n_classes
        return t, np.where(flip & (self.n_classes > 1), other, clean)

    def __str__(self) -> str:
        return f"labelled({self.source}, noise={self.noise}, n_classes={self.n_classes})"


def labelled(source: Source, noise: float = 0.1, n_classes: int = 2) -> LabelledSource:
    """Attach a noisy class label with known I(T; Y) to a source.

    Parameters
    ----------
    source : Source
        Distribution of T.
    noise : float
        Probability that the label is replaced by another class, in [0, 1].
    n_classes : int
        Number of classes, >= 1.

    Returns
    -------
    LabelledSource

    Examples
    --------
    >>> from mi_regimes import sources
    >>> pair = sources.labelled(sources.bernoulli(4), noise=0.0, n_classes=2)
    >>> pair.mutual_information  # Y = parity of T: one full bit
    1.0
    """
    if not isinstance(source, Source):
        raise TypeError(f"source: expected a Source (e.g. sources.bernoulli(8)), got "
                        f"{type(source).__name__}")
    return LabelledSource(source, check_probability("noise", noise),
                          check_int("n_classes", n_classes, 1))
