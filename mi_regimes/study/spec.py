"""A study configuration (TOML, or JSON in a .json file) expanded into runs named by keys."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field

import tomllib

from .._validation import check_bool, check_choice, check_float, check_int, check_n_boot
from ..bnn.datasets import N_FEATURES, NAMES
from ..bnn.recording import check_snapshot_count
from ..estimators import ESTIMATORS
from ..infoplane import MODES

__all__ = ["RunSpec", "StudySpec", "load_spec"]

_REGULARISER_KEYS = {"weight_decay", "dropout", "label_noise", "random_labels"}


@dataclass(frozen=True)
class RunSpec:
    """One model of the study: what to train and how to measure it."""

    task: str
    widths: tuple[int, ...]
    regulariser: str
    replicate: int
    epochs: int
    batch_size: int
    lr: float
    options: dict = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """The run's name; its seed derives from it, so adding runs changes no other run."""
        return (f"task={self.task}|widths={'-'.join(map(str, self.widths))}|"
                f"reg={self.regulariser}|replicate={self.replicate}")

    def as_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths), "key": self.key}


@dataclass
class StudySpec:
    """The study: its seed, how every run is measured, and the runs."""

    name: str
    seed: int
    snapshots: int
    estimators: list[str]
    n_boot: int
    modes: list[str]
    split: str
    runs: list[RunSpec]

    def measurement(self) -> dict:
        """What every run measures (stored with each result and checked on resume)."""
        return {"snapshots": self.snapshots, "estimators": self.estimators,
                "n_boot": self.n_boot, "modes": self.modes, "split": self.split,
                "seed": self.seed}


def _fail(path, message: str):
    raise ValueError(f"{path}: {message}")


_STUDY_KEYS = {"name", "seed", "seeds", "snapshots", "estimators", "n_boot", "modes", "split"}
_TASK_KEYS = {"epochs", "batch_size", "lr", "architectures"}
_PROFILE_KEYS = {"tasks", "regularisers", "architectures", "seeds", "epochs", "snapshots",
                 "n_boot", "estimators"}
_SPLITS = ("train", "test", "population")  # population: tishby12's 4096 inputs only


def load_spec(path, profile: str | None = None) -> StudySpec:
    """Read a study configuration; ``profile`` (e.g. ``"quick"``) narrows it.

    Checked before any run is planned: unknown keys in every table, and in the tasks and
    regularisers the plan uses (all of them without a profile) values of the wrong type
    or out of range, architectures whose first width is not the task's number of inputs,
    and a split the tasks do not record.

    Raises
    ------
    ValueError, TypeError
        Naming the file, the table and the entry that is wrong, and what it should be.
    """
    config = _read(path)
    study, tasks, regs = (config.get(k, {}) for k in ("study", "tasks", "regularisers"))
    if not tasks or not regs:
        _fail(path, "needs [tasks.NAME] and [regularisers.NAME] tables")
    for where, table, known in [("[study]", study, _STUDY_KEYS),
                                *((f"[tasks.{n}]", t, _TASK_KEYS) for n, t in tasks.items()),
                                *((f"[regularisers.{n}]", r, _REGULARISER_KEYS)
                                  for n, r in regs.items())]:
        if not isinstance(table, dict):
            _fail(path, f"{where} must be a table of settings, got {table!r}")
        unknown = set(table) - known
        if unknown:
            _fail(path, f"{where}: unknown option(s) {sorted(unknown)}; use {sorted(known)}")
    over = {}
    if profile is not None:
        profiles = config.get("profiles", {})
        if profile not in profiles:
            _fail(path, f"no profile {profile!r}; it has {sorted(profiles) or 'none'}")
        over = profiles[profile]
        unknown = set(over) - _PROFILE_KEYS if isinstance(over, dict) else {"(not a table)"}
        if unknown:
            _fail(path, f"[profiles.{profile}]: unknown option(s) {sorted(unknown)}; use "
                        f"{sorted(_PROFILE_KEYS)}")
    pwhere = f"[profiles.{profile}]"

    def setting(key, check, default, *tables):
        """The first of ``(where, table)`` holding ``key``, checked; else the default."""
        for where, table in tables:
            if key in table:
                return _checked(path, f"{where} {key}", check, table[key])
        return default

    task_names = _names(path, f"{pwhere} tasks", over.get("tasks", list(tasks)), tasks,
                        "[tasks]")
    reg_names = _names(path, f"{pwhere} regularisers", over.get("regularisers", list(regs)),
                       regs, "[regularisers]")
    for name in task_names:
        _checked(path, f"[tasks.{name}]", lambda n, v: check_choice(n, v, NAMES), name)
    for name in reg_names:
        _check_regulariser(path, name, regs[name])
    estimators = setting("estimators", _choices(ESTIMATORS), ["plugin"],
                         (pwhere, over), ("[study]", study))
    modes = setting("modes", _choices(MODES), list(MODES), ("[study]", study))
    split = setting("split", lambda n, v: check_choice(n, v, _SPLITS), "train",
                    ("[study]", study))
    if split == "population" and set(task_names) != {"tishby12"}:
        _fail(path, "[study] split: 'population' is recorded for tishby12 only; use 'train' "
                    "or 'test' with the other tasks")
    seeds = setting("seeds", _int(1), 1, (pwhere, over), ("[study]", study))
    n_archs = setting("architectures", _int(1), None, (pwhere, over))
    runs = []
    for task in task_names:
        t = tasks[task]
        where = f"[tasks.{task}]"
        archs = _architectures(path, where, t.get("architectures", []), N_FEATURES[task])
        if n_archs is not None and n_archs > len(archs):  # was cut to what exists, silently
            _fail(path, f"{pwhere} architectures: asks for the first {n_archs}, but {where} "
                        f"lists {len(archs)}; use at most {len(archs)}")
        archs = archs[:n_archs]
        epochs = setting("epochs", _int(1), 100, (pwhere, over), (where, t))
        batch_size = setting("batch_size", _int(2), 64, (where, t))
        lr = setting("lr", _positive, 1e-2, (where, t))
        for widths, reg, rep in itertools.product(archs, reg_names, range(seeds)):
            runs.append(RunSpec(task, widths, reg, rep, epochs, batch_size, lr,
                                dict(regs[reg])))
    name = setting("name", _text, "study", ("[study]", study))
    return StudySpec(
        name=name, seed=setting("seed", _int(0), 0, ("[study]", study)),
        snapshots=setting("snapshots", check_snapshot_count, 100, (pwhere, over),
                          ("[study]", study)),
        estimators=estimators,
        n_boot=setting("n_boot", lambda n, v: check_n_boot(v, n), 100, (pwhere, over),
                       ("[study]", study)),
        modes=modes, split=split, runs=runs)


