"""Validate the verdicts and the intervals on every source family, against exact theory.

For each family (the long-tailed ones included) and estimator, over a grid of N and D,
run the Monte Carlo regime engine and report, per true class of cell:

* **false reliable**: the share of replicates called ``reliable`` in cells whose expected
  error exceeds the tolerance (truly biased; exact E[Ĥ] for plug-in and Miller–Madow).
  Target: <= 5 % in every family.
* **power**: the share of replicates called ``reliable`` in cells where the estimate lies
  within the tolerance of H in >= 95 % of replicates (where a 95 % guarantee is possible
  at all). Target: >= 60 % overall, reported per family and per N.
* **saturated**: the share of truly saturated cells' replicates called saturated.
* **interval coverage** (nominal 95 %): the verdict's [L, U]; and the bootstrap, jackknife
  and NSB intervals, raw and as reported (joined with [L, U]), per regime, and inside
  replicates called reliable.

Writes ``docs/validation/verdicts.md`` (tables) and ``docs/validation/verdicts.csv``.
Run: ``python experiments/verdict_validation.py [--quick] [--jobs 2]`` (about 12 min on
two cores; --quick about 1 min).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from mi_regimes import regimes
from mi_regimes._io import write_text

FAMILIES = [
    ("bernoulli", {"p": 0.5}, range(1, 41, 3)),
    ("bernoulli", {"p": 0.15}, range(2, 41, 4)),
    ("markov", {"p_stay": 0.9}, range(2, 41, 4)),
    ("markov", {"p_stay": 0.98}, range(2, 41, 4)),
    ("sparse", {"ones": 3}, (8, 16, 24, 40)),
    ("uniform_codebook", {"support": 4096}, (12, 20, 32, 48)),
    ("zipf_codebook", {"support": 4096, "s": 1.0}, (12, 20, 32)),
    ("heavy_tail", {"heavy": 4, "tail_bits": 30, "tail_mass": 0.05}, (30, 40)),
    ("heavy_tail", {"heavy": 16, "tail_bits": 20, "tail_mass": 0.1}, (20, 30, 40)),
    ("heavy_tail", {"heavy": 64, "tail_bits": 12, "tail_mass": 0.3}, (12, 20, 40)),
    ("dyadic_zipf", {"s": 1.0}, range(4, 41, 4)),
    ("dyadic_zipf", {"s": 1.5}, range(4, 41, 6)),
]
ESTIMATORS = ["plugin", "miller_madow", "bootstrap", "jackknife", "nsb"]


def run(quick: bool, jobs: int) -> pd.DataFrame:
    n_values = [2**k for k in range(4, 17, 2)]
    reps = 12 if quick else 60
    tables = []
    for family, params, d_values in FAMILIES:
        d_values = list(d_values)[::3] if quick else list(d_values)
        table = regimes.run_grid(family, params, n_values, d_values, ESTIMATORS, reps=reps,
                                 rng=2026, jobs=jobs, n_boot=200, progress=True)
        table["case"] = family + "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _weighted(share: pd.Series, reps: pd.Series) -> float:
    return float((share * reps).sum() / reps.sum()) if reps.sum() else float("nan")


def classes(table: pd.DataFrame) -> pd.DataFrame:
    """The true class of each cell: biased, possible (a guarantee can exist), saturated."""
    out = table.copy()
    out["true_class"] = np.where(out.truth == "saturated", "saturated",
                                 np.where(out.truth == "biased", "biased",
                                          np.where(out.within_tol_share >= 0.95, "possible",
                                                   "noisy")))
    return out


def guarantee_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (case, est), g in table.groupby(["case", "estimator"], sort=False):
        b, p, s = (g[g.true_class == c] for c in ("biased", "possible", "saturated"))
        rows.append({
            "family": case, "estimator": est,
            "biased cells": len(b), "false reliable": _weighted(b.reliable_share, b.reps),
            "possible cells": len(p), "power": _weighted(p.reliable_share, p.reps),
            "saturated cells": len(s),
            "called saturated": float((s.verdict == "saturated").mean()) if len(s) else np.nan,
            "[L,U] coverage": float(g.interval_coverage.mean()),
        })
    return pd.DataFrame(rows)


def power_by_n(table: pd.DataFrame) -> pd.DataFrame:
    p = table[table.true_class == "possible"]
    return p.groupby(["case", "n"]).apply(
        lambda g: _weighted(g.reliable_share, g.reps), include_groups=False).unstack("n")


def coverage_table(table: pd.DataFrame) -> pd.DataFrame:
    ci = table[table.estimator.isin(["bootstrap", "jackknife", "nsb"])].copy()
    ratio = ci.log2_n - ci.h_true
    ci["regime"] = np.select(
        [ci.true_class == "saturated", ratio >= 3.3, ratio >= 0, ratio >= -3],
        ["saturated", "N >= 10·2^H", "2^H <= N < 10·2^H", "2^H/8 <= N < 2^H"],
        "N < 2^H/8")
    order = ["N >= 10·2^H", "2^H <= N < 10·2^H", "2^H/8 <= N < 2^H", "N < 2^H/8",
             "saturated"]
    rows = []
    for (est, regime), g in ci.groupby(["estimator", "regime"]):
        rows.append({"interval": est, "regime": regime, "cells": len(g),
                     "raw": float(g.coverage.mean()),
                     "reported": float(g.coverage_reported.mean()),
                     "when called reliable": float(np.nanmean(g.coverage_when_reliable))
                     if g.coverage_when_reliable.notna().any() else np.nan})
    out = pd.DataFrame(rows)
    out["regime"] = pd.Categorical(out.regime, order)
    return out.sort_values(["interval", "regime"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cells and replicates")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=os.path.join("docs", "validation"))
    args = parser.parse_args()
    start = time.perf_counter()
    table = classes(run(args.quick, args.jobs))
    elapsed = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    table.to_csv(os.path.join(args.out, "verdicts.csv"), index=False)
    guarantee = guarantee_table(table)
    overall = table[table.true_class == "possible"]
    biased = table[table.true_class == "biased"]
    lines = [
        "# Verdict validation (generated by experiments/verdict_validation.py)", "",
        f"{len(table) // len(ESTIMATORS)} cells x {len(ESTIMATORS)} estimators, "
        f"{int(table.reps.max())} replicates per cell, tolerance 5 % of H, "
        f"run time {elapsed / 60:.1f} min{' (--quick)' if args.quick else ''}.", "",
        f"Overall: false reliable in truly biased cells "
        f"{_weighted(biased.reliable_share, biased.reps):.3f} (target <= 0.05); power in "
        f"cells where a guarantee is possible "
        f"{_weighted(overall.reliable_share, overall.reps):.3f} (target >= 0.60).", "",
        "## Per family and estimator", "", guarantee.to_markdown(index=False, floatfmt=".3f"),
        "", "## Power per family and N (plug-in, Miller–Madow, bootstrap, jackknife, NSB "
        "pooled)", "", power_by_n(table).to_markdown(floatfmt=".2f"), "",
        "## Interval coverage of H (nominal 95 %)", "",
        coverage_table(table).to_markdown(index=False, floatfmt=".3f"), ""]
    write_text(os.path.join(args.out, "verdicts.md"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
