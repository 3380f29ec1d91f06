"""Counting distinct packed rows, and joint counts with labels, in Numba.

Rows are counted once; every estimator then works on the count vector. Two strategies:

* **direct** — when the rows fit in one word and their values span a small range
  (at most ``4 N`` and ``2**24``), a dense histogram indexed by the word itself;
* **hash** — otherwise open addressing (Fibonacci hashing, linear probing, load factor
  <= 1/2) in expected O(N). One-word rows are first scattered into cache-sized buckets by
  their hash and counted in parallel; rows of several words are compared word by word.

Counts are returned in order of first appearance, so results never depend on hashing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .bits import as_codes

__all__ = ["count_rows", "row_codes", "joint_counts", "count_profile"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DIRECT_LIMIT = 1 << 24


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
        hist[values[i]] += 1
    return hist[hist > 0]


@nb.njit(cache=True, parallel=True)
def _partitioned_counts(keys, bucket_bits):
    """Counts of distinct one-word keys, in parallel and cache-sized pieces.

    Keys are scattered by the top ``bucket_bits`` of their hash into buckets (one pass,
    per-chunk histograms give stable offsets), then each bucket is counted in its own
    small open-addressing table that fits in L2. The bucket region is reused to hold the
    bucket's counts, so the only large allocations are the scatter buffer and the result.
    Output order depends only on the key values, not on the thread count.
    """
    n = keys.shape[0]
    n_b = 1 << bucket_bits
    n_chunks = 8
    chunk = (n + n_chunks - 1) // n_chunks
    shift = np.uint64(64 - bucket_bits)
    hist = np.zeros((n_chunks, n_b), np.int64)
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            hist[c, (keys[i] * _GOLDEN) >> shift] += 1
    offsets = np.empty((n_chunks, n_b), np.int64)
    start = np.empty(n_b + 1, np.int64)
    acc = 0
    for b in range(n_b):
        start[b] = acc
        for c in range(n_chunks):
            offsets[c, b] = acc
            acc += hist[c, b]
    start[n_b] = acc
    part = np.empty(n, np.uint64)
    for c in nb.prange(n_chunks):
        pos = offsets[c].copy()
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            h = (keys[i] * _GOLDEN) >> shift
            part[pos[h]] = keys[i]
            pos[h] += 1
    k_b = np.zeros(n_b, np.int64)
    local_shift = np.uint64(max(0, 64 - bucket_bits - 24))
    for b in nb.prange(n_b):
        lo = start[b]
        hi = start[b + 1]
        if hi == lo:
            continue
        cap = 16
        while cap < 2 * (hi - lo):
            cap *= 2
        mask = cap - 1
        table = np.zeros(2 * cap, np.uint64)  # [key, count] pairs; count 0 = empty
        for i in range(lo, hi):
            key = part[i]
            # the hash bits just below the bucket bits spread keys within the bucket
            h = np.int64(((key * _GOLDEN) >> local_shift) & np.uint64(mask))
            while True:
                cnt = table[2 * h + 1]
                if cnt == 0:
                    table[2 * h] = key
                    table[2 * h + 1] = 1
                    break
                if table[2 * h] == key:
                    table[2 * h + 1] = cnt + np.uint64(1)
                    break
                h = (h + 1) & mask
        k = 0
        for h in range(cap):
            cnt = table[2 * h + 1]
            if cnt != 0:
                part[lo + k] = cnt
                k += 1
        k_b[b] = k
    dst = np.empty(n_b + 1, np.int64)
    dst[0] = 0
    for b in range(n_b):
        dst[b + 1] = dst[b] + k_b[b]
    out = np.empty(dst[n_b], np.int64)
    for b in nb.prange(n_b):
        for j in range(k_b[b]):
            out[dst[b] + j] = np.int64(part[start[b] + j])
    return out


def _bucket_bits(n: int) -> int:
    # about 256 keys per bucket: each local table then stays within L1/L2. At least one
    # bit: a shift by 64 in the kernel would be undefined behaviour.
    return int(min(16, max(1, np.floor(np.log2(max(n, 1) / 256)))))


@nb.njit(cache=True)
def _max_word(words):
    m = np.uint64(0)
    for i in range(words.shape[0]):
        if words[i, 0] > m:
            m = words[i, 0]
    return m


def _log2_capacity(n: int) -> int:
    return max(4, int(np.ceil(np.log2(2 * n))))


def _direct_span(words: np.ndarray, alphabet_size: float | None = None) -> int:
    """Histogram size usable for direct counting, or 0 when hashing is the better choice."""
    limit = min(_DIRECT_LIMIT, 4 * words.shape[0])
    if words.shape[1] != 1:
        return 0
    if alphabet_size is not None and alphabet_size <= limit:
        return int(alphabet_size)  # D-bit rows pack to values below 2**D
    if alphabet_size is not None and alphabet_size > 2.0**40:
        return 0  # no need to scan: values of so many bits rarely stay below the limit
    top = int(_max_word(words))
    if top < limit:
        return top + 1
    return 0


def _words_of(x, name: str) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype == np.uint64 and x.ndim == 2 and x.size:
        return np.ascontiguousarray(x)
    return np.ascontiguousarray(as_codes(x, name)[0])


def count_rows(x, name: str = "x", alphabet_size: float | None = None) -> np.ndarray:
    """Counts of the distinct rows of ``x``.

    Parameters
    ----------
    x : array_like, PackedBits or numpy.ndarray of uint64 words
        Binary rows, packed rows, 1-D integer symbols, or ``uint64[N, W]`` words.
    name : str
        Argument name used in error messages.
    alphabet_size : float, optional
        ``2**D`` when ``x`` holds packed D-bit rows; lets small alphabets use the dense
        histogram without scanning for the largest value.

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
    words = _words_of(x, name)
    span = _direct_span(words, alphabet_size)
    if span:
        return _direct_counts(words[:, 0], span)
    if words.shape[1] == 1:
        return _partitioned_counts(words[:, 0], _bucket_bits(words.shape[0]))
    return _hash_codes(words, _log2_capacity(words.shape[0]))[1]


def row_codes(x, name: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each row (0, 1, ... in order of first appearance) and the counts.

    Parameters
    ----------
    x : array_like, PackedBits or numpy.ndarray of uint64 words
        As for :func:`count_rows`.
    name : str
        Argument name used in error messages.

    Returns
    -------
    codes : numpy.ndarray
        ``int64[N]``; equal rows share a code.
    counts : numpy.ndarray
        ``int64[K_obs]``; ``counts[c]`` is the number of rows with code ``c``.
    """
    words = _words_of(x, name)
    span = _direct_span(words)
    if span:
        return _direct_codes(words[:, 0], span)
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
    a, b : array_like or PackedBits
        Each binary rows, packed rows, or 1-D integer symbols (e.g. class labels).
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
    return counts_a, counts_b, count_rows(keys)


def count_profile(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Profile of a count vector: the distinct counts and how many states have each.

    Parameters
    ----------
    counts : numpy.ndarray
        Non-negative integer counts.

    Returns
    -------
    values, multiplicities : numpy.ndarray
        ``int64`` arrays; ``multiplicities[j]`` states have count ``values[j]`` (> 0).
    """
    c = np.asarray(counts, dtype=np.int64)
    values, mult = np.unique(c[c > 0], return_counts=True)
    return values.astype(np.int64), mult.astype(np.int64)
