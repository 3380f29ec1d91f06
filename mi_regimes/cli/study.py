"""``mi-regimes study plan|run|report``: many BNNs, late compression vs generalisation."""

from __future__ import annotations

import argparse
import contextlib
import json
import os

from ._common import CliError, user_input

HELP = "train many BNNs and report late compression against generalisation"


def add_parser(sub, fmt) -> None:
    s = sub.add_parser(
        "study", formatter_class=fmt, help=HELP,
        description="A study from a TOML configuration (experiments/study.toml): plan lists "
                    "the runs, run trains and measures those not done yet (re-runs skip "
                    "verified results), report writes the tables and the figure.",
        epilog="examples:\n  mi-regimes study plan experiments/study.toml --quick\n"
               "  mi-regimes study run experiments/study.toml --out study --jobs 2\n"
               "  mi-regimes study run experiments/study.toml --out study --dask-local\n"
               "  mi-regimes study report study --out docs/results.md")
    actions = s.add_subparsers(dest="action", metavar="ACTION", required=True,
                               parser_class=type(s))
    for name in ("plan", "run"):
        a = actions.add_parser(name, formatter_class=fmt,
                               help="list the runs" if name == "plan" else
                               "train and measure the runs not done yet")
        a.add_argument("config", metavar="CONFIG",
                       help="study configuration (.toml, or .json with the same tables)")
        which = a.add_mutually_exclusive_group()
        which.add_argument("--profile", default=None, help="a [profiles.NAME] of the config")
        which.add_argument("--quick", action="store_const", const="quick", dest="profile",
                           help="the config's quick profile (same as --profile quick)")
        if name == "run":
            a.add_argument("--out", required=True, metavar="DIR", help="results folder")
            a.add_argument("--jobs", type=int, default=1, help="worker processes, default 1")
            where = a.add_mutually_exclusive_group()
            where.add_argument("--scheduler", metavar="ADDR",
                               help="submit to a Dask scheduler, e.g. tcp://host:8786")
            where.add_argument("--dask-local", action="store_true",
                               help="start a Dask LocalCluster with --jobs workers")
            a.add_argument("--quiet", action="store_true", help="no progress bar")
        a.set_defaults(func=run)
    r = actions.add_parser("report", formatter_class=fmt, help="tables and figure")
    r.add_argument("dir", metavar="DIR", help="results folder of study run")
    r.add_argument("--out", default=None, help="Markdown report, default DIR/results.md")
    r.add_argument("--mode", default=None, choices=["population", "empirical"],
                   help="planes to judge, default population when measured")
    r.add_argument("--estimator", default=None,
                   help="default miller_madow when measured, else the study's first")
    r.set_defaults(func=run)


def _spec(args):
    from ..study import load_spec

    if not os.path.isfile(args.config):
        raise CliError(f"CONFIG: no such file {args.config!r}")
    with user_input():
        return load_spec(args.config, args.profile)


@contextlib.contextmanager
def _client(args):
    if not (args.scheduler or args.dask_local):
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CliError("--scheduler/--dask-local need dask: pip install "
                       "'mi_regimes[dask]'") from None
    if args.scheduler:
        try:  # an address nothing answers on ended in an OSError traceback after 30 s
            client = Client(args.scheduler)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise CliError(f"--scheduler: cannot reach a Dask scheduler at "
                           f"{args.scheduler!r} ({exc}); start one (dask scheduler) and pass "
                           "its address, or use --dask-local") from None
        with client:
            yield client
    else:
        with LocalCluster(n_workers=max(1, args.jobs), threads_per_worker=1,
                          processes=True) as cluster, Client(cluster) as client:
            yield client


def run(args: argparse.Namespace) -> int:
    if args.action == "plan":
        spec = _spec(args)
        # one JSON document on stdout, so scripts can read it whole
        print(json.dumps({"runs": len(spec.runs), "profile": args.profile,
                          "measurement": spec.measurement(),
                          "keys": [r.key for r in spec.runs]}, indent=2))
        return 0
    if args.action == "run":
        from ..study import run_study

        if args.jobs < 1:
            raise CliError("--jobs: must be >= 1")
        spec = _spec(args)
        parent = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(parent):
            raise CliError(f"--out: the folder holding {args.out!r} does not exist")
        with _client(args) as client:
            counts = run_study(spec, args.out, jobs=args.jobs, client=client,
                               progress=not args.quiet)
        print(json.dumps(counts))
        return 0
    from ..study.report import write_report

    if not os.path.isdir(args.dir):
        raise CliError(f"DIR: no such folder {args.dir!r}")
    with user_input():
        path = write_report(args.dir, args.out, mode=args.mode, estimator=args.estimator)
    print(f"wrote {os.path.abspath(path)}")
    return 0
