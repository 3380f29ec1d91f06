"""Cold start: the first ``mi-regimes estimate`` and ``train``, with an empty cache.

    python benchmarks/bench_cold_start.py [--repeats 5]

Runs the command in fresh processes with an empty Numba cache (the state of a fresh
install), then once more with the cache filled, and prints the median wall times and
the compile time of every kernel the command compiled (Numba's compile events, with
nested kernels counted inside their callers). ``estimate`` runs on a 10^5 x 32 array,
also with ``--estimator bootstrap`` (resampling kernels the default does not use);
``train`` fits tishby12 for 2 epochs (the trainer's kernels and its compiled step).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

_PROFILE = r"""
import json, sys, time
from numba.core import event
manager = event.install_recorder("numba:compile")
recorder = manager.__enter__()
from mi_regimes.cli import main
main(sys.argv[1:])
manager.__exit__(None, None, None)
starts, rows = {}, []
for ts, ev in recorder.buffer:
    key = (id(ev.data["dispatcher"]), str(ev.data["args"]))
    if ev.is_start:
        starts[key] = (ts, len(starts))
    else:
        t0, depth = starts.pop(key)
        fn = ev.data["dispatcher"].py_func
        rows.append((fn.__module__ + "." + fn.__name__, ts - t0, len(starts)))
print("@@" + json.dumps(rows))
"""


def run(args: list[str], cache: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mi_regimes", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def compile_times(args: list[str]) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([sys.executable, "-c", _PROFILE, *args], check=True,
                             capture_output=True, text=True,
                             env=dict(os.environ, NUMBA_CACHE_DIR=cache)).stdout
    rows = json.loads(out.split("@@", 1)[1])
    top = [(name, t) for name, t, depth in rows if depth == 0]  # nested ones are inside
    return sorted(top, key=lambda r: -r[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "x32.npy")
        np.save(data, np.random.default_rng(0).integers(0, 2, (100_000, 32), dtype=np.uint8))
        train = ["train", "--epochs", "2", "--snapshots", "2", "--quiet", "--out",
                 os.path.join(folder, "run")]
        for label, args in (("estimate, default (plugin, miller_madow, nsb)", ["estimate", data]),
                            ("estimate --estimator bootstrap",
                             ["estimate", data, "--estimator", "bootstrap"]),
                            ("train, tishby12, 2 epochs", train)):
            cold = []
            for _ in range(opts.repeats):
                with tempfile.TemporaryDirectory() as cache:
                    cold.append(run(args, cache))
                    warm = [run(args, cache) for _ in range(2)]
            print(f"mi-regimes {label}: cold {statistics.median(cold):.2f} s "
                  f"(runs {', '.join(f'{t:.2f}' for t in cold)}), warm "
                  f"{min(warm):.2f} s")
            kernels = compile_times(args)
            print(f"  compiled {len(kernels)} kernels, {sum(t for _, t in kernels):.2f} s:")
            for name, t in kernels:
                print(f"    {t:6.2f} s  {name}")


if __name__ == "__main__":
    main()
