"""``mi-regimes heatmap``: where is each estimator reliable over (N, D)?"""

from __future__ import annotations

import argparse
import os

from ._common import (
    CliError,
    estimators,
    fraction,
    int_range,
    output_path,
    params,
    use_agg,
    user_input,
    write_csv,
)

HELP = "chart where each estimator is reliable over (N, D)"


def add_parser(sub, fmt) -> None:
    from ..verdicts import DEFAULT_TOL

    h = sub.add_parser(
        "heatmap", formatter_class=fmt, help=HELP,
        description="Monte Carlo (or exact) regime chart: one panel per estimator, log2 N "
                    "across, D up, with the saturation boundaries and the reliable region.",
        epilog="examples:\n  mi-regimes heatmap\n"
               "  mi-regimes heatmap --family markov --param p_stay=0.8 --d 2:40:2 "
               "--metric rmse --out markov.pdf\n"
               "  mi-regimes heatmap --exact --estimator plugin,miller_madow")
    h.add_argument("--family", default="bernoulli",
                   help="source family (see `mi-regimes sources`), default bernoulli")
    h.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="family parameter, repeatable (default p=0.5 for bernoulli)")
    h.add_argument("--log2-n", default="4:16", metavar="LO:HI[:STEP]",
                   help="log2 of the sample sizes, default 4:16 (N = 16 ... 65536)")
    h.add_argument("--d", default="1:40", metavar="LO:HI[:STEP]",
                   help="bits per sample, default 1:40")
    h.add_argument("--estimator", "--estimators", dest="estimator",
                   default="plugin,miller_madow,bootstrap",
                   help="comma-separated estimator names (see `mi-regimes estimate -h`), "
                        "default plugin,miller_madow,bootstrap")
    h.add_argument("--metric", default="rel_bias",
                   choices=["rel_bias", "bias", "rmse", "saturated_frac", "coverage"],
                   help="colour of the cells, default rel_bias")
    h.add_argument("--reps", type=int, default=100, help="replicates per cell, default 100")
    h.add_argument("--verdict-reps", type=int, default=20,
                   help="replicates per cell that also get a verdict and its interval (two "
                        "linear programmes each, ~16 ms), default 20; the CSV's verdict "
                        "columns are shares over them")
    h.add_argument("--n-boot", type=int, default=200, help="bootstrap replicates, default 200")
    h.add_argument("--seed", type=int, default=0, help="master seed (rng), default 0")
    h.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (results do not depend on it), default 2")
    h.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help=f"reliable = |relative bias| <= tol, default {DEFAULT_TOL}")
    h.add_argument("--exact", action="store_true",
                   help="exact E[H] for plug-in and Miller-Madow instead of Monte Carlo")
    h.add_argument("--out", default="regimes.png", help="figure (.png/.svg/.pdf)")
    h.add_argument("--csv", default="regimes.csv", help="table of every cell (.csv)")
    h.add_argument("--quiet", action="store_true", help="no progress bar")
    h.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = output_path(args.out, "--out", (".png", ".svg", ".pdf"))
    csv = output_path(args.csv, "--csv", (".csv",))
    log2_n = int_range(args.log2_n, "--log2-n")
    d_values = int_range(args.d, "--d")
    if min(log2_n) < 1:
        raise CliError("--log2-n: N must be at least 2 (log2 N >= 1)")
    if min(d_values) < 1:
        raise CliError("--d: D must be >= 1")
    if max(log2_n) > 30:
        raise CliError("--log2-n: N above 2**30 is beyond what a grid can simulate")
    names = estimators(args.estimator)
    fraction(args.tol, "--tol")
    if args.metric == "coverage" and "bootstrap" not in names:
        raise CliError("--metric coverage needs an estimator with intervals (bootstrap)")
    use_agg()
    from ..plotting import regime_heatmap, save_figure
    from ..regimes import run_grid

    with user_input():
        table = run_grid(args.family, params(args.param), [2**k for k in log2_n], d_values,
                         names, reps=args.reps, rng=args.seed, jobs=args.jobs,
                         n_boot=args.n_boot, tol=args.tol, progress=not args.quiet,
                         exact=args.exact, verdict_reps=args.verdict_reps)
    fig = regime_heatmap(table, metric=args.metric, tol=args.tol)
    write_csv(table, csv)
    save_figure(fig, out)
    print(f"wrote {os.path.abspath(out)}")
    print(f"wrote {os.path.abspath(csv)}")
    return 0
