"""A study configuration (TOML, or JSON in a .json file) expanded into runs named by keys."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field

import tomllib

from .._validation import check_choice
from ..bnn.datasets import NAMES
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


def load_spec(path, profile: str | None = None) -> StudySpec:
    """Read a study configuration; ``profile`` (e.g. ``"quick"``) narrows it.

    Raises
    ------
    ValueError
        Naming the file and the entry that is wrong.
    """
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
    study = config.get("study", {})
    tasks = config.get("tasks", {})
    regs = config.get("regularisers", {})
    if not tasks or not regs:
        _fail(path, "needs [tasks.NAME] and [regularisers.NAME] tables")
    for name, reg in regs.items():
        unknown = set(reg) - _REGULARISER_KEYS
        if unknown:
            _fail(path, f"regulariser {name!r}: unknown option(s) {sorted(unknown)}; use "
                        f"{sorted(_REGULARISER_KEYS)}")
    over = {}
    if profile is not None:
        profiles = config.get("profiles", {})
        if profile not in profiles:
            _fail(path, f"no profile {profile!r}; it has {sorted(profiles) or 'none'}")
        over = profiles[profile]
    task_names = over.get("tasks", list(tasks))
    reg_names = over.get("regularisers", list(regs))
    for name in task_names:
        if name not in tasks:
            _fail(path, f"profile {profile!r} names task {name!r}, not in [tasks]")
        check_choice("task", name, NAMES)
    for name in reg_names:
        if name not in regs:
            _fail(path, f"profile {profile!r} names regulariser {name!r}, not in [regularisers]")
    estimators = over.get("estimators", study.get("estimators", ["plugin"]))
    for e in estimators:
        check_choice("estimators", e, ESTIMATORS)
    modes = study.get("modes", list(MODES))
    for m in modes:
        check_choice("modes", m, MODES)
    seeds = int(over.get("seeds", study.get("seeds", 1)))
    runs = []
    for task in task_names:
        t = tasks[task]
        archs = [tuple(int(w) for w in a) for a in t.get("architectures", [])]
        if not archs:
            _fail(path, f"task {task!r} has no architectures")
        archs = archs[:int(over.get("architectures", len(archs)))]
        epochs = int(over.get("epochs", t.get("epochs", 100)))
        for widths, reg, rep in itertools.product(archs, reg_names, range(seeds)):
            runs.append(RunSpec(task, widths, reg, rep, epochs, int(t.get("batch_size", 64)),
                                float(t.get("lr", 1e-2)), dict(regs[reg])))
    return StudySpec(
        name=str(study.get("name", "study")), seed=int(study.get("seed", 0)),
        snapshots=int(over.get("snapshots", study.get("snapshots", 100))),
        estimators=list(estimators), n_boot=int(over.get("n_boot", study.get("n_boot", 100))),
        modes=list(modes), split=str(study.get("split", "train")), runs=runs)
