"""The ``mi-regimes`` command: regime heatmaps, estimates of your own data, sources, theory.

Argument parsing only; the work is done by the modules it calls, imported on demand so
that ``mi-regimes --help`` stays fast. Errors print one line on stderr and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from . import __version__

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise CliError(f"{self.prog}: {message} (see {self.prog} --help)")


def _int_range(text: str, name: str) -> list[int]:
    """'4:16' -> [4..16], '4:16:2' -> step 2, '8' -> [8], '1,5,9' -> list."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            lo, hi = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step < 1:
                raise CliError(f"{name}: step must be >= 1 in {text!r}")
            if hi < lo:
                raise CliError(f"{name}: range {text!r} is reversed; write LOW:HIGH")
            return list(range(lo, hi + 1, step))
        return [int(p) for p in text.split(",")]
    except ValueError:
        raise CliError(f"{name}: cannot read {text!r}; use LOW:HIGH[:STEP] or a,b,c") from None


def _params(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CliError(f"--param: expected NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            num = float(value)
            out[key] = int(num) if num.is_integer() and "." not in value else num
        except ValueError:
            raise CliError(f"--param {key}: {value!r} is not a number") from None
    return out


def _estimators(text: str) -> list[str]:
    from .estimators import ESTIMATORS

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in ESTIMATORS]
    if bad or not names:
        raise CliError(f"--estimators: unknown {', '.join(bad) or '(empty)'}; choose from "
                       f"{', '.join(ESTIMATORS)}")
    return names


def _check_output(path: str, option: str, suffixes: tuple[str, ...]) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{option}: folder {folder!r} does not exist; create it first")
    if not path.lower().endswith(suffixes):
        raise CliError(f"{option}: {path!r} must end in {' or '.join(suffixes)}")
    return path


# ---------------------------------------------------------------------------- heatmap


def _cmd_heatmap(args) -> int:
    out = _check_output(args.out, "--out", (".png", ".svg", ".pdf"))
    csv = _check_output(args.csv, "--csv", (".csv",))
    log2_n = _int_range(args.log2_n, "--log2-n")
    d_values = _int_range(args.d, "--d")
    if min(log2_n) < 1:
        raise CliError("--log2-n: N must be at least 2 (log2 N >= 1)")
    if min(d_values) < 1:
        raise CliError("--d: D must be >= 1")
    if max(log2_n) > 30:
        raise CliError("--log2-n: N above 2**30 is beyond what a grid can simulate")
    estimators = _estimators(args.estimators)
    params = _params(args.param)
    if not 0 < args.tol < 1:
        raise CliError(f"--tol: must lie in (0, 1), got {args.tol}")
    if args.metric == "coverage" and not any(e == "bootstrap" for e in estimators):
        raise CliError("--metric coverage needs an estimator with intervals (bootstrap)")
    import matplotlib

    matplotlib.use("Agg")  # the command only writes files; a library call never does this
    from .plotting import regime_heatmap, save_figure
    from .regimes import run_grid

    try:
        table = run_grid(args.family, params, [2**k for k in log2_n], d_values, estimators,
                         reps=args.reps, seed=args.seed, jobs=args.jobs, n_boot=args.n_boot,
                         tol=args.tol, progress=not args.quiet, exact=args.exact)
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    fig = regime_heatmap(table, metric=args.metric, tol=args.tol)
    _write_csv(table, csv)
    save_figure(fig, out)
    print(f"wrote {os.path.abspath(out)}")
    print(f"wrote {os.path.abspath(csv)}")
    return 0


def _write_csv(table, path: str) -> None:
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".tmp-{os.getpid()}.csv")
    try:
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------------------- estimate


def _load_matrix(path: str, key: str | None, option: str):
    import numpy as np

    if not os.path.isfile(path):
        raise CliError(f"{option}: no such file {path!r}")
    lower = path.lower()
    try:
        if lower.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if lower.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                names = list(data.keys())
                if key is None:
                    if len(names) != 1:
                        raise CliError(f"{option}: {path!r} holds {', '.join(names)}; choose "
                                       "one with --key")
                    key = names[0]
                if key not in names:
                    raise CliError(f"--key: {key!r} not in {path!r} (has {', '.join(names)})")
                return data[key]
        if lower.endswith((".csv", ".txt")):
            return np.loadtxt(path, delimiter=",", ndmin=2 if option != "--labels" else 1)
    except CliError:
        raise
    except (ValueError, OSError) as exc:
        raise CliError(f"{option}: cannot read {path!r}: {exc}") from None
    raise CliError(f"{option}: {path!r} is not .npy, .npz or .csv")


