"""Counting distinct packed rows, and joint counts with labels, in Numba.

Rows are counted once; every estimator then works on the count vector. Three strategies:

* **direct** — when the rows fit in one word and their values span a small range
  (at most ``4 N`` and ``2**24``), a dense histogram indexed by the word itself;
* **partitioned** — other one-word rows are hashed by an odd multiplier, scattered into
  buckets of ~500 by the top hash bits, and each bucket is counted in a sparse
  open-addressing table that stays in L1/L2, all in parallel over fixed chunks;
* **hash** — rows of several words: one open-addressing table (linear probing, load
  <= 1/2), rows compared word by word; it also gives each row its code (``row_codes``).

The order of the counts depends only on the row values (never on the thread count), and
every estimator is a symmetric function of the counts.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._partition import GOLDEN, bucket_bits, partitioned_counts
from ._profile import profile_of
from ._scratch import scratch
from ._validation import check_counts
from .bits import Samples, as_samples, words_mismatch

__all__ = ["count_rows", "count_words", "row_codes", "joint_counts", "count_profile"]

_GOLDEN = GOLDEN
_DIRECT_LIMIT = 1 << 24
# Below this many one-word rows one hash table beats partitioning into buckets.
_SMALL_KEYS = 4096


@nb.njit(cache=True, inline="always")
def _hash_row(words, i, shift):
    h = np.uint64(0)
    for w in range(words.shape[1]):
        h = (h ^ words[i, w]) * _GOLDEN
        h ^= h >> np.uint64(29)
    return (h * _GOLDEN) >> shift


@nb.njit(cache=True, inline="always")
def _same_row(words, i, j):
    for w in range(words.shape[1]):
        if words[i, w] != words[j, w]:
            return False
    return True


@nb.njit(cache=True)
def _hash_codes(words, log2_capacity):
    """Code each row by the order of first appearance of its value; return codes, counts."""
    n = words.shape[0]
    cap = 1 << log2_capacity
    mask = cap - 1
    shift = np.uint64(64 - log2_capacity)
    # slot -> 1 + code of the row value stored there (0 = empty)
    table = np.zeros(cap, np.int64)
    first_row = np.empty(n, np.int64)
    counts = np.zeros(n, np.int64)
    codes = np.empty(n, np.int64)
    n_unique = 0
    single = words.shape[1] == 1
    for i in range(n):
        h = np.int64(_hash_row(words, i, shift))
        while True:
            slot = table[h]
            if slot == 0:
                table[h] = n_unique + 1
                first_row[n_unique] = i
                counts[n_unique] = 1
                codes[i] = n_unique
                n_unique += 1
                break
            c = slot - 1
            r = first_row[c]
            if (single and words[r, 0] == words[i, 0]) or (not single and _same_row(words, r, i)):
                counts[c] += 1
                codes[i] = c
                break
            h = (h + 1) & mask
    return codes, counts[:n_unique].copy()


@nb.njit(cache=True)
def _direct_codes(values, span):
    """Same contract as ``_hash_codes`` for one-word rows with values < span."""
    n = values.shape[0]
    code_of = np.full(span, -1, np.int64)
    counts = np.zeros(n, np.int64)
    codes = np.empty(n, np.int64)
    n_unique = 0
    for i in range(n):
        v = values[i]
        if v >= span:  # never index past the table, whatever the caller promised
            return codes, np.full(1, -1, np.int64)
        c = code_of[v]
        if c < 0:
            c = n_unique
            code_of[v] = c
            n_unique += 1
        counts[c] += 1
        codes[i] = c
    return codes, counts[:n_unique].copy()


@nb.njit(cache=True)
def _direct_counts(values, span):
    hist = np.zeros(span, np.int64)
    for i in range(values.shape[0]):
        v = values[i]
        if v >= span:  # never index past the table, whatever the caller promised
            return np.full(1, -1, np.int64)
        hist[v] += 1
    return hist[hist > 0]


def _log2_capacity(n: int) -> int:
    return max(4, int(np.ceil(np.log2(2 * n))))


def _direct_span(words: np.ndarray, d: int | None = None) -> int:
    """Histogram size usable for direct counting, or 0 when hashing is the better choice.

    ``d``: the rows are packed D-bit rows (values below 2**D, a guarantee of packing and
    of :class:`~mi_regimes.bits.PackedBits`), so no scan is needed when 2**D is small.
    """
    limit = min(_DIRECT_LIMIT, 4 * words.shape[0])
    if words.shape[1] != 1:
        return 0
    if d is not None and d < 63 and (1 << d) <= limit:
        return 1 << d
    if d is not None and d > 40:
        return 0  # no need to scan: values of so many bits rarely stay below the limit
    top = int(words[:, 0].max())
    if top < limit:
        return top + 1
    return 0


def count_rows(x, name: str = "x") -> np.ndarray:
    """Counts of the distinct rows (or symbols) of ``x``.

    Parameters
    ----------
    x : array_like, PackedBits or Samples
        ``(N, D)`` binary rows, packed rows or 1-D symbols, in any container
        (see :mod:`mi_regimes.bits`), or validated :class:`Samples` (whose words are
        consumed when they own them).
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64[K_obs]`` positive counts summing to N. With hashing the order is that
        of the hash table; with the dense histogram, ascending row value.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_regimes.counting import count_rows
    >>> sorted(count_rows(np.array([[0, 1], [0, 1], [1, 1]])).tolist())
    [1, 2]
    """
    samples = x if isinstance(x, Samples) else as_samples(x, name)
    return count_words(samples.words, overwrite=samples.owned, d=samples.d)


def _check_words(words, d: int | None) -> None:
    """Packed words as the kernels take them; anything else would fail to compile or be
    misread, so it is refused with the fix."""
    got = words_mismatch(words)
    if got is None and words.size == 0:
        got = f"an empty array of shape {words.shape}"
    if got is not None:
        raise TypeError(f"words: expected packed rows, a uint64[N, W] array with N, W >= 1, "
                        f"got {got}; pack binary rows with mi_regimes.pack_bits(x).words or "
                        f"count them with count_rows(x)")
    if d is not None and not 64 * (words.shape[1] - 1) < d <= 64 * words.shape[1]:
        raise ValueError(f"d: {d} bits do not fit {words.shape[1]} words of 64 bits; pass "
                         f"the packed rows' width (PackedBits.d)")


def count_words(words: np.ndarray, overwrite: bool = False, d: int | None = None) -> np.ndarray:
    """Counts of the distinct rows of packed ``uint64[N, W]`` words, optionally consuming them.

    Parameters
    ----------
    words : numpy.ndarray
        C-contiguous ``uint64[N, W]`` rows (from packing or :class:`Samples`).
    overwrite : bool
        ``words`` is a temporary the caller made and no longer needs (it may carry a
        read-only flag, as :func:`~mi_regimes.bits.pack_bits` output does): one-word rows
        are then counted in a reused scratch buffer and the counts written over
        ``words``, so no freshly mapped N-word buffer is touched.
    d : int, optional
        The words hold packed D-bit rows (lets small alphabets skip a scan).

    Returns
    -------
    numpy.ndarray
        ``int64[K_obs]`` counts, as for :func:`count_rows`.
    """
    _check_words(words, d)
    span = _direct_span(words, d)
    if span:
        counts = _direct_counts(words[:, 0], span)
        if counts.size and counts[0] >= 0:
            return counts
        raise ValueError("words: a row value exceeds its declared width; unused high bits "
                         "must be zero (build PackedBits with mi_regimes.pack_bits)")
    if words.shape[1] != 1 or words.shape[0] < _SMALL_KEYS:
        # several words per row, or too few rows to be worth scattering into buckets
        return _hash_codes(words, _log2_capacity(words.shape[0]))[1]
    if overwrite:
        words.flags.writeable = True
    keys = words[:, 0]
    bits = bucket_bits(keys.shape[0])
    if overwrite:
        part = scratch("scattered keys", keys.shape, np.uint64)
        counts = partitioned_counts(keys, bits, part, keys)
    else:
        part = np.empty_like(keys)
        counts = partitioned_counts(keys, bits, part, None)
    # a view into an N-word buffer: keep it only when it fills most of it
    return counts if 2 * counts.size > keys.size else counts.copy()


def row_codes(x, name: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each row (0, 1, ... in order of first appearance) and the counts.

    Parameters
    ----------
    x : array_like, PackedBits or Samples
        As for :func:`count_rows`, or already validated :class:`Samples`.
    name : str
        Argument name used in error messages.

    Returns
    -------
    codes : numpy.ndarray
        ``int64[N]``; equal rows share a code.
    counts : numpy.ndarray
        ``int64[K_obs]``; ``counts[c]`` is the number of rows with code ``c``.
    """
    samples = x if isinstance(x, Samples) else as_samples(x, name)
    words = samples.words
    span = _direct_span(words, samples.d)
    if span:
        codes, counts = _direct_codes(words[:, 0], span)
        if counts.size and counts[0] >= 0:
            return codes, counts
        raise ValueError("words: a row value exceeds its declared width")
    return _hash_codes(words, _log2_capacity(words.shape[0]))


