"""The plug-in entropy of count vectors (nats), and bootstrap resampling of them.

The plug-in sum Σ n ln n is one Numba kernel (a table of n ln n for small counts keeps
it memory-bound), run in fixed chunks on the thread pool for long vectors so the result
does not depend on the number of threads.

Two bootstrap schemes, both vectorised NumPy drawing from the caller's Generator (no
compiled random-number code, nothing seeded globally):

* multinomial: exact resamples of the count vector, O(K_obs) per replicate;
* Poisson profile: each state gets Poisson(n_k) copies; states that share a count are
  exchangeable, so a class of m states with count v needs only its *occupancy numbers*
  (how many states get 0, 1, 2, ... copies), Multinomial(m, Poisson(v) pmf), drawn for
  all replicates in one call: O(#distinct counts) per replicate. Conditional on its
  total N*, a Poisson resample is a multinomial resample of size N*.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import special

from ._parallel import N_CHUNKS, run_chunks

__all__ = ["TABLE_SIZE", "nlogn_table", "plugin_nats", "multinomial_replicates",
           "poisson_replicates"]

TABLE_SIZE = 1024
_TABLE = np.zeros(TABLE_SIZE)
_TABLE[2:] = np.arange(2, TABLE_SIZE) * np.log(np.arange(2, TABLE_SIZE))
_TABLE.flags.writeable = False
# Below this many counts one chunk is cheaper than handing chunks to threads.
_SERIAL_COUNTS = 1 << 16
# Resampled values held at once (bounds the memory of a batch of replicates).
_BATCH_VALUES = 1 << 22


def nlogn_table() -> np.ndarray:
    """n·ln n for n < TABLE_SIZE (0 for n = 0, 1), read-only."""
    return _TABLE


@nb.njit(cache=True, inline="always")
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


def plugin_nats(counts: np.ndarray, table: np.ndarray | None = None) -> float:
    """Plug-in entropy (nats) of a positive int64 count vector, in fixed chunks."""
    table = _TABLE if table is None else table
    k = counts.shape[0]
    if k < _SERIAL_COUNTS:
        s, total = sum_nlogn(counts, table, 0, k)
        return plugin_of(int(total), s)
    step = (k + N_CHUNKS - 1) // N_CHUNKS
    parts = run_chunks(lambda c: sum_nlogn(counts, table, min(k, c * step),
                                           min(k, (c + 1) * step)))
    s = 0.0
    total = 0
    for part_s, part_total in parts:  # in chunk order: the same sum for any thread count
        s += part_s
        total += int(part_total)
    return plugin_of(total, s)


def _nlogn(x: np.ndarray) -> np.ndarray:
    """n·ln n elementwise for non-negative integer arrays."""
    small = x < TABLE_SIZE
    out = _TABLE[np.where(small, x, 0)]
    if not small.all():
        big = x[~small].astype(np.float64)
        out[~small] = big * np.log(big)
    return out


def multinomial_replicates(counts: np.ndarray, n_boot: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies (nats) of ``n_boot`` exact multinomial resamples."""
    n = int(counts.sum())
    p = counts / n
    out = np.empty(n_boot)
    batch = max(1, _BATCH_VALUES // counts.size)
    for b0 in range(0, n_boot, batch):
        draws = rng.multinomial(n, p, size=min(batch, n_boot - b0))
        out[b0:b0 + draws.shape[0]] = math.log(n) - _nlogn(draws).sum(axis=1) / n
    return np.maximum(out, 0.0)


def _poisson_window(v: int) -> tuple[np.ndarray, np.ndarray]:
    """Copies k where Poisson(v) has mass (outside: < 1e-30) and their pmf, renormalised."""
    spread = 12.0 * math.sqrt(v) + 30.0
    k = np.arange(max(0, int(v - spread)), int(v + spread) + 1)
    log_pmf = k * math.log(v) - v - special.gammaln(k + 1.0)
    pmf = np.exp(log_pmf - log_pmf.max())
    return k, pmf / pmf.sum()


def poisson_replicates(values: np.ndarray, mult: np.ndarray, n_boot: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Plug-in entropies (nats) of Poisson resamples, drawn class by class from the profile.

    Classes of more than 64 states draw their occupancy numbers (one multinomial per
    replicate, over the window where Poisson(v) has mass); smaller classes draw each
    state's copies.
    """
    totals = np.zeros(n_boot, np.int64)
    sums = np.zeros(n_boot)
    big = mult > 64
    for v, m in zip(values[big].tolist(), mult[big].tolist(), strict=True):
        k, pmf = _poisson_window(v)
        occupancy = rng.multinomial(m, pmf, size=n_boot)
        totals += occupancy @ k
        sums += occupancy @ _nlogn(k)
    per_state = np.repeat(values[~big], mult[~big])
    if per_state.size:
        batch = max(1, _BATCH_VALUES // per_state.size)
        for b0 in range(0, n_boot, batch):
            draws = rng.poisson(per_state, size=(min(batch, n_boot - b0), per_state.size))
            totals[b0:b0 + draws.shape[0]] += draws.sum(axis=1)
            sums[b0:b0 + draws.shape[0]] += _nlogn(draws).sum(axis=1)
    safe = np.maximum(totals, 1)
    return np.where(totals > 0, np.maximum(np.log(safe) - sums / safe, 0.0), 0.0)
