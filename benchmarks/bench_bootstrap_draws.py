"""What each way of drawing a Poisson-bootstrap class costs, and the programmes' two paths.

    python benchmarks/bench_bootstrap_draws.py

Part 1, per class of m states sharing count v (2000 replicates, one thread): ns per draw
of Numba's ``np.random.poisson`` (the old way) and of the tabulated CDF
(``mi_regimes._draws``), and ns per binomial of the occupancy chain. These are the costs
``mi_regimes._bootstrap._class_methods`` chooses by. JIT compile time is reported apart.

Part 2: one verdict programme through ``scipy.optimize.linprog`` and through
``mi_regimes._highs.minimise`` (SciPy's HiGHS binding), medians over the programmes of a
small grid, side by side, with the ratio.
"""

from __future__ import annotations

import math
import statistics
import time

import numba as nb
import numpy as np

from mi_regimes._draws import binomial, build_table, draw_from_table, table_length

REPLICATES = 2000


@nb.njit
def _direct(v, m, reps):
    np.random.seed(1)
    total = 0
    for _ in range(reps):
        for _ in range(m):
            total += np.random.poisson(v)
    return total


@nb.njit
def _table(v, m, reps):
    room = table_length(v)
    cdf, guide = np.empty(room), np.empty(room, np.int64)
    lo, used = build_table(v, cdf, guide)
    state = np.uint64(5)
    total = 0
    for _ in range(reps):
        for _ in range(m):
            state, k = draw_from_table(cdf, guide, lo, used, state)
            total += k
    return total


@nb.njit
def _chain(v, m, reps):
    np.random.seed(1)
    state = np.uint64(3)
    steps = 0
    for _ in range(reps):
        remaining, p_k, tail, k = m, math.exp(-v), 1.0, 0
        while remaining > 0:
            q = min(1.0, p_k / tail) if tail > 0 else 1.0
            state, z = binomial(remaining, q, state)
            steps += 1
            remaining -= z
            tail -= p_k
            k += 1
            p_k *= v / k
    return steps


def draws() -> None:
    start = time.perf_counter()
    _direct(3.0, 2, 2), _table(3.0, 2, 2), _chain(3.0, 2, 2)
    print(f"JIT compile: {time.perf_counter() - start:.1f} s")
    print(f"{'v':>6} {'m':>6} {'direct ns':>10} {'table ns':>9} {'ratio':>6} "
          f"{'chain ns/step':>14} {'steps/rep':>10}")
    for v in (1.0, 3.0, 8.0, 20.0, 32.0, 100.0):
        for m in (10, 100, 1000):
            t0 = time.perf_counter()
            _direct(v, m, REPLICATES)
            t1 = time.perf_counter()
            _table(v, m, REPLICATES)
            t2 = time.perf_counter()
            steps = _chain(v, m, REPLICATES)
            t3 = time.perf_counter()
            direct = (t1 - t0) / (REPLICATES * m) * 1e9
            table = (t2 - t1) / (REPLICATES * m) * 1e9
            print(f"{v:6.0f} {m:6d} {direct:10.1f} {table:9.1f} {direct / table:6.1f} "
                  f"{(t3 - t2) / steps * 1e9:14.1f} {steps / REPLICATES:10.1f}")


def programmes() -> None:
    from scipy import optimize

    import mi_regimes._fingerprint_lp as fingerprint_lp
    from mi_regimes import _highs
    from mi_regimes.regimes import run_grid

    recorded = []
    solve = fingerprint_lp.minimise
    fingerprint_lp.minimise = lambda *args: recorded.append(args) or solve(*args)
    fingerprint_lp._bias_range.cache_clear()
    run_grid("bernoulli", {}, [2**k for k in (4, 8, 12, 16)], [3, 12, 25, 38], ["plugin"],
             reps=10, jobs=1, verdict_reps=10, progress=False)
    fingerprint_lp.minimise = solve
    ours, peer = [], []
    for c, a_ub, b_ub, a_eq, b_eq in recorded:
        for _ in range(3):
            t0 = time.perf_counter()
            optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                             method="highs")
            t1 = time.perf_counter()
            _highs.minimise(c, a_ub, b_ub, a_eq, b_eq)
            t2 = time.perf_counter()
            peer.append(t1 - t0)
            ours.append(t2 - t1)
    p, o = statistics.median(peer) * 1e3, statistics.median(ours) * 1e3
    print(f"{len(recorded)} programmes, 3 repeats each (HiGHS binding used: "
          f"{_highs.fast_path_available()})")
    print(f"linprog {p:.2f} ms, minimise {o:.2f} ms, ratio {p / o:.2f}x")


if __name__ == "__main__":
    draws()
    programmes()
