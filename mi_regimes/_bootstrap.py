"""The plug-in entropy of count vectors (nats), and bootstrap resampling of them.

The plug-in sum Σ n ln n is one Numba kernel (a table of n ln n for small counts keeps
it memory-bound), run in fixed chunks on the thread pool for long vectors so the result
does not depend on the number of threads.

Two bootstrap schemes, Numba kernels seeded from the caller's numpy Generator at entry
(their compile, ~5 s once, is paid only by commands that run a bootstrap). They draw
through :mod:`mi_regimes._draws` (SplitMix64 uniforms for small binomials and tabulated
Poisson draws, Numba's per-thread generator for the rest):

* multinomial: exact resamples of the count vector (a chain of conditional binomials),
  O(K_obs) per replicate;
* Poisson profile: each state gets Poisson(n_k) copies; states that share a count are
  exchangeable, so a class of m states with count v needs only its *occupancy numbers*
  (how many states get 0, 1, 2, ... copies), Multinomial(m, Poisson(v) pmf), drawn as a
  chain of binomials: O(#distinct counts) per replicate, or, where cheaper, each state's
  Poisson copies (:func:`_class_methods`). Conditional on its total N*, a Poisson resample
  is a multinomial resample of size N*.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._draws import binomial, build_table, draw_from_table, table_length
from ._parallel import N_CHUNKS, run_chunks
from ._profile import profile_of

__all__ = ["TABLE_SIZE", "nlogn", "nlogn_table", "plugin_nats", "plugin_nats_of_profile",
           "multinomial_replicates",
           "poisson_replicates"]

TABLE_SIZE = 1024
_TABLE = np.zeros(TABLE_SIZE)
_TABLE[2:] = np.arange(2, TABLE_SIZE) * np.log(np.arange(2, TABLE_SIZE))
_TABLE.flags.writeable = False
# Below this many counts Σ n ln n over the count profile takes well under a millisecond,
# and the kernel (compiled at first use, ~0.6 s) is not worth compiling; above it, the
# kernel runs in fixed chunks on the thread pool.
_NUMPY_COUNTS = 1 << 17


def nlogn_table() -> np.ndarray:
    """n·ln n for n < TABLE_SIZE (0 for n = 0, 1), read-only."""
    return _TABLE


@nb.njit(cache=True)
def _term(c, table):
    return table[c] if c < table.shape[0] else c * math.log(c)


@nb.njit(cache=True, nogil=True)
def sum_nlogn(counts, table, lo, hi):
    """(Σ n ln n, Σ n) over ``counts[lo:hi]``.

    Four partial sums in a fixed order: one running sum would wait on the latency of
    every addition, and the order (hence the rounding) must depend only on the counts.
    """
    s0 = s1 = s2 = s3 = 0.0
    total = 0
    stop = hi - (hi - lo) % 4
    for i in range(lo, stop, 4):
        s0 += _term(counts[i], table)
        s1 += _term(counts[i + 1], table)
        s2 += _term(counts[i + 2], table)
        s3 += _term(counts[i + 3], table)
        total += counts[i] + counts[i + 1] + counts[i + 2] + counts[i + 3]
    for i in range(stop, hi):
        s0 += _term(counts[i], table)
        total += counts[i]
    return (s0 + s1) + (s2 + s3), total


def plugin_of(total: int, s: float) -> float:
    """Plug-in entropy (nats) from N and Σ n ln n; >= 0 exactly (rounding aside)."""
    return max(0.0, math.log(total) - s / total) if total > 0 else 0.0


def plugin_nats_of_profile(values: np.ndarray, mult: np.ndarray) -> float:
    """Plug-in entropy (nats) from a count profile (:func:`profile_of`)."""
    return plugin_of(int(np.sum(values * mult)), float(np.sum(mult * nlogn(values))))


def plugin_nats(counts: np.ndarray, table: np.ndarray | None = None) -> float:
    """Plug-in entropy (nats) of a positive int64 count vector, in fixed chunks."""
    table = _TABLE if table is None else table
    k = counts.shape[0]
    if k < _NUMPY_COUNTS:
        return plugin_nats_of_profile(*profile_of(counts))
    step = (k + N_CHUNKS - 1) // N_CHUNKS
    parts = run_chunks(lambda c: sum_nlogn(counts, table, min(k, c * step),
                                           min(k, (c + 1) * step)))
    s = 0.0
    total = 0
    for part_s, part_total in parts:  # in chunk order: the same sum for any thread count
        s += part_s
        total += int(part_total)
    return plugin_of(total, s)


def nlogn(x: np.ndarray) -> np.ndarray:
    """n·ln n elementwise for non-negative integer arrays."""
    small = x < TABLE_SIZE
    out = _TABLE[np.where(small, x, 0)]
    if not small.all():
        big = x[~small].astype(np.float64)
        out[~small] = big * np.log(big)
    return out


@nb.njit(cache=True, inline="always")
def _plugin_of(total, s):
    return max(0.0, math.log(total) - s / total) if total > 0 else 0.0


# Costs in ns, measured on the 2-core AVX2 machine (a /tmp script timing each way for
# v = 1 ... 100 and m = 10 ... 1000; docs/benchmarks.md). They only choose how each class
# is drawn: every way draws from the same distribution.
_NS_POISSON = 70.0        # one np.random.poisson(v), v >= 10 (transformed rejection)
_NS_POISSON_SMALL = 8.0   # per unit of v below 10 (multiplication of uniforms), + 15
_NS_TABLE_DRAW = 8.0      # one draw by guide-table inversion, SplitMix64 uniforms
_NS_TABLE_ENTRY = 10.0    # one table entry built (once per call)
_NS_CHAIN_STEP = 10.0     # one binomial of the occupancy chain, + 12 per doubling of m
_BY_DIRECT, _BY_CHAIN, _BY_TABLE = 0, 1, 2
#: Most table entries one call builds (CDF and guide: 64 MiB); classes past it draw
#: another way, so memory stays bounded whatever the counts.
_TABLE_ROOM = 1 << 22


@nb.njit(cache=True, inline="always")
def _stream(seed):
    """The SplitMix64 state of a kernel seeded with ``seed`` (beside Numba's generator,
    which the large binomials and direct Poisson draws still use)."""
    return np.uint64(seed) * np.uint64(0xD1B54A32D192ED03)


@nb.njit(cache=True)
def _class_methods(values, mult, n_boot):
    """How each class (m states sharing count v) is drawn: the cheapest expected way.

    direct: m Poisson draws; table: m draws from a tabulated CDF built once per call;
    chain: the occupancy numbers as a chain of binomials, one per count 0, 1, ... up to
    about the largest of m Poisson(v) draws.
    """
    n_cls = values.shape[0]
    methods = np.empty(n_cls, np.int64)
    room = np.zeros(n_cls + 1, np.int64)  # offsets of the tables in one buffer
    for j in range(n_cls):
        v = float(values[j])
        m = float(mult[j])
        per_draw = _NS_POISSON if v >= 10 else 15.0 + _NS_POISSON_SMALL * v
        direct = m * per_draw
        length = table_length(v)
        table = m * _NS_TABLE_DRAW + length * _NS_TABLE_ENTRY / n_boot
        steps = v + math.sqrt(2.0 * v * math.log(m + 1.0)) + 3.0  # ~ the largest draw
        chain = steps * (_NS_CHAIN_STEP + 12.0 * math.log2(m)) if m > 1 else math.inf
        if room[j] + length > _TABLE_ROOM:
            table = math.inf
        best = min(direct, table, chain)
        methods[j] = _BY_DIRECT if best == direct else (
            _BY_TABLE if best == table else _BY_CHAIN)
        room[j + 1] = room[j] + (length if methods[j] == _BY_TABLE else 0)
    return methods, room


@nb.njit(cache=True, nogil=True)
def _poisson_kernel(values, mult, n_boot, seed, table):
    """Plug-in entropies of Poisson resamples, drawn class by class from the profile.

    Each class of ``m`` states sharing count ``v`` is drawn the cheapest way
    (:func:`_class_methods`): m Poisson(v) draws, directly or by inverting a tabulated
    CDF, or its occupancy numbers (how many states get 0, 1, 2, ... copies), i.e.
    Multinomial(m, Poisson(v) pmf), as a chain of binomials.
    """
    np.random.seed(seed)
    state = _stream(seed)
    out = np.empty(n_boot)
    totals = np.empty(n_boot)
    n_cls = values.shape[0]
    methods, room = _class_methods(values, mult, n_boot)
    cdfs = np.empty(room[n_cls])
    guides = np.empty(room[n_cls], np.int64)
    starts = np.zeros(n_cls, np.int64)
    sizes = np.zeros(n_cls, np.int64)
    for j in range(n_cls):
        if methods[j] == _BY_TABLE:
            a, b = room[j], room[j + 1]
            starts[j], sizes[j] = build_table(float(values[j]), cdfs[a:b], guides[a:b])
    for b in range(n_boot):
        total = 0
        s = 0.0
        for j in range(n_cls):
            v = values[j]
            m = mult[j]
            method = methods[j]
            if method == _BY_TABLE:
                a = room[j]
                cdf, guide = cdfs[a:room[j + 1]], guides[a:room[j + 1]]
                lo, used = starts[j], sizes[j]
                for _ in range(m):
                    state, k = draw_from_table(cdf, guide, lo, used, state)
                    total += k
                    s += table[k] if k < TABLE_SIZE else k * math.log(k)
                continue
            if method == _BY_DIRECT:
                for _ in range(m):
                    k = np.random.poisson(v)
                    total += k
                    s += table[k] if k < TABLE_SIZE else k * math.log(k)
                continue
            remaining = m
            p_k = math.exp(-v)
            tail = 1.0
            k = 0
            while remaining > 0:
                q = min(1.0, p_k / tail) if tail > 0 else 1.0
                state, z = binomial(remaining, q, state)
                if z > 0:
                    total += z * k
                    s += z * (table[k] if k < TABLE_SIZE else k * math.log(k))
                    remaining -= z
                tail -= p_k
                k += 1
                p_k *= v / k
        out[b] = _plugin_of(total, s)
        totals[b] = total
    return out, totals


@nb.njit(cache=True, nogil=True)
def _multinomial_kernel(counts, n_boot, seed, table):
    """Plug-in entropies of exact multinomial resamples (conditional binomial chain)."""
    np.random.seed(seed)
    state = _stream(seed)
    n = 0
    for c in counts:
        n += c
    out = np.empty(n_boot)
    for b in range(n_boot):
        remaining = n
        left = float(n)
        s = 0.0
        for c in counts:
            if remaining == 0:
                break
            state, k = binomial(remaining, min(1.0, c / left), state)
            remaining -= k
            left -= c
            s += table[k] if k < TABLE_SIZE else k * math.log(k)
        out[b] = _plugin_of(n, s)
    return out


def _seed(rng: np.random.Generator) -> int:
    # Numba's generator is per thread and seeded here, from the caller's Generator: the
    # same Generator state gives the same replicates
    return int(rng.integers(0, 2**31 - 1))


def multinomial_replicates(counts: np.ndarray, n_boot: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies (nats) of ``n_boot`` exact multinomial resamples."""
    return _multinomial_kernel(counts, n_boot, _seed(rng), _TABLE)


