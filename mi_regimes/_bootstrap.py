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


@nb.njit(cache=True)
def sum_nlogn(counts, table):
    """Σ n ln n; most counts are small, so a table lookup keeps this memory-bound."""
    s = 0.0
    for c in counts:
        s += table[c] if c < TABLE_SIZE else c * math.log(c)
    return s


@nb.njit(cache=True)
def plugin_kernel(counts, table):
    """Plug-in entropy (nats) of positive counts."""
    n = 0
    for c in counts:
        n += c
    # H >= 0 exactly; only rounding (one state: log N - N log N / N) could go below.
    return max(0.0, math.log(n) - sum_nlogn(counts, table) / n)


@nb.njit(cache=True)
def plugin_of(total, s):
    """Plug-in entropy (nats) from N and Σ n ln n."""
    return math.log(total) - s / total if total > 0 else 0.0


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
