"""How steady is this machine? Fixed one-thread loops, alone and two copies at once.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/machine_noise.py [--repeats 4]

Every other benchmark's ratios are only as good as this spread: if the same loop varies by
30 % from run to run, a 1.3x target cannot be read off one run. Two loops, each on one
thread: pure Python (2·10⁷ integer additions, almost no memory), and float32 products on
one BLAS thread of a small network's sizes (64x256 by 256x256, 3000 times), the arithmetic
a BNN step does most. On two free cores two copies should each take as long as one alone;
what they lose is what any one-thread program loses here when the other core is in use
(virtual cores sharing a physical one share its vector units).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _loop() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - start


def _products() -> float:
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 256)).astype(np.float32)
    b = rng.standard_normal((256, 256)).astype(np.float32)
    out = np.empty((64, 256), np.float32)
    with threadpool_limits(1, user_api="blas"):
        np.matmul(a, b, out=out)
        start = time.perf_counter()
        for _ in range(3000):
            np.matmul(a, b, out=out)
        return time.perf_counter() - start


def _child(work: str) -> subprocess.Popen:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import machine_noise; "
            f"print(machine_noise.{work}())")
    here = sys.path[0]
    return subprocess.Popen([sys.executable, "-c", code, here], stdout=subprocess.PIPE,
                            text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    for work, label in (("_loop", "pure Python loop"), ("_products", "one-thread BLAS products")):
        alone, paired = [], []
        for _ in range(args.repeats):  # interleaved, so a slow spell hits both conditions
            alone.append(float(_child(work).communicate()[0]))
            procs = [_child(work), _child(work)]
            paired += [float(p.communicate()[0]) for p in procs]
        print(label)
        for name, xs in (("alone", alone), ("two at once", paired)):
            print(f"  {name:12s} median {statistics.median(xs):.3f} s, range "
                  f"{min(xs):.3f}-{max(xs):.3f} s ({max(xs) / min(xs):.2f}x), n = {len(xs)}")
        print(f"  two at once / alone (medians): "
              f"{statistics.median(paired) / statistics.median(alone):.2f}")


if __name__ == "__main__":
    main()
