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
two cores; --quick about 1 min). ``--wide`` runs D = 64..1024 on cases the rule was not
built with and writes ``verdicts_wide.md`` / ``.csv`` (about 2 min).
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

# --wide: layers as wide as a BNN's (D = 64..1024), cases not used to build the rule,
# several with small H (a guarantee possible for the estimate, if not for the sample)
WIDE_FAMILIES = [
    ("bernoulli", {"p": 0.02}, (128, 256, 1024)),
    ("bernoulli", {"p": 0.0005}, (256, 1024)),
    ("markov", {"p_stay": 0.995}, (256, 1024)),
    ("markov", {"p_stay": 0.999}, (512, 1024)),
    ("markov", {"p_stay": 0.9999}, (256, 1024)),
    ("dyadic_zipf", {"s": 1.0}, (64, 256, 1024)),
    ("dyadic_zipf", {"s": 1.2}, (128, 1024)),
    ("dyadic_zipf", {"s": 3.0}, (256, 1024)),
    ("heavy_tail", {"heavy": 32, "tail_bits": 40, "tail_mass": 0.02}, (256, 1024)),
    ("heavy_tail", {"heavy": 1024, "tail_bits": 16, "tail_mass": 0.2}, (64, 512)),
    ("heavy_tail", {"heavy": 8, "tail_bits": 64, "tail_mass": 0.001}, (256, 1024)),
    ("heavy_tail", {"heavy": 8, "tail_bits": 200, "tail_mass": 0.01}, (1024,)),
    ("sparse", {"ones": 2}, (256, 1024)),
]
WIDE_ESTIMATORS = ["plugin", "miller_madow"]


def run(quick: bool, jobs: int, wide: bool = False) -> pd.DataFrame:
    if wide:  # rows of 1024 bits: N up to 2**14 keeps a draw within memory
        families, estimators = WIDE_FAMILIES, WIDE_ESTIMATORS
        n_values, reps = [2**k for k in range(6, 15, 2)], 8 if quick else 24
    else:
        families, estimators = FAMILIES, ESTIMATORS
        n_values, reps = [2**k for k in range(4, 17, 2)], 12 if quick else 60
    tables = []
    for family, params, d_values in families:
        d_values = list(d_values)[::3] if quick and not wide else list(d_values)
        table = regimes.run_grid(family, params, n_values, d_values, estimators, reps=reps,
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


_WIDE_NOTE = [
    "Why power is low at this width: the guarantee holds for *any* source on the 2^D "
    "states, and a mass m the sample has not resolved may be spread over all of them, "
    "carrying up to about m·D bits. With no singleton at all, m is only bounded by ~3/N "
    "(95 %), so no rule can certify an upper bound within tol bits before N ≈ 3·D/tol "
    "(5 000 samples for D = 256 and tol = 0.15 bits); ours, with its Chernoff bands and "
    "a potential singleton, needs about four times that. Eight states seen 2 048 times "
    "each (N = 16 384, no singleton): U − H = 0.05 bits at D = 64 (reliable), 0.20 at "
    "D = 256 and 0.78 at D = 1024 (undersampled). A cell the estimate gets right can be "
    "undecidable from its sample; the rule then says so instead of guessing.",
    ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cells and replicates")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--wide", action="store_true",
                        help="D = 64..1024 on cases the rule was not built with "
                             "(writes verdicts_wide.md/.csv)")
    parser.add_argument("--out", default=os.path.join("docs", "validation"))
    args = parser.parse_args()
    start = time.perf_counter()
    table = classes(run(args.quick, args.jobs, args.wide))
    elapsed = time.perf_counter() - start
    name = "verdicts_wide" if args.wide else "verdicts"
    estimators = WIDE_ESTIMATORS if args.wide else ESTIMATORS
    os.makedirs(args.out, exist_ok=True)
    table.to_csv(os.path.join(args.out, f"{name}.csv"), index=False)
    guarantee = guarantee_table(table)
    overall = table[table.true_class == "possible"]
    biased = table[table.true_class == "biased"]
    lines = [
        "# Verdict validation (generated by experiments/verdict_validation.py)", "",
        f"{len(table) // len(estimators)} cells x {len(estimators)} estimators, "
        f"{int(table.reps.max())} replicates per cell, tolerance 5 % of H, "
        f"run time {elapsed / 60:.1f} min{' (--quick)' if args.quick else ''}.", "",
        f"Overall: false reliable in truly biased cells "
        f"{_weighted(biased.reliable_share, biased.reps):.3f} (target <= 0.05); power in "
        f"cells where a guarantee is possible "
        f"{_weighted(overall.reliable_share, overall.reps):.3f} (target >= 0.60).", "",
        *(_WIDE_NOTE if args.wide else []),
        "## Per family and estimator", "", guarantee.to_markdown(index=False, floatfmt=".3f"),
        "", f"## Power per family and N ({', '.join(estimators)} pooled)", "",
        power_by_n(table).to_markdown(floatfmt=".2f"), "",
        *([] if args.wide else [  # the interval estimators run on the main grid only
            "## Interval coverage of H (nominal 95 %)", "",
            coverage_table(table).to_markdown(index=False, floatfmt=".3f"), ""])]
    write_text(os.path.join(args.out, f"{name}.md"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
