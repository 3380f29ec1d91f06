"""Bootstrap resampling kernels (nats), and the n·log n table they share with the plug-in.

Two schemes, both giving the plug-in entropy of each resample:

* multinomial — the exact resample of the count vector, drawn as a chain of conditional
  binomials, O(K_obs) per replicate;
* Poisson profile — each state gets Poisson(n_k) copies; states that share a count are
  exchangeable, so each class of equal counts only needs its occupancy numbers, drawn as a
  chain of binomials: O(#distinct counts) per replicate. Conditional on its total N*, a
  Poisson resample is a multinomial resample of size N*.

The kernels draw from Numba's generator, seeded from the caller's numpy Generator.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

TABLE_SIZE = 1024


@nb.njit(cache=True)
def nlogn_table():
    """n·ln n for n < TABLE_SIZE (0 for n = 0, 1)."""
    t = np.zeros(TABLE_SIZE)
    for i in range(2, TABLE_SIZE):
        t[i] = i * math.log(i)
    return t


@nb.njit(cache=True, inline="always")
def _nlogn(c, table):
    return table[c] if c < TABLE_SIZE else c * math.log(c)


@nb.njit(cache=True)
def sum_nlogn(counts, table):
    """Σ n ln n; most counts are small, so a table lookup keeps this memory-bound.

    Four partial sums in a fixed order: one running sum would wait on the latency of
    every addition, and the order (hence the rounding) must not depend on anything
    but the counts.
    """
    s0 = s1 = s2 = s3 = 0.0
    n = counts.shape[0]
    stop = n - n % 4
    for i in range(0, stop, 4):
        s0 += _nlogn(counts[i], table)
        s1 += _nlogn(counts[i + 1], table)
        s2 += _nlogn(counts[i + 2], table)
        s3 += _nlogn(counts[i + 3], table)
    for i in range(stop, n):
        s0 += _nlogn(counts[i], table)
    return (s0 + s1) + (s2 + s3)


@nb.njit(cache=True)
def plugin_of(total, s):
    """Plug-in entropy (nats) from N and Σ n ln n.

    H >= 0 exactly; only rounding (one state: log N - N log N / N) could go below.
    """
    return max(0.0, math.log(total) - s / total) if total > 0 else 0.0


@nb.njit(cache=True)
def plugin_kernel(counts, table):
    """Plug-in entropy (nats) of positive counts."""
    n = 0
    for c in counts:
        n += c
    return plugin_of(n, sum_nlogn(counts, table))


_N_CHUNKS = 16
# Below this many counts a parallel region costs more than it saves.
PARALLEL_COUNTS = 1 << 16


@nb.njit(cache=True, parallel=True)
def plugin_kernel_parallel(counts, table):
    """``plugin_kernel`` over a fixed number of chunks, summed in a fixed order.

    The result therefore does not depend on the number of threads.
    """
    k = counts.shape[0]
    chunk = (k + _N_CHUNKS - 1) // _N_CHUNKS
    sums = np.zeros(_N_CHUNKS)
    totals = np.zeros(_N_CHUNKS, np.int64)
    for c in nb.prange(_N_CHUNKS):
        lo = min(k, c * chunk)
        hi = min(k, lo + chunk)
        sums[c] = sum_nlogn(counts[lo:hi], table)
        t = 0
        for i in range(lo, hi):
            t += counts[i]
        totals[c] = t
    s = 0.0
    n = 0
    for c in range(_N_CHUNKS):
        s += sums[c]
        n += totals[c]
    return plugin_of(n, s)


def plugin_nats(counts: np.ndarray, table: np.ndarray) -> float:
    """Plug-in entropy (nats) of a positive int64 count vector, in parallel when long."""
    if counts.shape[0] >= PARALLEL_COUNTS:
        return plugin_kernel_parallel(counts, table)
    return plugin_kernel(counts, table)


@nb.njit(cache=True)
def poisson_replicates(values, mult, n_boot, seed, table):
    """Plug-in entropies of Poisson resamples, drawn class by class from the profile.

    States that share an observed count ``v`` are exchangeable, so a class of ``m`` such
    states needs only the occupancy numbers of its resample: how many states get 0, 1,
    2, ... copies, i.e. Multinomial(m, Poisson(v) pmf), drawn as a chain of binomials.
    """
    np.random.seed(seed)
    out = np.empty(n_boot)
    n_cls = values.shape[0]
    for b in range(n_boot):
        total = 0
        s = 0.0
        for j in range(n_cls):
            v = values[j]
            m = mult[j]
            if m <= 64 or v > 50:
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
                z = np.random.binomial(remaining, q)
                if z > 0:
                    total += z * k
                    s += z * (table[k] if k < TABLE_SIZE else k * math.log(k))
                    remaining -= z
                tail -= p_k
                k += 1
                p_k *= v / k
        out[b] = plugin_of(total, s)
    return out


@nb.njit(cache=True)
def multinomial_replicates(counts, n_boot, seed, table):
    """Plug-in entropies of exact multinomial resamples (conditional binomial chain)."""
    np.random.seed(seed)
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
            k = np.random.binomial(remaining, min(1.0, c / left))
            remaining -= k
            left -= c
            s += table[k] if k < TABLE_SIZE else k * math.log(k)
        out[b] = plugin_of(n, s)
    return out
