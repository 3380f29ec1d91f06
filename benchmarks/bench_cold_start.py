"""Cold start: the first ``mi-regimes estimate`` and ``train``, with an empty cache.

    python benchmarks/bench_cold_start.py [--repeats 5]

Runs the command in fresh processes with an empty Numba cache (the state of a fresh
install), then once more with the cache filled, and prints the median wall times and
the compile time of every kernel the command compiled (Numba's compile events, with
nested kernels counted inside their callers). ``estimate`` runs on a 10^5 x 32 array,
also with ``--estimator bootstrap`` (resampling kernels the default does not use);
``train`` fits tishby12 for 2 epochs (the trainer's kernels and its compiled step).

    python benchmarks/bench_cold_start.py --heatmap [--repeats 3]

times the main job instead: first the grid's two warm-up shares, cold, at once in two
processes; then ``mi-regimes heatmap`` with its defaults (two workers), cold,
with the grid's warm-ups (each kernel compiled by one worker, then loaded by the other)
and without them (every worker compiles every kernel), alternated; then warm once each.
The CSVs are checked equal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


# the heatmap with or without the grid's warm-ups (argv[1]: "on" or "off")
_HEATMAP = r"""
import sys
from mi_regimes import regimes
if sys.argv[1] == "off":
    regimes._warmups = lambda cells: []
from mi_regimes.cli import main
out = sys.argv[2]
sys.exit(main(["heatmap", "--quiet", "--out", out + ".png", "--csv", out + ".csv"]))
"""


# one share of the default grid's warm-ups (argv[1]: its index), timed
_SHARE = r"""
import sys, time
import numpy as np
from mi_regimes import regimes as R
cells = [R._Cell("bernoulli", (("p", 0.5),), d, n, R.DEFAULT_ESTIMATORS, 100, 200, 0.95,
                 0.05, np.random.SeedSequence(0), 20) for d in R.DEFAULT_D for n in R.DEFAULT_N]
share = R._warmups(cells)[int(sys.argv[1])]
start = time.perf_counter()
share()
print(f"{time.perf_counter() - start:.1f}")
"""


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (and theirs)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def shares() -> None:
    """Each warm-up share, cold, both at once in their own processes (as two workers)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        procs = [subprocess.Popen([sys.executable, "-c", _SHARE, str(i)], env=env, text=True,
                                  stdout=subprocess.PIPE) for i in (0, 1)]
        took = [p.communicate()[0].strip() for p in procs]
    print(f"  warm-up shares at once, cold: cells {took[0]} s, bootstrap {took[1]} s")


def heatmap(repeats: int) -> None:
    """Cold and warm ``mi-regimes heatmap``, warm-ups on and off, alternated."""
    shares()
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}  # the heatmap's and its workers' CPU
    with tempfile.TemporaryDirectory() as folder:
        for r in range(repeats):
            for mode in ("off", "on"):
                out = os.path.join(folder, f"{mode}{r}")
                with tempfile.TemporaryDirectory() as cache:
                    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                    for state in ("cold", "warm") if r == 0 else ("cold",):
                        cpu0 = _children_cpu()
                        start = time.perf_counter()
                        subprocess.run([sys.executable, "-c", _HEATMAP, mode, out], env=env,
                                       check=True, stdout=subprocess.DEVNULL)
                        times.setdefault((mode, state), []).append(
                            time.perf_counter() - start)
                        cpu.setdefault((mode, state), []).append(_children_cpu() - cpu0)
                        print(f"  warm-ups {mode}, {state}: {times[mode, state][-1]:.1f} s "
                              f"({cpu[mode, state][-1]:.1f} s CPU)", flush=True)
                with open(out + ".csv", "rb") as f, open(
                        os.path.join(folder, "off0.csv"), "rb") as g:
                    assert f.read() == g.read(), "the warm-ups changed the chart's numbers"
    for state in ("cold", "warm"):
        off, on = (statistics.median(times[m, state]) for m in ("off", "on"))
        runs = {m: ", ".join(f"{t:.1f}" for t in times[m, state]) for m in ("off", "on")}
        print(f"mi-regimes heatmap, {state}: without warm-ups {off:.1f} s (runs {runs['off']}),"
              f" with {on:.1f} s (runs {runs['on']}): {off / on:.2f}x")
        off, on = (statistics.median(cpu[m, state]) for m in ("off", "on"))
        print(f"  CPU, medians: without {off:.1f} s, with {on:.1f} s: {off / on:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--heatmap", action="store_true",
                        help="time the default heatmap, grid warm-ups on and off")
    opts = parser.parse_args()
    if opts.heatmap:
        heatmap(opts.repeats)
        return
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "x32.npy")
        np.save(data, np.random.default_rng(0).integers(0, 2, (100_000, 32), dtype=np.uint8))
        train = ["train", "--epochs", "2", "--snapshots", "2", "--quiet", "--overwrite", "--out",
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
