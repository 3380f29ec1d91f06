"""The ``mi-regimes`` command: one module per command, thin parsing over the library.

Each command module has ``add_parser(subparsers, formatter)`` and a ``run(args)``; work
is imported on demand so that ``mi-regimes --help`` stays fast. A user's error (bad
option, unreadable file, invalid data) prints one line and exits 2; any other exception
is a bug and keeps its traceback. A reader that closes the output early (``| head``)
ends the command quietly with status 141.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ._common import EXIT_USAGE, CliError, Parser

__all__ = ["main", "build_parser", "CliError"]

_COMMANDS = ("heatmap", "estimate", "sources", "train", "infoplane", "study")
#: Exit status when the reader of our output closed it: 128 + SIGPIPE, as shells report.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mi-regimes`` (exposed for the docs and tests)."""
    import importlib

    fmt = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog="mi-regimes", formatter_class=fmt,
                    description="When can an entropy / MI estimate of binary data be trusted?",
                    epilog="examples:\n  mi-regimes heatmap\n"
                           "  mi-regimes estimate activations.npy --labels y.npy\n"
                           "  mi-regimes theory --family bernoulli --d 8 --n 64")
    parser.add_argument("--version", action="version", version=f"mi-regimes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in _COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub, fmt)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mi-regimes``; returns the exit code."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
        if args.command is None:
            parser.print_help()
            return 0
        return args.func(args)
    except CliError as exc:
        print(f"mi-regimes: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mi-regimes: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader left (`mi-regimes estimate x.npy --json | head`): stop quietly, as
        # `yes | head` does; stdout goes to devnull so the flush at exit cannot fail again
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