def _cmd_estimate(args) -> int:
    import numpy as np

    from .bits import as_samples
    from .counting import count_rows, joint_counts
    from .estimators import estimate_counts
    from .information import mutual_information_from_counts
    from .verdicts import classify, summarize_counts

    estimators = _estimators(args.estimator)
    if not 0 < args.ci < 1:
        raise CliError(f"--ci: must lie in (0, 1), got {args.ci}")
    x = _load_matrix(args.file, args.key, "FILE")
    labels = _load_matrix(args.labels, None, "--labels") if args.labels else None
    try:
        samples = as_samples(x, "FILE")
        alphabet = samples.nsb_alphabet[0]
        joint = None
        if labels is not None:  # counted once, for every estimator
            label_samples = as_samples(np.asarray(labels).ravel(), "--labels")
            joint = joint_counts(samples, label_samples, "FILE", "--labels")
            alphabets = (alphabet, label_samples.nsb_alphabet[0])
        counts = count_rows(samples)  # last: it may consume the packed rows
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    summary = summarize_counts(counts)
    n = summary.n
    results = []
    for e in estimators:
        est = estimate_counts(counts, e, ci=args.ci, rng=args.seed, n_boot=args.n_boot,
                              alphabet_size=alphabet if e == "nsb" else None)
        verdict = classify(summary, e, est.value, tol=args.tol)
        item = {"estimator": e, "entropy_bits": est.value, "stderr": est.stderr,
                "ci": list(est.ci) if est.ci else None, "verdict": verdict.status,
                "reason": verdict.reason}
        if joint is not None:
            opts = {"rng": args.seed, "n_boot": args.n_boot} if e == "bootstrap" else {}
            item["mutual_information_bits"] = mutual_information_from_counts(
                *joint, e, alphabet_sizes=alphabets if e == "nsb" else None, **opts)
        results.append(item)
    report = {"file": args.file, "n": n, "d": int(x.shape[1]) if x.ndim == 2 else None,
              "k_observed": summary.k_observed, "log2_n": math.log2(n) if n > 1 else 0.0,
              "coincidences": summary.coincidences, "estimates": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.file}: N = {n}, D = {report['d']}, K_obs = {summary.k_observed}, "
          f"log2 N = {report['log2_n']:.3f}")
    for item in results:
        ci = (f"  {args.ci:.0%} CI [{item['ci'][0]:.4f}, {item['ci'][1]:.4f}]"
              if item["ci"] else "")
        se = f" ± {item['stderr']:.4f}" if item["stderr"] is not None else ""
        mi = (f"  I(T;Y) = {item['mutual_information_bits']:.4f} bits"
              if "mutual_information_bits" in item else "")
        print(f"  {item['estimator']:<13} H = {item['entropy_bits']:.4f} bits{se}{ci}{mi}")
        print(f"  {'':<13} {item['reason']}")
    return 0


# ---------------------------------------------------------------------------- sources, theory


def _cmd_sources(args) -> int:
    from .sources import FAMILIES

    print("Source families (mi-regimes heatmap --family NAME --param KEY=VALUE):")
    for name, (fn, defaults) in FAMILIES.items():
        params = ", ".join(f"{k}={v}" for k, v in defaults.items())
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        print(f"  {name:<17} d, {params:<24} {doc}")
    print("  labelled          (Python API) attaches a class label with known I(T;Y)")
    return 0


