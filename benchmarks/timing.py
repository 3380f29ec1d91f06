"""Shared timing helper of the benchmark scripts."""

from __future__ import annotations

import time

import numpy as np


def median_time(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def alternating_blocks(ours, peer, repeats: int, blocks: int = 3) -> tuple[float, float]:
    """Medians over blocks of ``repeats`` back-to-back calls, ours and the peer in turn.

    Each contender runs in its own steady state (caches, allocator, worker threads)
    as it would alone; alternating the blocks spreads drifts of the virtual machine over
    both. (Alternating single calls instead lets each one evict the other's buffers.)
    """
    a, b = [], []
    for _ in range(blocks):
        a.append(median_time(ours, repeats))
        b.append(median_time(peer, repeats))
    return float(np.median(a)), float(np.median(b))
