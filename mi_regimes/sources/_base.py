"""The base class of synthetic sources, and the checks their constructors share."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._random import as_generator
from .._validation import check_float, check_int, check_memory
from ..bits import PackedBits, n_words, pack_bits, unpack_bits

__all__ = ["Source", "binary_entropy", "check_int", "check_probability", "as_generator",
           "support_size", "linear_groups", "log_binomials", "LN2"]

LN2 = math.log(2.0)
#: Bits drawn per block by :meth:`Source.sample_packed` (2**24: 128 MiB of float draws).
SAMPLE_BLOCK = 2**24


def binary_entropy(p: float) -> float:
    """h(p) in bits."""
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def support_size(log_multiplicities: np.ndarray) -> float:
    """Σ m from ln m: an integer, so rounded where float64 holds integers exactly."""
    with np.errstate(over="ignore"):
        k = float(np.exp(special.logsumexp(log_multiplicities)))
    return float(round(k)) if k < 2.0**53 else k


@functools.lru_cache(maxsize=64)
def log_binomials(d: int) -> np.ndarray:
    """ln C(d, w) for w = 0..d, each correctly rounded (exact integers, then one log).

    ``gammaln`` differences lose ~1e-12 relative at d ~ 2000; these are exact to an ulp.
    Cached (read-only): one exact cell asks for a source's groups about eight times.
    """
    out = np.empty(d + 1)
    c = 1
    for w in range(d + 1):
        out[w] = math.log(c)
        c = c * (d - w) // (w + 1)
    out.flags.writeable = False
    return out


def linear_groups(log_m: np.ndarray, log_p: np.ndarray, source: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``exp`` of log groups, refused where float64 cannot hold them."""
    with np.errstate(over="ignore", under="ignore"):
        m, p = np.exp(log_m), np.exp(log_p)
    if not np.all(np.isfinite(m)) or np.any(p == 0):
        raise ValueError(f"{source}: too wide for pmf groups in float64 (multiplicities "
                         "overflow or probabilities underflow); use log_pmf_groups()")
    return m, p


#: Most bits per sample a source takes (2^20). Its theory sums over D + 1 pmf groups
#: in Python: 14 s at D = 10^5, and a D of 10^8 ran for hours (10^20 raised NumPy's
#: "Maximum allowed size exceeded").
MAX_D = 1 << 20


def check_d(d) -> int:
    """The number of bits per sample, 1 .. :data:`MAX_D`."""
    return check_int("d", d, 1, MAX_D)


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

    Two sources are equal, and hash alike, when their family and parameters (seeds
    included) are: ``make(src.name, **src.params) == src``.
    """

    name: str
    d: int
    # not hashed (a dict): name, d and the family's own fields identify a source
    params: dict = field(default_factory=dict, hash=False)

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

        Raises
        ------
        ValueError
            When a multiplicity overflows or a probability underflows float64 (D in the
            hundreds or thousands); :meth:`log_pmf_groups` holds them for any D.
        """
        raise NotImplementedError

    def log_pmf_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Natural logs of :meth:`pmf_groups`, representable for any D.

        Everything exact (entropies, and :mod:`mi_regimes.theory`) sums in these logs,
        so a source of 2000 bits, whose largest group holds ~2**1995 states of
        probability ~2**-2000 each, is as exact as one of 20.

        Returns
        -------
        log_multiplicities, log_probabilities : numpy.ndarray
            float64, finite; zero-probability groups are omitted.
        """
        m, p = self.pmf_groups()
        return np.log(m), np.log(p)

    @property
    def entropy(self) -> float:
        """Shannon entropy H in bits."""
        log_m, log_p = self.log_pmf_groups()
        return float(-np.sum(np.exp(log_m + log_p) * log_p) / LN2)

    @property
    def collision_entropy(self) -> float:
        """Collision (Rényi order-2) entropy H₂ = -log2 Σ p² in bits (H₂ <= H)."""
        log_m, log_p = self.log_pmf_groups()
        return float(-special.logsumexp(log_m + 2.0 * log_p) / LN2) + 0.0  # no -0.0

    @property
    def support(self) -> float:
        """Number of states with positive probability (``inf`` beyond float64)."""
        return support_size(self.log_pmf_groups()[0])

    def weight_pmf(self) -> np.ndarray:
        """Distribution of the Hamming weight (number of ones), length ``d + 1``."""
        raise NotImplementedError

    def log2_prob(self, rows) -> np.ndarray:
        """Exact log2 probability of each row (``-inf`` off the support).

        Parameters
        ----------
        rows : array_like or PackedBits
            ``(m, d)`` rows of {0, 1} or {-1, +1}, in any container :func:`pack_bits`
            takes (values other than bits are refused: cast to integers, 0.5, 2 or NaN
            gave a probability without a word).
        """
        packed = pack_bits(rows, "rows")
        if packed.d != self.d:
            raise ValueError(f"rows: expected shape (m, {self.d}), got {packed.shape}")
        return self._log2_prob(unpack_bits(packed).astype(np.int64))

    def _log2_prob(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- sampling -----------------------------------------------------------------------
    def sample_packed(self, n: int, rng=None) -> PackedBits:
        """Draw n samples already packed (``words``: ``uint64[n, ceil(d/64)]``).

        Rows are drawn in blocks of at most :data:`SAMPLE_BLOCK` bits, so a draw's
        temporaries (a float per bit for some families) stay bounded however large
        N × D is; a draw that fits one block is made in one call.
        """
        n, rng = self._draw_arguments(n, rng)
        rows = max(1, SAMPLE_BLOCK // self.d)
        if n <= rows:
            return pack_bits(self._sample_bits(n, rng))
        words = np.empty((n, n_words(self.d)), np.uint64)
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            words[start:stop] = pack_bits(self._sample_bits(stop - start, rng)).words
        return PackedBits._trusted(words, self.d)

    def _draw_arguments(self, n, rng) -> tuple[int, np.random.Generator]:
        """``n`` checked (an integer >= 1 whose packed rows fit in RAM) and ``rng`` as a
        Generator: the start of every family's ``sample_packed``."""
        n = check_int("n", n, 1)
        check_memory("n", 8.0 * n * n_words(self.d), f"{n} samples of {self.d} bits",
                     "draw fewer at a time")
        return n, as_generator(rng)

    def sample(self, n: int, rng=None) -> np.ndarray:
        """Draw n iid samples as ``uint8[n, d]`` of {0, 1}.

        Parameters
        ----------
        n : int
            Number of samples, >= 1.
        rng : numpy.random.Generator, int or None
            Randomness (an int is a seed).
        """
        n = check_int("n", n, 1)
        check_memory("n", (8.0 * n_words(self.d) + self.d) * n,
                     f"{n} samples of {self.d} bits (packed, then one byte per bit)",
                     "draw fewer at a time, or use sample_packed")
        return unpack_bits(self.sample_packed(n, rng))

    def _sample_bits(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"