def _cmd_theory(args) -> int:
    from .sources import make
    from .theory import (
        expected_entropy,
        expected_observed,
        saturation_boundary,
        saturation_probability,
        variance_entropy,
    )

    try:
        src = make(args.family, args.d, **_params(args.param))
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    if args.n < 1:
        raise CliError(f"--n: sample size must be >= 1, got {args.n}")
    n = args.n
    p_sat = saturation_probability(src, n)
    n_sat = saturation_boundary(src)
    var = variance_entropy(src, n, "asymptotic")
    rows = {
        "source": str(src), "n": n, "entropy_bits": src.entropy,
        "collision_entropy_bits": src.collision_entropy, "support": src.support,
        "expected_plugin_bits": expected_entropy(src, n, "plugin"),
        "expected_miller_madow_bits": expected_entropy(src, n, "miller_madow"),
        "expected_k_observed": expected_observed(src, n),
        "sd_plugin_bits": math.sqrt(var.value), "sd_method": var.method,
        "p_all_distinct": p_sat.value, "p_all_distinct_method": p_sat.method,
        "n_saturation": n_sat.value, "n_saturation_method": n_sat.method,
    }
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{src}, N = {n}")
    print(f"  H = {src.entropy:.6f} bits, H2 = {src.collision_entropy:.6f} bits, "
          f"support = {src.support:.6g}, log2 N = {math.log2(n):.4f}")
    print(f"  E[H_plugin]       = {rows['expected_plugin_bits']:.6f} bits (exact)")
    print(f"  E[H_miller_madow] = {rows['expected_miller_madow_bits']:.6f} bits (exact)")
    print(f"  sd(H_plugin)      = {rows['sd_plugin_bits']:.6f} bits ({var.method})")
    print(f"  E[K_obs]          = {rows['expected_k_observed']:.6g} (exact)")
    print(f"  P(all distinct)   = {p_sat.value:.6g} ({p_sat.method})")
    print(f"  N_sat (P = 1/2)   = {n_sat.value:.6g} ({n_sat.method})")
    return 0


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mi-regimes`` (exposed for the docs and tests)."""
    from .estimators import ESTIMATORS

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="mi-regimes", formatter_class=fmt,
                     description="When can an entropy / MI estimate of binary data be trusted?",
                     epilog="examples:\n  mi-regimes heatmap\n"
                            "  mi-regimes estimate activations.npy --labels y.npy\n"
                            "  mi-regimes theory --family bernoulli --d 8 --n 64")
    parser.add_argument("--version", action="version", version=f"mi-regimes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    h = sub.add_parser(
        "heatmap", formatter_class=fmt, help="chart where each estimator is reliable over (N, D)",
        description="Monte Carlo (or exact) regime chart: one panel per estimator, log2 N "
                    "across, D up, with the saturation boundaries and the reliable region.",
        epilog="examples:\n  mi-regimes heatmap\n"
               "  mi-regimes heatmap --family markov --param p_stay=0.8 --d 2:40:2 "
               "--metric rmse --out markov.pdf\n"
               "  mi-regimes heatmap --exact --estimators plugin,miller_madow")
    h.add_argument("--family", default="bernoulli",
                   help="source family (see `mi-regimes sources`), default bernoulli")
    h.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="family parameter, repeatable (default p=0.5 for bernoulli)")
    h.add_argument("--log2-n", default="4:16", metavar="LO:HI[:STEP]",
                   help="log2 of the sample sizes, default 4:16 (N = 16 ... 65536)")
    h.add_argument("--d", default="1:40", metavar="LO:HI[:STEP]",
                   help="bits per sample, default 1:40")
    h.add_argument("--estimators", default="plugin,miller_madow,bootstrap",
                   help=f"comma-separated, from {', '.join(ESTIMATORS)}")
    h.add_argument("--metric", default="rel_bias",
                   choices=["rel_bias", "bias", "rmse", "saturated_frac", "coverage"],
                   help="colour of the cells, default rel_bias")
    h.add_argument("--reps", type=int, default=100, help="replicates per cell, default 100")
    h.add_argument("--n-boot", type=int, default=200, help="bootstrap replicates, default 200")
    h.add_argument("--seed", type=int, default=0, help="master seed, default 0")
    h.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (results do not depend on it), default 2")
    h.add_argument("--tol", type=float, default=0.05,
                   help="reliable = |relative bias| <= tol, default 0.05")
    h.add_argument("--exact", action="store_true",
                   help="exact E[H] for plug-in and Miller-Madow instead of Monte Carlo")
    h.add_argument("--out", default="regimes.png", help="figure (.png/.svg/.pdf)")
    h.add_argument("--csv", default="regimes.csv", help="table of every cell (.csv)")
    h.add_argument("--quiet", action="store_true", help="no progress bar")
    h.set_defaults(func=_cmd_heatmap)

    e = sub.add_parser(
        "estimate", formatter_class=fmt, help="estimate H (and I(T;Y)) of your own binary data",
        description="Entropy of the rows of a binary matrix (rows = samples), with "
                    "intervals and a reliability verdict; I(T;Y) when labels are given.",
        epilog="examples:\n  mi-regimes estimate layer3.npy\n"
               "  mi-regimes estimate acts.npz --key layer2 --labels y.npy --json")
    e.add_argument("file", metavar="FILE", help=".npy, .npz (with --key) or .csv of {0,1}/{-1,+1}")
    e.add_argument("--key", help="array name inside an .npz")
    e.add_argument("--labels", help="labels file (.npy/.npz/.csv), one per row")
    e.add_argument("--estimator", default="plugin,miller_madow,bootstrap",
                   help="comma-separated estimators")
    e.add_argument("--ci", type=float, default=0.95, help="confidence level, default 0.95")
    e.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    e.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    e.add_argument("--tol", type=float, default=0.05, help="verdict tolerance")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=_cmd_estimate)

    s = sub.add_parser("sources", help="list the synthetic source families",
                       epilog="example:\n  mi-regimes sources", formatter_class=fmt)
    s.set_defaults(func=_cmd_sources)

    t = sub.add_parser("theory", formatter_class=fmt,
                       help="exact E[H], E[K_obs] and saturation for a source and N",
                       epilog="example:\n  mi-regimes theory --family bernoulli --d 8 --n 64")
    t.add_argument("--family", default="bernoulli")
    t.add_argument("--d", type=int, required=True, help="bits per sample")
    t.add_argument("--param", action="append", metavar="KEY=VALUE")
    t.add_argument("--n", type=int, required=True, help="sample size")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=_cmd_theory)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mi-regimes``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return args.func(args)
    except CliError as exc:
        print(f"mi-regimes: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError, OSError) as exc:
        print(f"mi-regimes: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mi-regimes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
