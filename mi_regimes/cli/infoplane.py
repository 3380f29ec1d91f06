"""``mi-regimes infoplane``: the information plane of a run folder, figure and table."""

from __future__ import annotations

import argparse
import json
import os

from ._common import CliError, estimators, fraction, output_path, use_agg, user_input

HELP = "draw the information plane of a run (from mi-regimes train)"


def add_parser(sub, fmt) -> None:
    from ..verdicts import DEFAULT_TOL

    p = sub.add_parser(
        "infoplane", formatter_class=fmt, help=HELP,
        description="Information plane of a run folder: I(T;Y) against I(X;T) per layer and "
                    "epoch, in empirical mode (X uniform over the recorded inputs: exact "
                    "values) or population mode (estimates with intervals and verdicts), "
                    "beside per-epoch panels; prints the table and the late-compression "
                    "findings.",
        epilog="examples:\n  mi-regimes infoplane run-tishby\n"
               "  mi-regimes infoplane run-tishby --mode empirical --split population\n"
               "  mi-regimes infoplane run-digits --estimator nsb --out plane.pdf "
               "--json plane.json")
    p.add_argument("run", metavar="RUN", help="run folder written by mi-regimes train")
    p.add_argument("--mode", default="population", choices=["population", "empirical"],
                   help="default population")
    p.add_argument("--estimator", default="plugin",
                   help="entropy estimator (population mode), default plugin")
    p.add_argument("--split", default="train",
                   help="recorded inputs: train, test (or population for tishby12)")
    p.add_argument("--out", default=None,
                   help="figure (.png/.svg/.pdf), default RUN/plane-MODE-SPLIT.png")
    p.add_argument("--json", default=None, metavar="FILE", help="write the table as JSON")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL, help="verdict tolerance")
    p.add_argument("--ci", type=float, default=0.95, help="interval level")
    p.add_argument("--n-boot", type=int, default=200,
                   help="bootstrap replicates (intervals, compression test)")
    p.add_argument("--seed", type=int, default=0, help="seed (rng) of the bootstraps")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._io import json_safe, write_json
    from .._validation import check_n_boot
    from ..bnn import load_recording
    from ..compression import detect_compression
    from ..infoplane import information_plane

    names = estimators(args.estimator)
    if len(names) != 1:  # unpacking several ended in a ValueError traceback
        raise CliError(f"--estimator: one plane takes one estimator, got {', '.join(names)}; "
                       "draw one plane per estimator")
    (name,) = names
    fraction(args.ci, "--ci")
    fraction(args.tol, "--tol")
    with user_input():  # 10^20 ran the plane, then failed in a traceback
        check_n_boot(args.n_boot)
    path = os.path.join(args.run, "recording.npz")
    if not os.path.isfile(path):
        raise CliError(f"RUN: no recording.npz in {args.run!r}; make one with "
                       "mi-regimes train --out RUN")
    out = output_path(args.out or os.path.join(args.run, f"plane-{args.mode}-{args.split}.png"),
                      "--out", (".png", ".svg", ".pdf"))
    if args.json:
        output_path(args.json, "--json", (".json",))
    with user_input(f"{args.run}: "):
        recording = load_recording(path)
    if args.split not in recording.sets:
        raise CliError(f"--split: {args.split!r} was not recorded; choose one of "
                       f"{', '.join(recording.sets)}")
    with user_input():
        plane = information_plane(recording, name, mode=args.mode, split=args.split,
                                  ci=args.ci, n_boot=args.n_boot, rng=args.seed, tol=args.tol,
                                  progress=not args.quiet)
    found = detect_compression(plane, recording, n_boot=args.n_boot, rng=args.seed)
    use_agg()
    from ..plotting import information_plane_figure, save_figure

    save_figure(information_plane_figure(plane, found), out)
    report = _report(plane, found, name, args)
    if args.json:
        write_json(args.json, report)
    _print(plane, found, args)
    print(f"wrote {os.path.abspath(out)}" + (f" and {os.path.abspath(args.json)}"
                                             if args.json else ""))
    if not args.json:
        print(json.dumps(json_safe({"compression": report["compression"]})))
    return 0


def _report(plane, found, estimator, args) -> dict:
    points = []
    for _, p in plane.iterrows():
        point = {"layer": int(p["layer"]), "epoch": int(p["epoch"]), "d": int(p["d"]),
                 "i_xt": float(p["i_xt"]), "i_ty": float(p["i_ty"]),
                 "in_bounds": bool(p["in_bounds"]), "verdict": p["verdict"],
                 "saturation": float(p["saturation"])}
        if p["mode"] == "population":
            point.update(ci_xt=[float(p["i_xt_low"]), float(p["i_xt_high"])],
                         ci_ty=[float(p["i_ty_low"]), float(p["i_ty_high"])],
                         reason=p["reason"])
        if not p["in_bounds"]:
            point["bound_note"] = p["bound_note"]
        points.append(point)
    from .._io import json_safe

    compression = json_safe(found.to_dict("records"))
    return {"run": os.path.abspath(args.run), "n": int(plane["n"].iloc[0]),
            "mode": args.mode, "estimator": estimator, "split": args.split,
            "points": points, "compression": compression}


def _print(plane, found, args) -> None:
    last = plane[plane["epoch"] == plane["epoch"].max()]
    print(f"{args.run}: {args.mode} plane on {args.split} (N = {int(plane['n'].iloc[0])}), "
          f"{plane['estimator'].iloc[0]}; {len(plane)} points, "
          f"{int((~plane['in_bounds']).sum())} outside the bounds")
    print("  verdicts: " + ", ".join(f"{k} {v}" for k, v in
                                      plane["verdict"].value_counts().items()))
    for _, p in last.iterrows():
        print(f"  layer {int(p['layer'])} (D = {int(p['d'])}) at epoch {int(p['epoch'])}: "
              f"I(X;T) = {p['i_xt']:.3f}, I(T;Y) = {p['i_ty']:.3f} bits, {p['verdict']}")
    for _, c in found.iterrows():
        print(f"  layer {int(c['layer'])}: {c['reason']}")
