"""``mi-regimes estimate``: H (and I(T;Y)) of a user's own binary data, with verdicts."""

from __future__ import annotations

import argparse
import json
import math
import os
import warnings
import zipfile

from ._common import CliError, estimators, fraction, user_input

HELP = "estimate H (and I(T;Y)) of your own binary data"


def add_parser(sub, fmt) -> None:
    from ..estimators import ESTIMATORS
    from ..verdicts import DEFAULT_TOL

    e = sub.add_parser(
        "estimate", formatter_class=fmt, help=HELP,
        description="Entropy of the rows of a binary matrix (rows = samples), with "
                    "intervals and a reliability verdict; I(T;Y) when labels are given.",
        epilog="examples:\n  mi-regimes estimate layer3.npy\n"
               "  mi-regimes estimate acts.npz --key layer2 --labels y.npy --json")
    e.add_argument("file", metavar="FILE",
                   help=".npy, .npz (with --key) or .csv of {0,1}/{-1,+1} rows, or 1-D symbols")
    e.add_argument("--key", help="array name inside an .npz")
    e.add_argument("--labels", help="labels file (.npy/.npz/.csv), one per row")
    e.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the .csv files' first line is column names (skip it), or is data "
                        "(--no-header); needed when it could be either")
    # NSB's posterior interval, not the bootstrap's, by default: the bootstrap's interval
    # under-covers when states are unseen (and its kernels take ~5 s to compile once)
    e.add_argument("--estimator", "--estimators", dest="estimator",
                   default="plugin,miller_madow,nsb",
                   help=f"comma-separated, from {', '.join(ESTIMATORS)} "
                        "(default plugin,miller_madow,nsb)")
    e.add_argument("--alphabet-size", type=float, default=None,
                   help="number of possible states K (default 2**D for rows)")
    e.add_argument("--ci", type=float, default=0.95, help="confidence level, default 0.95")
    e.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    e.add_argument("--seed", type=int, default=0, help="bootstrap seed (rng)")
    e.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help=f"verdict tolerance, relative to H (default {DEFAULT_TOL})")
    e.add_argument("--tol-bits", type=float, default=None,
                   help="verdict tolerance in bits (absolute; replaces --tol)")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=run)


def load_array(path: str, key: str | None, option: str, header: bool | None = None):
    """An array from .npy, .npz (one array, or --key) or .csv (``header``: skip its first
    line; None: refuse a first line that could be either names or data)."""
    import numpy as np

    if not os.path.isfile(path):
        raise CliError(f"{option}: no such file {path!r}")
    lower = path.lower()
    if key is not None and not lower.endswith(".npz"):
        raise CliError(f"--key: names an array inside an .npz file; {path!r} is not one "
                       "(drop --key)")
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
            if header is None:
                _refuse_default_names(path, option)
            with warnings.catch_warnings():  # no data: said below, in one line
                warnings.filterwarnings("ignore", "loadtxt: input contained no data")
                values = np.loadtxt(path, delimiter=",",
                                    ndmin=2 if option != "--labels" else 1,
                                    skiprows=int(bool(header)))
            if values.size == 0:
                raise CliError(f"{option}: {path!r} holds no numbers; pass a file with one "
                               "sample per line")
            return values
    except CliError:
        raise
    except (EOFError, zipfile.BadZipFile) as exc:  # an empty, cut short or foreign file
        raise CliError(f"{option}: cannot read {path!r}: not a whole NumPy "
                       f"{'.npz' if lower.endswith('.npz') else '.npy'} file ({exc}); save "
                       "arrays with numpy.save or numpy.savez") from None
    except ValueError as exc:
        if "Object arrays cannot be loaded" in str(exc):
            raise CliError(f"{option}: {path!r} holds a NumPy object array, which is never "
                           "loaded (it is pickled Python objects); save numbers, e.g. "
                           "numpy.save(path, x.astype(int))") from None
        if "pickled" in str(exc):  # NumPy's reading of any file without its header
            raise CliError(f"{option}: cannot read {path!r}: not a NumPy .npy/.npz file (no "
                           "NumPy header; pickled data is never loaded); save arrays with "
                           "numpy.save or numpy.savez") from None
        if not lower.endswith((".csv", ".txt")):
            raise CliError(f"{option}: cannot read {path!r}: {exc}") from None
        # Text is not guessed: a header line would silently count as one more symbol.
        raise CliError(f"{option}: cannot read {path!r} as numbers ({exc}); a .csv must "
                       "hold numbers only (pass --header if its first line is column names): "
                       "map text labels to integers, or save them with numpy.save as .npy"
                       ) from None
    except OSError as exc:
        raise CliError(f"{option}: cannot read {path!r}: {exc}") from None
    raise CliError(f"{option}: {path!r} is not .npy, .npz or .csv")


