"""What one verdict interval [L, U] costs: quiet, with one core kept busy, two at once.

    python benchmarks/bench_verdict_interval.py

Each interval solves the two fingerprint programmes (mi_regimes._fingerprint_lp). Times the
median over 40 fresh samples (Zipf over 3000 states, N = 4000; each a new count profile, so
the interval cache does not answer) for alphabets of 2**12, 2**64 and 2**1024 states; the
first call per (N, K), which builds the grids, is reported apart. Conditions: alone; while
a process this script starts keeps one core busy; and two copies of the timing at once.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CHILD = "--child"
ALPHABETS = (12, 64, 1024)


def child() -> None:
    import numpy as np

    from mi_regimes._bounds import entropy_interval, summarize_counts

    rng = np.random.default_rng(0)
    pmf = 1.0 / np.arange(1, 3001)
    pmf /= pmf.sum()
    profiles = [summarize_counts(c[c > 0]) for c in rng.multinomial(4000, pmf, size=41)]
    parts = []
    for bits in ALPHABETS:
        start = time.perf_counter()
        entropy_interval(profiles[0], 2**bits)
        first = time.perf_counter() - start
        times = []
        for s in profiles[1:]:
            start = time.perf_counter()
            entropy_interval(s, 2**bits)
            times.append(time.perf_counter() - start)
        parts.append(f"K=2^{bits}: {1000 * statistics.median(times):.1f} ms "
                     f"(first {1000 * first:.0f} ms)")
    print("; ".join(parts), flush=True)


def timed(copies: int) -> list[str]:
    procs = [subprocess.Popen([sys.executable, __file__, CHILD], stdout=subprocess.PIPE,
                              text=True) for _ in range(copies)]
    return [p.communicate()[0].strip() for p in procs]


def main() -> None:
    print("quiet:       ", timed(1)[0])
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        print("one core busy:", timed(1)[0])
    finally:
        busy.kill()
        busy.wait()
    for i, line in enumerate(timed(2)):
        print(f"two at once #{i + 1}:", line)


if __name__ == "__main__":
    if CHILD in sys.argv:
        child()
    else:
        main()
