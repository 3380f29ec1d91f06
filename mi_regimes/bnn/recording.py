"""Recording every binary layer's activations during training, and its file format.

A :class:`Recorder` chooses the epochs; :func:`mi_regimes.bnn.fit` hands it the model's
packed activations at those epochs. The result, a :class:`Recording`, holds one
:class:`RecordedSet` per set of inputs (``train``, ``test``, and any extra set such as
the whole input population of a task), each with its clean labels (and the noisy ones
the model trained on, when labels were corrupted) and its activations per snapshot and
layer, packed (bits, not bytes).

On disk a recording is one ``.npz``: a JSON header that names the format and its
version, then the packed words. :func:`load_recording` refuses files of another format
or version, naming it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .._io import atomic_write, open_npz
from .._validation import check_int
from ..bits import PackedBits

__all__ = ["Recorder", "Recording", "RecordedSet", "load_recording", "log_spaced_epochs",
           "FORMAT", "FORMAT_VERSION"]

FORMAT = "mi_regimes.recording"
#: Version 2: named input sets (train, test, extra), clean and noisy labels.
FORMAT_VERSION = 2


def check_snapshot_count(name: str, value) -> int:
    """A number of log-spaced snapshots: at least 2, since the first and last are in."""
    value = check_int(name, value)
    if value < 2:
        raise ValueError(f"{name}: at least 2, since epoch 0 and the last are always "
                         f"recorded; got {value}")
    return value


def log_spaced_epochs(epochs: int, n_snapshots: int = 100) -> list[int]:
    """``n_snapshots`` log-spaced epochs in 0..epochs (every epoch when there are no more),
    always with 0 and the last.

    Examples
    --------
    >>> log_spaced_epochs(1000, 8)
    [0, 1, 3, 10, 32, 100, 316, 1000]
    """
    epochs = check_int("epochs", epochs, 0)
    n_snapshots = check_snapshot_count("n_snapshots", n_snapshots)
    if epochs + 1 <= n_snapshots:
        return list(range(epochs + 1))
    # epoch 0 and n - 1 log-spaced points from 1 to the last (for n = 2: the last alone);
    # early points round to the same epoch: add points until enough are distinct. It began
    # at n points and so gave n + 1 epochs whenever none coincided; the count is now n
    # (checked for every epochs < 1500 and n < 160; tests/test_bnn.py checks a part)
    points = n_snapshots - 1
    while True:
        grid = np.round(np.logspace(0, math.log10(epochs), points)).astype(int) \
            if points > 1 else np.array([epochs])
        chosen = sorted({0, epochs, *grid.tolist()})
        if len(chosen) >= n_snapshots:
            return chosen
        points += max(1, n_snapshots - len(chosen))


@dataclass
class RecordedSet:
    """The activations of one set of inputs at every snapshot.

    Attributes
    ----------
    labels : numpy.ndarray
        ``int64[N]`` true (clean) labels of the inputs.
    snapshots : list of list of PackedBits
        ``snapshots[s][i]``: binary layer ``i`` at snapshot ``s``.
    noisy_labels : numpy.ndarray or None
        The labels the model was trained on, when they differ from ``labels``.
    """

    labels: np.ndarray
    snapshots: list[list[PackedBits]] = field(default_factory=list)
    noisy_labels: np.ndarray | None = None


@dataclass
class Recording:
    """Snapshots of every binary layer's activations, per set of inputs.

    Attributes
    ----------
    epochs : list of int
        Epoch of each snapshot (0 = before training).
    sets : dict of str to RecordedSet
        ``train`` always; ``test`` and extra sets when recorded.
    metrics : list of dict
        Loss and accuracy at each snapshot: ``train_acc`` on clean labels,
        ``train_acc_noisy`` on the labels trained on (with label noise), ``test_acc``.
    header : dict
        Model configuration, training arguments, package versions.
    """

    epochs: list[int] = field(default_factory=list)
    sets: dict[str, RecordedSet] = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    header: dict = field(default_factory=dict)

    @property
    def layers(self) -> list[list[PackedBits]]:
        """The training set's snapshots, ``layers[s][i]``."""
        return self.sets["train"].snapshots

    @property
    def labels(self) -> np.ndarray:
        """The training set's clean labels."""
        return self.sets["train"].labels

    @property
    def widths(self) -> list[int]:
        """Width (bits) of each recorded layer."""
        return [p.d for p in next(iter(self.sets.values())).snapshots[0]]

    def save(self, path) -> str:
        """Write the recording as one ``.npz``, atomically."""
        if not self.epochs:
            raise ValueError("recording: holds no snapshots; nothing to save")
        header = {"format": FORMAT, "version": FORMAT_VERSION, **self.header,
                  "metrics": self.metrics, "widths": self.widths, "sets": list(self.sets)}
        arrays = {"header": np.array(json.dumps(header)),
                  "epochs": np.array(self.epochs, np.int64)}
        for name, rec in self.sets.items():
            arrays[f"{name}/labels"] = np.asarray(rec.labels, np.int64)
            if rec.noisy_labels is not None:
                arrays[f"{name}/noisy_labels"] = np.asarray(rec.noisy_labels, np.int64)
            for s, snap in enumerate(rec.snapshots):
                for layer, packed in enumerate(snap):
                    arrays[f"{name}/s{s}/l{layer}"] = packed.words
        return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def load_recording(path) -> Recording:
    """Read a recording written by :meth:`Recording.save`.

    Raises
    ------
    ValueError
        If the file is not a recording, or of a format version this package cannot read.
    """
    with open_npz(path, "a mi_regimes recording") as data:
        if "header" not in data.files:
            raise ValueError(f"{path}: not a mi_regimes recording (no header)")
        try:
            return _read_recording(path, data)
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: damaged mi_regimes recording ({type(exc).__name__}: "
                             f"{exc}); record the run again") from None


