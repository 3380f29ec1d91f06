"""How steady is this machine? A fixed pure-Python loop, alone and two copies at once.

    python benchmarks/machine_noise.py [--repeats 4]

Every other benchmark's ratios are only as good as this spread: if the same loop varies by
30 % from run to run, a 1.3x target cannot be read off one run. The loop (2·10⁷ integer
additions) uses one core and almost no memory, so two copies on two free cores should
each take as long as one alone.
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


def _child() -> subprocess.Popen:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import machine_noise; "
            "print(machine_noise._loop())")
    here = sys.path[0]
    return subprocess.Popen([sys.executable, "-c", code, here], stdout=subprocess.PIPE,
                            text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    alone, paired = [], []
    for _ in range(args.repeats):  # interleaved, so a slow spell hits both conditions
        alone.append(float(_child().communicate()[0]))
        procs = [_child(), _child()]
        paired += [float(p.communicate()[0]) for p in procs]
    for name, xs in (("alone", alone), ("two at once", paired)):
        print(f"{name:12s} median {statistics.median(xs):.3f} s, range "
              f"{min(xs):.3f}-{max(xs):.3f} s ({max(xs) / min(xs):.2f}x), n = {len(xs)}")
    print(f"two at once / alone (medians): "
          f"{statistics.median(paired) / statistics.median(alone):.2f}")


if __name__ == "__main__":
    main()
