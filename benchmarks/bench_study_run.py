"""Where one study run's time goes: training, and each plane by mode and estimator.

    python benchmarks/bench_study_run.py [KEY ...]

Runs :func:`mi_regimes.study.runner.run_one` on the named runs of experiments/study.toml
(default: the first replicate without regulariser of one narrow and one wide network per
task) on one core, and splits its wall time into the planes (``information_plane`` per
mode and estimator), the compression tests, and the rest (training, recording, I/O). The
first run includes JIT compilation. This is how the NSB tolerance and the unseen-mass
bound were found to dominate (docs/results.md states the whole study's time).
"""

from __future__ import annotations

import argparse
import os
import time

from mi_regimes import compression, infoplane
from mi_regimes.study import load_spec
from mi_regimes.study.runner import run_one

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = ("task=tishby12|widths=12-32-16-8|reg=none|replicate=0",
           "task=digits|widths=64-256-256|reg=none|replicate=0",
           "task=mnist1d|widths=40-512-512|reg=none|replicate=0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", metavar="KEY",
                        help="run keys of experiments/study.toml (default: three runs, "
                             "one per task)")
    keys = parser.parse_args().keys or DEFAULT
    spec = load_spec(os.path.join(HERE, os.pardir, "experiments", "study.toml"))
    measurement = spec.measurement()
    runs = {r.key: r for r in spec.runs}
    missing = [k for k in keys if k not in runs]
    if missing:
        raise SystemExit(f"KEY: not in experiments/study.toml: {missing[0]!r}")
    spent: dict = {}
    plane, detect = infoplane.information_plane, compression.detect_compression

    def timed(func, label):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                part = label(args, kwargs)
                spent[part] = spent.get(part, 0.0) + time.perf_counter() - start
        return wrapper

    infoplane.information_plane = timed(
        plane, lambda a, kw: f"plane {kw.get('mode')} {a[1]}")
    compression.detect_compression = timed(detect, lambda a, kw: "compression tests")
    try:
        for key in keys:
            spent.clear()
            start = time.perf_counter()
            result = run_one((runs[key].as_dict(), measurement))
            total = time.perf_counter() - start
            print(f"{key}: {result['status']}, {total:.1f} s")
            for part, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
                print(f"    {part:32s} {seconds:7.1f} s")
            print(f"    {'training, recording, rest':32s} {total - sum(spent.values()):7.1f} s")
    finally:
        infoplane.information_plane, compression.detect_compression = plane, detect


if __name__ == "__main__":
    main()