def _read_recording(path, data) -> Recording:
    """The recording in an open archive; raises on anything inconsistent."""
    header = json.loads(str(data["header"]))
    version = header.pop("version", 1)
    if header.pop("format", FORMAT) != FORMAT or version != FORMAT_VERSION:
        raise ValueError(f"{path}: recording format version {version} is not supported "
                         f"(this mi_regimes reads version {FORMAT_VERSION}); re-record "
                         "the run with this version")
    epochs = data["epochs"].tolist()
    widths = header.pop("widths")
    metrics = header.pop("metrics")
    sets = {}
    for name in header.pop("sets"):
        noisy = f"{name}/noisy_labels"
        rec = RecordedSet(data[f"{name}/labels"],
                          noisy_labels=data[noisy] if noisy in data.files else None)
        stored = sum(f.startswith(f"{name}/s") for f in data.files)
        if stored != len(epochs) * len(widths):
            raise ValueError(f"{path}: set {name!r} holds {stored} layer snapshots, but "
                             f"{len(epochs)} epochs x {len(widths)} layers were recorded; "
                             "the file is damaged")
        for s in range(len(epochs)):
            snap = []
            for layer, d in enumerate(widths):
                words = np.ascontiguousarray(data[f"{name}/s{s}/l{layer}"])
                words.flags.writeable = False
                if words.ndim != 2 or words.shape[0] != rec.labels.shape[0]:
                    raise ValueError(f"{path}: set {name!r}, epoch {epochs[s]}, layer "
                                     f"{layer + 1}: {words.shape[0] if words.ndim else 0}"
                                     f" rows for {rec.labels.shape[0]} labels; the file "
                                     "is damaged")
                snap.append(PackedBits(words, words.shape[0], d))
            rec.snapshots.append(snap)
        sets[name] = rec
    return Recording(epochs, sets, metrics, header)


class Recorder:
    """Chooses the epochs at which :func:`~mi_regimes.bnn.fit` snapshots the binary layers.

    Parameters
    ----------
    epochs : sequence of int, optional
        Explicit epochs (0 = before training), at least one; :func:`fit` refuses
        epochs past its last (early stopping may still end a fit before some of them).
        Default about ``n_snapshots`` log-spaced ones, always including the first and
        the last.
    n_snapshots : int, optional
        Number of log-spaced snapshots (default 100), instead of ``epochs``; passing
        both is refused.
    test : bool
        Record the test inputs too.
    extra : dict, optional
        More sets to record, ``name -> (x, y)`` (e.g. every input pattern of a task,
        for planes against the true population).
    """

    def __init__(self, epochs=None, n_snapshots: int | None = None, *, test: bool = True,
                 extra: dict | None = None, n: int | None = None):
        count_name = "n_snapshots"
        if n is not None:  # the old name of n_snapshots
            if n_snapshots is not None:
                raise TypeError("n: the old name of n_snapshots; pass one of them")
            n_snapshots, count_name = n, "n"
        if epochs is not None and n_snapshots is not None:  # one was dropped without a word
            raise TypeError(f"epochs and {count_name}: pass one; epochs are the snapshots "
                            f"themselves, {count_name} asks for that many log-spaced ones")
        n_snapshots = 100 if n_snapshots is None else n_snapshots
        if epochs is not None and not isinstance(epochs, Iterable):
            raise TypeError(f"epochs: expected a sequence of epoch numbers such as [0, 10, "
                            f"100], got {epochs!r}; for that many log-spaced snapshots pass "
                            "n_snapshots")
        self.requested = None if epochs is None else sorted(
            {check_int("epochs", e, 0) for e in epochs})  # 1.5 is refused, not truncated
        if self.requested == []:
            raise ValueError("epochs: empty, so nothing would be recorded; pass at least one "
                             "epoch (0 = before training), or None for n_snapshots "
                             "log-spaced ones")
        self.n_snapshots = check_snapshot_count(count_name, n_snapshots)
        self.test = bool(test)
        self.extra = dict(extra or {})
        for name, pair in self.extra.items():
            if name in ("train", "test") or not isinstance(name, str) or "/" in name:
                raise ValueError(f"extra: set name {name!r} is reserved or not a plain name")
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(f"extra[{name!r}]: expected a pair (x, y) of inputs and "
                                 f"their labels, got {type(pair).__name__}")

    def schedule(self, total_epochs: int) -> set[int]:
        """The epochs to snapshot in a run of ``total_epochs`` epochs."""
        if self.requested is None:
            return set(log_spaced_epochs(total_epochs, self.n_snapshots))
        return {e for e in self.requested if 0 <= e <= total_epochs}