def poisson_replicates(values: np.ndarray, mult: np.ndarray, n_boot: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies (nats) of Poisson resamples, drawn class by class from the profile.

    A class of ``m`` states sharing count ``v`` needs only the occupancy numbers of its
    resample, Multinomial(m, Poisson(v) pmf), drawn as a chain of binomials; where m
    Poisson draws cost less (small classes, large counts) they are drawn instead, from a
    tabulated CDF when many share it.

    Each replicate's size N* varies (Poisson(N)), and where the plug-in follows
    log N* (few repeats: the undersampled regime) that alone widened the replicates'
    spread by up to 1.4x over the multinomial bootstrap's. Conditional on N* = t a Poisson
    resample *is* a multinomial one of size t, so the replicates are returned with their
    linear dependence on N* - N removed (least squares over the replicates; N* - N has
    known mean 0, so their expected mean is unchanged up to a term of order 1/B, the
    slope's covariance with the mean of N* - N): their spread is then the
    multinomial one of size N to first order. With fewer than 10 replicates they are
    returned as drawn.
    """
    reps, totals = _poisson_kernel(values, mult, n_boot, _seed(rng), _TABLE)
    return _sized_to_n(reps, totals - float(np.sum(values * mult)))


#: Fewest replicates whose dependence on their size is estimated and removed.
_MIN_ADJUSTED = 10


def _sized_to_n(reps: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """``reps - slope * excess``, the least-squares slope of ``reps`` on ``excess``."""
    if reps.size < _MIN_ADJUSTED:
        return reps
    centred = excess - excess.mean()
    spread = float(np.dot(centred, centred))
    if spread == 0.0:
        return reps
    slope = float(np.dot(centred, reps - reps.mean())) / spread
    return reps - slope * excess