@nb.njit(cache=True)
def _pair_keys(codes_a, codes_b, k_b):
    out = np.empty((codes_a.shape[0], 1), np.uint64)
    for i in range(codes_a.shape[0]):
        out[i, 0] = np.uint64(codes_a[i] * k_b + codes_b[i])
    return out


def joint_counts(a, b, name_a: str = "a", name_b: str = "b"):
    """Marginal and joint counts of two variables observed on the same N samples.

    Parameters
    ----------
    a, b : array_like, PackedBits or Samples
        Each binary rows, packed rows, or 1-D symbols (e.g. class labels).
    name_a, name_b : str
        Argument names used in error messages.

    Returns
    -------
    counts_a, counts_b, counts_ab : numpy.ndarray
        ``int64`` count vectors of A, of B and of the pairs (A, B).
    """
    codes_a, counts_a = row_codes(a, name_a)
    codes_b, counts_b = row_codes(b, name_b)
    if codes_a.shape[0] != codes_b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b}: different numbers of samples "
            f"({codes_a.shape[0]} vs {codes_b.shape[0]}); pass rows of the same samples"
        )
    keys = _pair_keys(codes_a, codes_b, counts_b.shape[0])
    return counts_a, counts_b, count_words(keys, overwrite=True)


def count_profile(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Profile of a count vector: the distinct counts and how many states have each.

    Parameters
    ----------
    counts : array_like
        Non-negative integer counts (zeros are ignored), at least one positive.

    Returns
    -------
    values, multiplicities : numpy.ndarray
        ``int64`` arrays; ``multiplicities[j]`` states have count ``values[j]`` (> 0).

    Raises
    ------
    TypeError, ValueError
        For counts that are not whole non-negative numbers (see
        :func:`mi_regimes.estimators.check_counts`).
    """
    return profile_of(check_counts(counts))
