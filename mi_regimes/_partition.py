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
from ._scratch import scratch, zeroed_scratch

__all__ = ["partitioned_counts", "bucket_bits", "GOLDEN"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN = GOLDEN

# Below this many keys handing chunks to a second thread costs more than it saves.
_SERIAL_KEYS = 1 << 15
# A bucket of n keys gets a table of 2**_SPARSITY slots per key (at load <= 1/8 a probe
# almost never collides, so the probe loop's branch is predictable) up to _SPARSE_SLOTS
# slots, and twice its keys beyond (a skewed bucket): it never needs to grow.
_SPARSITY = 3
_SPARSE_SLOTS = 1 << 16


def _bucket_offsets(hist: np.ndarray) -> np.ndarray:
    """Turn per-chunk bucket histograms into scatter positions (in place); bucket starts.

    Bucket-major, chunk-minor order: chunk c's keys of bucket b follow chunk c-1's.
    """
    flat = hist.T.ravel()  # a copy, bucket-major
    ends = np.cumsum(flat)
    hist[...] = (ends - flat).reshape(hist.shape[1], hist.shape[0]).T
    start = np.empty(hist.shape[1] + 1, np.int64)
    start[0] = 0
    start[1:] = ends.reshape(hist.shape[1], hist.shape[0])[:, -1]
    return start


def _log2_capacity(keys: np.ndarray) -> np.ndarray:
    """log2 of the table size for buckets of ``keys`` keys (at least 16 slots)."""
    want = np.maximum(np.minimum(keys << _SPARSITY, _SPARSE_SLOTS), 2 * keys)
    return np.maximum(4, np.ceil(np.log2(np.maximum(want, 1))).astype(np.int64))


@nb.njit(cache=True)
def _count_bucket(part, lo, hi, tk, tc, slots, log2_cap, shift):
    """Count the distinct hashed keys of ``part[lo:hi]``; write the counts to its front.

    ``tk``/``tc`` are an all-zero table of at least 2**log2_cap slots (key 0 marks an
    empty slot, so the hashed key 0 is counted apart) and are left all-zero; slots are
    indexed by the hash bits ``shift`` and up, just below the bucket bits (the high bits
    of a multiplicative hash are the well-mixed ones). Returns the number of distinct
    keys.
    """
    mask = (1 << log2_cap) - 1
    m = 0
    zero = 0
    for i in range(lo, hi):
        key = part[i]
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
    for j in range(m):
        h = slots[j]
        part[lo + j] = tc[h]
        tc[h] = 0
        tk[h] = 0
    if zero:
        part[lo + m] = zero
        m += 1
    return m


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
def _count_buckets(part, start, b_lo, b_hi, log2_caps, shifts, k_b, tk, tc, slots):
    """Count buckets ``b_lo:b_hi`` with one all-zero table (left all-zero) and slot list,
    sized by the caller for the biggest of them; each bucket uses its own table size."""
    for b in range(b_lo, b_hi):
        k_b[b] = _count_bucket(part, start[b], start[b + 1], tk, tc, slots, log2_caps[b],
                               shifts[b])


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
    threads = 1 if n < _SERIAL_KEYS else None
    step = (n + N_CHUNKS - 1) // N_CHUNKS
    shift = np.uint64(64 - bucket_bits)
    hist = np.zeros((N_CHUNKS, n_b), np.int64)
    ranges = [(min(n, c * step), min(n, (c + 1) * step)) for c in range(N_CHUNKS)]
    run_chunks(lambda c: _histogram_buckets(keys, *ranges[c], shift, hist[c]),
               threads=threads)
    start = _bucket_offsets(hist)
    run_chunks(lambda c: _scatter_hashes(keys, *ranges[c], shift, hist[c], part),
               threads=threads)
    # buckets are counted in N_CHUNKS ranges (one table each, from the running thread's
    # reused buffers: the kernels leave them all-zero)
    n_ranges = min(N_CHUNKS, n_b)
    per = n_b // n_ranges
    k_b = np.zeros(n_b, np.int64)
    sizes = np.diff(start)
    log2_caps = _log2_capacity(sizes)
    shifts = (64 - bucket_bits - log2_caps).astype(np.uint64)
    range_caps = (1 << log2_caps.reshape(n_ranges, per).max(axis=1)).tolist()
    range_keys = sizes.reshape(n_ranges, per).max(axis=1).tolist()

    def count_range(c: int) -> None:
        _count_buckets(part, start, c * per, (c + 1) * per, log2_caps, shifts, k_b,
                       zeroed_scratch("hash keys", range_caps[c], np.uint64),
                       zeroed_scratch("hash counts", range_caps[c], np.int64),
                       scratch("hash slots", (range_keys[c] + 1,), np.int64))

    run_chunks(count_range, n_ranges, threads=threads)
    dst = np.zeros(n_b + 1, np.int64)
    np.cumsum(k_b, out=dst[1:])
    if out is None:  # serial, left to right: a bucket's counts never overtake unread ones
        _gather_counts(part, start, dst, 0, n_b, part)
        return part[:dst[n_b]].view(np.int64)
    run_chunks(lambda c: _gather_counts(part, start, dst, c * per, (c + 1) * per, out),
               n_ranges, threads=threads)
    return out[:dst[n_b]].view(np.int64)


def bucket_bits(n: int) -> int:
    # 256 to 512 keys per bucket (measured best from 1e5 to 4e6 keys), and at least 64
    # buckets: N_CHUNKS ranges of at least 4.
    return int(min(16, max(6, np.ceil(np.log2(max(n, 1) / 512)))))