def _refuse_default_names(path: str, option: str) -> None:
    """Refuse a first line ``0,1,...,D-1``, D >= 2: the header pandas writes for unnamed
    columns (``DataFrame.to_csv``). With two columns it is also a valid binary row, so
    reading it as data would count one sample too many without a word."""
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline().strip()
    fields = [t.strip().strip('"') for t in first.split(",")]
    if len(fields) >= 2 and fields == [str(i) for i in range(len(fields))]:
        raise CliError(f"{option}: the first line of {path!r}, {first!r}, is the header "
                       "pandas writes for unnamed columns; pass --header to skip it, or "
                       "--no-header if it is a row of data")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .._io import json_safe
    from ..bits import as_samples
    from ..counting import count_rows, joint_counts
    from ..estimators import check_options, estimate_counts
    from ..information import mutual_information_from_counts
    from ..verdicts import classify, summarize_counts

    names = estimators(args.estimator)
    fraction(args.ci, "--ci")
    fraction(args.tol, "--tol")
    if args.tol_bits is not None and not 0 <= args.tol_bits < math.inf:  # inf: a traceback
        raise CliError(f"--tol-bits: must be a finite number >= 0, got {args.tol_bits}")
    k = args.alphabet_size
    if k is not None:
        k = int(k) if float(k).is_integer() else k
    x = load_array(args.file, args.key, "FILE", args.header)
    labels = load_array(args.labels, None, "--labels", args.header) if args.labels else None
    with user_input():
        samples = as_samples(x, "FILE", alphabet_size=k)
        alphabet, known = samples.nsb_alphabet
        joint = None
        if labels is not None:  # counted once, for every estimator
            label_samples = as_samples(np.asarray(labels).ravel(), "--labels")
            joint = joint_counts(samples, label_samples, "FILE", "--labels")
            alphabets = (alphabet, label_samples.nsb_alphabet[0])
        counts = count_rows(samples)  # last: it may consume the packed rows
        if k is not None and k < counts.size:  # the verdicts would refuse it after the work
            raise CliError(f"--alphabet-size: {k:g} is smaller than the {counts.size} "
                           f"distinct states observed; pass the number of possible states "
                           f"(at least {counts.size})")
        for name in names:  # options checked before any work
            check_options(name, ci=args.ci, n_boot=args.n_boot, rng=args.seed)
    summary = summarize_counts(counts)
    n = summary.n
    results = []
    for name in names:
        est = estimate_counts(counts, name, ci=args.ci, rng=args.seed, n_boot=args.n_boot,
                              alphabet_size=alphabet)
        verdict = classify(summary, est.value, alphabet_size=alphabet if known else None,
                           tol=args.tol, tol_bits=args.tol_bits)
        item = {"estimator": name, "entropy_bits": est.value, "stderr": est.stderr,
                "ci": list(est.ci) if est.ci else None, "verdict": verdict.status,
                "reason": verdict.reason,
                "bounds": {k: getattr(verdict, k) for k in (
                    "h_low", "h_high", "tol_bits", "unseen_mass", "unseen_entropy",
                    "seen_bias", "spread")}}
        if joint is not None:
            opts = {"rng": args.seed, "n_boot": args.n_boot} if name == "bootstrap" else {}
            item["mutual_information_bits"] = mutual_information_from_counts(
                *joint, name, alphabet_sizes=alphabets, **opts)
        results.append(item)
    report = {"file": args.file, "n": n, "d": samples.d, "k_observed": summary.k_observed,
              "alphabet_size": float(alphabet) if alphabet < 2**53 else None,
              "log2_alphabet_size": math.log2(alphabet), "alphabet_known": known,
              "log2_n": math.log2(n) if n > 1 else 0.0,
              "coincidences": summary.coincidences, "estimates": results}
    if args.json:
        print(json.dumps(json_safe(report), indent=2))
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

