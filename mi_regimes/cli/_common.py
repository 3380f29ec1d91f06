"""What every command shares: the parser class, user errors, argument readers, outputs."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os

EXIT_USAGE = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump).

    Abbreviated options are off: with them ``heatmap --n 5:2`` was read as
    ``--n-boot 5:2`` and failed with a message about the bootstrap. An unknown option
    is named with the options it may have meant instead.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        # a command's defaults override its parent's, so after parsing this names the
        # innermost command: an unknown option is reported (with suggestions) by it
        self.set_defaults(_parser=self)

    def error(self, message: str):
        if message.startswith("unrecognized arguments:"):
            hints = [self._meant(token) for token in message.split(":", 1)[1].split()
                     if token.startswith("--")]
            message += "".join(f"; {hint}" for hint in hints if hint)
        raise CliError(f"{self.prog}: {message} (see {self.prog} --help)")

    def _meant(self, token: str) -> str:
        """'did you mean --log2-n or --n-boot?' for '--n', or '' when nothing is close."""
        name = token.split("=", 1)[0]
        known = sorted(o for o in self._option_string_actions if o.startswith("--"))
        stem = name.lstrip("-")
        close = [o for o in known if stem and stem in o.lstrip("-").split("-")
                 or o.startswith(name)]
        close += [o for o in difflib.get_close_matches(name, known, n=3, cutoff=0.75)
                  if o not in close]
        return f"{name}: did you mean {' or '.join(close[:3])}?" if close else ""


@contextlib.contextmanager
def user_input(prefix: str = ""):
    """Turn the library's input errors inside the block into one-line CLI errors.

    Only wrap calls whose arguments come from the user: an error anywhere else is a
    bug and keeps its traceback.
    """
    try:
        yield
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise CliError(f"{prefix}{_as_option(str(exc))}") from None


#: The library's argument names that the commands take as options of another name.
_OPTION_OF = {"rng": "--seed", "lr": "--lr", "weight_decay": "--weight-decay",
              "label_noise": "--label-noise", "dropout": "--dropout",
              "batch_size": "--batch-size", "n_boot": "--n-boot", "epochs": "--epochs",
              "alphabet_size": "--alphabet-size", "reps": "--reps",
              "verdict_reps": "--verdict-reps", "jobs": "--jobs", "d": "--d",
              "n_snapshots": "--snapshots"}


def _as_option(message: str) -> str:
    """A message naming a library argument (``rng: ...``) names the user's option."""
    name, sep, rest = message.partition(": ")
    return f"{_OPTION_OF[name]}: {rest}" if sep and name in _OPTION_OF else message


def int_range(text: str, name: str) -> list[int]:
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


def int_list(text: str, name: str) -> list[int]:
    """'12,10,7' -> [12, 10, 7]; an empty item ('12,,4') is refused, not skipped."""
    try:
        return [int(p) for p in text.split(",")] if text.strip() else []
    except ValueError:
        raise CliError(f"{name}: cannot read {text!r}; use comma-separated integers") from None


def params(items: list[str] | None) -> dict:
    """Repeated KEY=VALUE options -> a dict of numbers."""
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


def estimators(text: str, option: str = "--estimator") -> list[str]:
    """A comma-separated list of estimator names, checked, each once (plugin,plugin
    printed the same estimate twice)."""
    from ..estimators import ESTIMATORS

    names = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    bad = [n for n in names if n not in ESTIMATORS]
    if bad or not names:
        raise CliError(f"{option}: unknown {', '.join(bad) or '(empty)'}; choose from "
                       f"{', '.join(ESTIMATORS)}")
    return names


def fraction(value: float, option: str) -> float:
    """A number strictly between 0 and 1."""
    if not 0 < value < 1:
        raise CliError(f"{option}: must lie in (0, 1), got {value}")
    return value


def output_path(path: str, option: str, suffixes: tuple[str, ...]) -> str:
    """A file to write: its folder exists and its suffix is one of ``suffixes``."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{option}: folder {folder!r} does not exist; create it first")
    if not path.lower().endswith(suffixes):
        raise CliError(f"{option}: {path!r} must end in {' or '.join(suffixes)}")
    return path


def use_agg() -> None:
    """Commands only write files: draw with Agg (a library call never chooses a backend)."""
    import matplotlib

    matplotlib.use("Agg")


def write_csv(table, path: str) -> None:
    """Write a DataFrame as CSV, atomically."""
    from .._io import atomic_write

    atomic_write(path, lambda f: table.to_csv(f, index=False), binary=False)
