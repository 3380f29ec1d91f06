"""Synthetic binary sources with known entropy, for validating estimators.

Every source is a random D-bit vector with exactly known Shannon entropy H and
collision (Rényi-2) entropy H₂ = -log2 Σ p², both in bits, its support size, its pmf
as groups of equal probability (``pmf_groups() -> (multiplicities, probabilities)``),
the distribution of its Hamming weight, and two samplers: ``sample(n, rng)`` gives
``uint8[n, d]`` rows and ``sample_packed(n, rng)`` the same rows as ``PackedBits`` (the
fast path used by the regime engine).

Families: :func:`bernoulli`, :func:`uniform_codebook`, :func:`sparse`, :func:`markov`,
:func:`zipf_codebook`, and :func:`labelled`, which attaches a class label with known
I(T; Y) to any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .bits import PackedBits, n_words, pack_bits, unpack_bits

__all__ = [
    "Source",
    "FAMILIES",
    "bernoulli",
    "uniform_codebook",
    "sparse",
    "markov",
    "zipf_codebook",
    "labelled",
    "LabelledSource",
    "make",
]


def _h2(p: float) -> float:
    """Binary entropy in bits."""
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def _check_int(name: str, value, low: int, high: float = math.inf) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        bound = f"between {low} and {int(high)}" if high < math.inf else f">= {low}"
        raise ValueError(f"{name}: must be {bound}, got {value}")
    return int(value)


def _check_prob(name: str, value, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name}: expected a probability, got {type(value).__name__}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name}: must lie in [{low}, {high}], got {value}")
    return float(value)


def _check_n(n) -> int:
    return _check_int("n", n, 1)


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


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
        return pack_bits(self._sample_bits(_check_n(n), _rng(rng)))

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


# ------------------------------------------------------------------------------ bernoulli


@dataclass(frozen=True)
class _Bernoulli(Source):
    p: float = 0.5

    def pmf_groups(self):
        d, p = self.d, self.p
        if p in (0.0, 1.0):
            return np.array([1.0]), np.array([1.0])
        w = np.arange(d + 1)
        mult = np.exp(special.gammaln(d + 1) - special.gammaln(w + 1) - special.gammaln(d - w + 1))
        # in log2, so that p = 1/2 gives exactly 2**-d for every group
        prob = np.exp2(w * math.log2(p) + (d - w) * math.log2(1 - p))
        return np.round(mult), prob

    @property
    def entropy(self) -> float:
        return self.d * _h2(self.p)

    @property
    def collision_entropy(self) -> float:
        return -self.d * math.log2(self.p**2 + (1 - self.p) ** 2)

    def weight_pmf(self):
        from scipy import stats

        return stats.binom.pmf(np.arange(self.d + 1), self.d, self.p)

    def sample_packed(self, n, rng=None):
        n, rng = _check_n(n), _rng(rng)
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
    d = _check_int("d", d, 1)
    p = _check_prob("p", p)
    return _Bernoulli("bernoulli", d, {"d": d, "p": p}, p)


# ------------------------------------------------------------------------------ codebooks


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
    codebook: np.ndarray = field(default=None, repr=False)
    probs: np.ndarray = field(default=None, repr=False)

    def pmf_groups(self):
        values, counts = np.unique(self.probs, return_counts=True)
        return counts.astype(np.float64), values

    def weight_pmf(self):
        w = self.codebook.sum(axis=1)
        return np.bincount(w, weights=self.probs, minlength=self.d + 1)

    def sample_packed(self, n, rng=None):
        n, rng = _check_n(n), _rng(rng)
        k = self.probs.size
        if np.all(self.probs == self.probs[0]):
            idx = rng.integers(0, k, size=n)
        else:
            idx = np.searchsorted(np.cumsum(self.probs), rng.random(n) * self.probs.sum(),
                                  side="right").clip(0, k - 1)
        return PackedBits._trusted(pack_bits(self.codebook).words[idx], self.d)

    def _log2_prob(self, rows):
        index = {tuple(r): i for i, r in enumerate(self.codebook.tolist())}
        found = [index.get(tuple(r), -1) for r in rows.tolist()]
        with np.errstate(divide="ignore"):
            return np.array([np.log2(self.probs[i]) if i >= 0 else -np.inf for i in found])


def uniform_codebook(d: int, k: int, seed: int = 0) -> Source:
    """Uniform over k distinct random D-bit codewords.

    Parameters
    ----------
    d : int
        Bits per sample.
    k : int
        Number of codewords, 1 <= k <= 2**d (and <= 10**7).
    seed : int
        Seed of the codebook (not of the samples).

    Returns
    -------
    Source
        H = H₂ = log2 k.
    """
    d = _check_int("d", d, 1)
    k = _check_int("k", k, 1, min(2.0**d, 1e7))
    book = _random_codebook(d, k, seed)
    return _Codebook("uniform_codebook", d, {"d": d, "k": k, "seed": seed}, book,
                     np.full(k, 1.0 / k))


def zipf_codebook(d: int, k: int, s: float = 1.0, seed: int = 0) -> Source:
    """k distinct random codewords with Zipf probabilities p_r ∝ r^-s (heavy tail).

    Parameters
    ----------
    d : int
        Bits per sample.
    k : int
        Number of codewords, 1 <= k <= 2**d (and <= 10**7).
    s : float
        Zipf exponent, >= 0 (0 = uniform).
    seed : int
        Seed of the codebook.

    Returns
    -------
    Source
    """
    d = _check_int("d", d, 1)
    k = _check_int("k", k, 1, min(2.0**d, 1e7))
    if isinstance(s, bool) or not isinstance(s, int | float) or not (math.isfinite(s) and s >= 0):
        raise ValueError(f"s: Zipf exponent must be a finite number >= 0, got {s!r}")
    ranks = np.arange(1, k + 1, dtype=np.float64)
    probs = ranks ** -float(s)
    probs /= probs.sum()
    book = _random_codebook(d, k, seed)
    return _Codebook("zipf_codebook", d, {"d": d, "k": k, "s": float(s), "seed": seed}, book,
                     probs)


# --------------------------------------------------------------------------------- sparse


@dataclass(frozen=True)
class _Sparse(Source):
    k: int = 1

    def pmf_groups(self):
        size = math.comb(self.d, self.k)
        return np.array([float(size)]), np.array([1.0 / size])

    @property
    def entropy(self):
        return math.log2(math.comb(self.d, self.k))

    @property
    def collision_entropy(self):
        return self.entropy

    def weight_pmf(self):
        out = np.zeros(self.d + 1)
        out[self.k] = 1.0
        return out

    def _sample_bits(self, n, rng):
        x = np.zeros((n, self.d), np.uint8)
        if self.k:
            ones = np.argpartition(rng.random((n, self.d)), self.k - 1, axis=1)[:, : self.k]
            np.put_along_axis(x, ones, 1, axis=1)
        return x

    def _log2_prob(self, rows):
        on = rows.sum(axis=1) == self.k
        return np.where(on, -self.entropy, -np.inf)


def sparse(d: int, k: int) -> Source:
    """Uniform over all D-bit words with exactly k ones.

    Returns
    -------
    Source
        H = H₂ = log2 C(d, k).
    """
    d = _check_int("d", d, 1)
    k = _check_int("k", k, 0, d)
    return _Sparse("sparse", d, {"d": d, "k": k}, k)


# --------------------------------------------------------------------------------- markov


@dataclass(frozen=True)
class _Markov(Source):
    p_stay: float = 0.9

    def pmf_groups(self):
        # A word is fixed by its first bit and its s switches: prob ½ q^s p^(d-1-s).
        d, p = self.d, self.p_stay
        s = np.arange(d)
        mult = 2.0 * np.round(np.exp(special.gammaln(d) - special.gammaln(s + 1)
                                     - special.gammaln(d - s)))
        with np.errstate(divide="ignore"):
            logp = math.log(0.5) + s * np.log(1 - p) + (d - 1 - s) * np.log(p)
        prob = np.exp(logp)
        keep = prob > 0
        return mult[keep], prob[keep]

    @property
    def entropy(self):
        return 1.0 + (self.d - 1) * _h2(self.p_stay)

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
    d = _check_int("d", d, 1)
    p = _check_prob("p_stay", p_stay)
    return _Markov("markov", d, {"d": d, "p_stay": p}, p)


# ------------------------------------------------------------------------------- labelled


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
        return _h2(self.noise) + self.noise * math.log2(self.n_classes - 1)

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
        rng = _rng(rng)
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
    return LabelledSource(source, _check_prob("noise", noise),
                          _check_int("n_classes", n_classes, 1))


#: Family name -> (constructor, parameter names and defaults beyond ``d``).
FAMILIES: dict[str, tuple] = {
    "bernoulli": (bernoulli, {"p": 0.5}),
    "uniform_codebook": (uniform_codebook, {"k": 1024, "seed": 0}),
    "sparse": (sparse, {"k": 2}),
    "markov": (markov, {"p_stay": 0.9}),
    "zipf_codebook": (zipf_codebook, {"k": 1024, "s": 1.0, "seed": 0}),
}


def make(family: str, d: int, **params) -> Source:
    """Build a source of a named family, with defaults for missing parameters.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    d : int
        Bits per sample.
    **params
        Family parameters (see the family functions).

    Returns
    -------
    Source
    """
    if family not in FAMILIES:
        raise ValueError(f"family: unknown source family {family!r}; choose one of "
                         f"{', '.join(FAMILIES)}")
    fn, defaults = FAMILIES[family]
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"params: {family} takes {', '.join(defaults) or 'no parameters'}; "
                         f"unknown {', '.join(sorted(unknown))}")
    merged = {**defaults, **params}
    if family in ("uniform_codebook", "zipf_codebook"):
        merged["k"] = min(merged["k"], 2**d)  # a codebook cannot exceed the 2**d words
    if family == "sparse":
        merged["k"] = min(merged["k"], d)
    return fn(d, **merged)
