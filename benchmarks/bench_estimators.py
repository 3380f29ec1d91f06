"""Estimator speed, ours vs the NumPy / scikit-learn idioms, side by side in one run.

    python benchmarks/bench_estimators.py [--repeats 7]

Prints the median of repeats for each contender and the ratio; JIT compile time (with an
empty Numba cache, so it is real compilation) is reported separately.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="mi_regimes_bench_"))

import numpy as np  # noqa: E402
from timing import alternating_blocks, median_time  # noqa: E402

import mi_regimes as mr  # noqa: E402
from mi_regimes.counting import count_rows  # noqa: E402
from mi_regimes.estimators import estimate_counts  # noqa: E402


def plugin_from_counts(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def numpy_unique_rows(x: np.ndarray) -> float:
    _, counts = np.unique(x, axis=0, return_counts=True)
    return plugin_from_counts(counts)


def numpy_packed_unique(x: np.ndarray) -> float:
    packed = np.packbits(x, axis=1, bitorder="little")
    width = packed.shape[1]
    if width not in (1, 2, 4, 8):
        padded = np.zeros((packed.shape[0], 8), np.uint8)
        padded[:, :width] = packed
        packed, width = padded, 8
    words = packed.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[width]).ravel()
    _, counts = np.unique(words, return_counts=True)
    return plugin_from_counts(counts)


def row(label: str, ours: float, peer: float, target: str) -> None:
    print(f"  {label:<52} ours {ours * 1e3:9.2f} ms   peer {peer * 1e3:9.2f} ms   "
          f"ratio {peer / ours:7.1f}x   (target {target})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.n
    x32 = rng.integers(0, 2, size=(n, 32), dtype=np.uint8)
    x64 = (rng.random((n, 64)) < 0.1).astype(np.uint8)
    x16 = rng.integers(0, 2, size=(n, 16), dtype=np.uint8)
    labels = (x16[:, :4] @ np.array([1, 2, 4, 8]) + rng.integers(0, 3, n)) % 10

    t0 = time.perf_counter()
    mr.entropy(x32[:1000])
    mr.entropy(x32)
    mr.entropy(x64)
    estimate_counts(count_rows(x32), "bootstrap", n_boot=10, rng=0)
    estimate_counts([3, 2, 1], "bootstrap", n_boot=10, rng=0)
    mr.mutual_information(x16, labels)
    print(f"JIT compile + first calls: {time.perf_counter() - t0:.2f} s (excluded below)")
    print(f"N = {n:,} rows; median of {args.repeats} repeats\n")

    for name, x in (("32 bits, p=0.5", x32), ("64 bits, p=0.1", x64)):
        print(f"{name}:")
        assert math.isclose(mr.entropy(x), numpy_packed_unique(x), abs_tol=1e-9)
        ours, packed = alternating_blocks(lambda x=x: mr.entropy(x),
                                          lambda x=x: numpy_packed_unique(x), args.repeats)
        unique_rows = median_time(lambda x=x: numpy_unique_rows(x), max(1, args.repeats // 3))
        row("plug-in H vs np.unique(x, axis=0)", ours, unique_rows, ">= 100x")
        row("plug-in H vs packbits + np.unique(words)", ours, packed, ">= 2x")
        counts = count_rows(x)
        boot = median_time(
            lambda x=x: mr.entropy(x, "bootstrap", n_boot=1000, rng=1), args.repeats)
        label = f"bootstrap B=1000 (K_obs = {counts.size})"
        print(f"  {label:<52} ours {boot * 1e3:9.2f} ms"
              f"   = {boot / ours:5.1f}x one plug-in estimate   (target <= 10x)")

    from sklearn.metrics import mutual_info_score

    codes = x16 @ (1 << np.arange(16))
    assert math.isclose(mr.mutual_information(x16, labels),
                        mutual_info_score(codes, labels) / math.log(2), abs_tol=1e-9)
    ours = median_time(lambda: mr.mutual_information(x16, labels), args.repeats)
    peer = median_time(lambda: mutual_info_score(codes, labels), args.repeats)
    print("\n16-bit rows vs 10 labels:")
    row("plug-in MI (rows) vs sklearn mutual_info_score (codes)", ours, peer, ">= 10x")


if __name__ == "__main__":
    main()