def _read(path) -> dict:
    as_json = str(path).lower().endswith(".json")
    try:
        with open(path, "rb") as f:
            config = json.load(f) if as_json else tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        _fail(path, f"not valid TOML ({e}); write the configuration as TOML (see "
                    "experiments/study.toml), or as JSON in a file named .json")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        _fail(path, f"not valid JSON ({e})")
    if not isinstance(config, dict) or not all(isinstance(config.get(key, {}), dict)
                                               for key in ("study", "tasks", "regularisers")):
        _fail(path, "study, tasks and regularisers must be tables (objects) of settings")
    return config


def _checked(path, name: str, check, value):
    """``check(name, value)``, its error prefixed with the file."""
    try:
        return check(name, value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None


def _int(low: int):
    return lambda name, v: check_int(name, v, low=low)


def _positive(name: str, v) -> float:
    return check_float(name, v, 0.0, low_open=True)


def _text(name: str, v) -> str:
    if not isinstance(v, str) or not v:
        raise TypeError(f"{name}: expected a non-empty string, got {v!r}")
    return v


def _choices(allowed):
    def check(name: str, v) -> list[str]:
        if not isinstance(v, list) or not v:
            raise TypeError(f"{name}: expected a non-empty list such as [{allowed[0]!r}], "
                            f"got {v!r}")
        return _once(name, [check_choice(name, item, allowed) for item in v])
    return check


def _once(name: str, items: list) -> list:
    """``items`` when none repeats. A repeated run would share its key, and so its
    result file, with the first (375 runs planned, 350 distinct); a repeated estimator
    or mode was computed twice."""
    seen = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{name}: {list(item) if isinstance(item, tuple) else item!r} "
                             "is listed twice; list each once")
        seen.add(item)
    return items


def _names(path, where: str, names, table: dict, table_name: str) -> list[str]:
    if not isinstance(names, list) or not names:
        _fail(path, f"{where}: expected a non-empty list of names from {table_name}, got "
                    f"{names!r}")
    for name in names:
        if not isinstance(name, str) or name not in table:
            _fail(path, f"{where} names {name!r}, not in {table_name}")
    return _checked(path, where, _once, list(names))


def _check_regulariser(path, name: str, reg: dict) -> None:
    where = f"[regularisers.{name}]"
    if "weight_decay" in reg:
        _checked(path, f"{where} weight_decay", lambda n, v: check_float(n, v, 0.0),
                 reg["weight_decay"])
    for key in ("dropout", "label_noise"):
        if key in reg:
            _checked(path, f"{where} {key}", lambda n, v: check_float(
                n, v, 0.0, 1.0, high_open=True), reg[key])
    if "random_labels" in reg:
        _checked(path, f"{where} random_labels", check_bool, reg["random_labels"])


def _architectures(path, where: str, archs, n_inputs: int) -> list[tuple[int, ...]]:
    if not isinstance(archs, list) or not archs:
        _fail(path, f"{where} architectures: expected a non-empty list of width lists such "
                    f"as [[{n_inputs}, 10, 7]], got {archs!r}")
    out = []
    for a in archs:
        ok = (isinstance(a, list) and len(a) >= 2 and all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in a))
        if not ok:
            _fail(path, f"{where} architectures: {a!r} is not a list of the number of inputs "
                        f"then hidden widths, each an integer >= 1, such as [{n_inputs}, 10, 7]")
        if a[0] != n_inputs:
            _fail(path, f"{where} architectures: {a!r} starts with {a[0]}, but the task has "
                        f"{n_inputs} inputs; start it with {n_inputs}")
        out.append(tuple(a))
    return _checked(path, f"{where} architectures", _once, out)
