"""Counting distinct one-word keys by partitioning: the fast path of :mod:`counting`.

Keys are hashed and scattered into cache-sized buckets, and each bucket is counted in a
sparse open-addressing table; every phase runs in fixed chunks on the thread pool of
:mod:`mi_regimes._parallel` (serial ``nogil`` kernels), so the output order depends only
on the key values.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._parallel import N_CHUNKS, run_chunks

__all__ = ["partitioned_counts", "bucket_bits", "GOLDEN"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN = GOLDEN

# Bucket groups handled by one parallel task; each group owns one hash table.
_N_GROUPS = 64
# Tables get 2**_SPARSITY slots per key of a bucket: at load <= 1/8 a probe almost
# never collides, so the probe loop's branch is predictable. Larger buckets start from
# _START_KEYS keys' worth of slots and double when half full.
_SPARSITY = 3
_START_KEYS = 512


@nb.njit(cache=True)
def _bucket_offsets(hist):
    """Turn per-chunk bucket histograms into scatter positions (in place); bucket starts."""
    n_chunks, n_b = hist.shape
    start = np.empty(n_b + 1, np.int64)
    acc = 0
    for b in range(n_b):
        start[b] = acc
        for c in range(n_chunks):
            v = hist[c, b]
            hist[c, b] = acc
            acc += v
    start[n_b] = acc
    return start


@nb.njit(cache=True)
def _grow(tk, tc, slots, m, cap, shift):
    """Double a table of ``m`` keys; ``slots`` (first-appearance order) is updated."""
    new_cap = 2 * cap
    nk = np.zeros(new_cap, np.uint64)
    nc = np.zeros(new_cap, np.int64)
    mask = new_cap - 1
    for j in range(m):
        key = tk[slots[j]]
        h = np.int64(key >> shift) & mask
        while nk[h] != 0:
            h = (h + 1) & mask
        nk[h] = key
        nc[h] = tc[slots[j]]
        slots[j] = h
    return nk, nc, new_cap


@nb.njit(cache=True, inline="always")
def _slot_shift(bucket_bits, cap):
    # index a table by the hash bits just below the bucket bits: the high bits of a
    # multiplicative hash are the well-mixed ones
    log2_cap = 0
    while (1 << log2_cap) < cap:
        log2_cap += 1
    return np.uint64(64 - bucket_bits - log2_cap)


@nb.njit(cache=True)
def _insert_keys(part, i, hi, tk, tc, slots, m, cap, shift):
    """Insert ``part[i:hi]`` until done or the table is half full; return i, m, zeros."""
    mask = cap - 1
    half = cap // 2
    zero = 0
    while i < hi:
        key = part[i]
        i += 1
        if key == 0:
            zero += 1
            continue
        h = np.int64(key >> shift) & mask
        t = tk[h]
        while (t != key) & (t != 0):
            h = (h + 1) & mask
            t = tk[h]
        tk[h] = key
        slots[m] = h
        m += t == 0  # branch-free: a new key keeps its slot in first-appearance order
        tc[h] += 1
        if m > half:
            break
    return i, m, zero


@nb.njit(cache=True)
def _count_bucket(part, lo, hi, tk, tc, slots, bucket_bits):
    """Count the distinct hashed keys of ``part[lo:hi]``; write the counts to its front.

    ``tk``/``tc`` are an all-zero table (key 0 marks an empty slot, so the hashed key 0
    is counted apart) and are left all-zero. Returns the number of distinct keys and
    the table arrays, which may have grown.
    """
    cap = 16
    while cap < min(hi - lo, _START_KEYS) << _SPARSITY:
        cap *= 2
    shift = _slot_shift(bucket_bits, cap)
    m = 0
    zero = 0
    i = lo
    while True:
        # the insertion loop lives in its own function: growing (rebinding tk, tc)
        # inside it would cost reference counting on every key
        i, m, z = _insert_keys(part, i, hi, tk, tc, slots, m, cap, shift)
        zero += z
        if i == hi and 2 * m <= cap:
            break
        shift = _slot_shift(bucket_bits, 2 * cap)
        tk, tc, cap = _grow(tk, tc, slots, m, cap, shift)
    for j in range(m):
        h = slots[j]
        part[lo + j] = tc[h]
        tc[h] = 0
        tk[h] = 0
    if zero:
        part[lo + m] = zero
        m += 1
    return m, tk, tc


# Loops inside ``prange`` bodies are their own functions: Numba compiles a loop written
# in the body itself several times slower.
@nb.njit(cache=True, nogil=True)
def _histogram_buckets(keys, lo, hi, shift, hist):
    for i in range(lo, hi):
        hist[(keys[i] * _GOLDEN) >> shift] += 1


@nb.njit(cache=True, nogil=True)
def _scatter_hashes(keys, lo, hi, shift, pos, part):
    for i in range(lo, hi):
        h = keys[i] * _GOLDEN
        b = h >> shift
        part[pos[b]] = h
        pos[b] += 1


@nb.njit(cache=True, nogil=True)
def _count_group(part, start, b_lo, b_hi, bucket_bits, k_b):
    """Count buckets ``b_lo:b_hi`` with one table, sized for the biggest of them."""
    biggest = 0
    for b in range(b_lo, b_hi):
        biggest = max(biggest, start[b + 1] - start[b])
    cap = 16
    while cap < min(biggest, _START_KEYS) << _SPARSITY:
        cap *= 2
    tk = np.zeros(cap, np.uint64)
    tc = np.zeros(cap, np.int64)
    slots = np.empty(biggest + 1, np.int64)
    for b in range(b_lo, b_hi):
        k_b[b], tk, tc = _count_bucket(part, start[b], start[b + 1], tk, tc, slots, bucket_bits)


@nb.njit(cache=True, nogil=True)
def _gather_counts(part, start, dst, b_lo, b_hi, out):
    for b in range(b_lo, b_hi):
        lo = start[b]
        o = dst[b]
        for j in range(dst[b + 1] - o):
            out[o + j] = part[lo + j]


def partitioned_counts(keys: np.ndarray, bucket_bits: int, part: np.ndarray,
                       out: np.ndarray | None) -> np.ndarray:
    """Counts of distinct one-word keys, in parallel and cache-sized pieces.

    Keys are hashed by an odd multiplier (a bijection of uint64, so equal hashes mean
    equal keys) and scattered into ``part`` (``uint64[N]`` scratch) by the top
    ``bucket_bits`` of the hash (one pass; per-chunk histograms give stable offsets).
    Each bucket is then counted in a sparse open-addressing table that fits in L1/L2,
    indexed by the hash bits just below the bucket bits, and the counts overwrite the
    bucket's keys. Finally the counts are gathered to the front of ``out`` (which may be
    the keys' own buffer: they are no longer read), or with ``out=None`` compacted
    serially to the front of ``part``. Returns that front as an int64 view.
    Output order: buckets in hash order, keys by first appearance within a bucket;
    it depends only on the key values, never on the number of threads.
    """
    n = keys.shape[0]
    n_b = 1 << bucket_bits
    step = (n + N_CHUNKS - 1) // N_CHUNKS
    shift = np.uint64(64 - bucket_bits)
    hist = np.zeros((N_CHUNKS, n_b), np.int64)
    ranges = [(min(n, c * step), min(n, (c + 1) * step)) for c in range(N_CHUNKS)]
    run_chunks(lambda c: _histogram_buckets(keys, *ranges[c], shift, hist[c]))
    start = _bucket_offsets(hist)
    run_chunks(lambda c: _scatter_hashes(keys, *ranges[c], shift, hist[c], part))
    n_groups = min(_N_GROUPS, n_b)
    per = n_b // n_groups
    k_b = np.zeros(n_b, np.int64)
    run_chunks(lambda g: _count_group(part, start, g * per, (g + 1) * per, bucket_bits, k_b),
               n_groups)
    dst = np.zeros(n_b + 1, np.int64)
    np.cumsum(k_b, out=dst[1:])
    if out is None:  # serial, left to right: a bucket's counts never overtake unread ones
        _gather_counts(part, start, dst, 0, n_b, part)
        return part[:dst[n_b]].view(np.int64)
    run_chunks(lambda g: _gather_counts(part, start, dst, g * per, (g + 1) * per, out),
               n_groups)
    return out[:dst[n_b]].view(np.int64)


def bucket_bits(n: int) -> int:
    # 256 to 512 keys per bucket (measured best from 1e5 to 4e6 keys), and at least 64
    # buckets: one per group of the parallel loop.
    return int(min(16, max(6, np.ceil(np.log2(max(n, 1) / 512)))))
