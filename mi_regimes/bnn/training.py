"""Training: Adam on latent weights, schedules, regularisers, and the activation recorder."""

from __future__ import annotations

import json
import math
import operator
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from ..bits import PackedBits
from .datasets import Dataset, corrupt_labels, stratified_split
from .model import BinaryMLP, Gradients, _is_latent
from .ops import adam_update, adam_update_flat

__all__ = ["Adam", "fit", "History", "Recorder", "Recording", "load_recording",
           "log_spaced_epochs"]


class Adam:
    """Adam (Kingma & Ba) with L2 weight decay on the latent binary weights and clipping.

    The latent weights ``W1 .. WL`` are clipped to [-1, 1] after every step, so the
    straight-through estimator's 1{|W| <= 1} stays 1 and sign flips stay reachable.

    Parameters
    ----------
    params : dict of numpy.ndarray
        The parameters to update (float32).
    lr : float
        Learning rate.
    weight_decay : float
        L2 decay of the latent weights.
    betas : tuple of float
        Decay rates of the first and second moments.
    eps : float
        Added to the root of the second moment.
    flat : tuple, optional
        ``(buffer, n_latent)`` from :meth:`BinaryMLP.flat_parameters`: then a step with
        :class:`~mi_regimes.bnn.model.Gradients` updates everything in one kernel call.
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float, weight_decay: float = 0.0,
                 betas=(0.9, 0.999), eps: float = 1e-8,
                 flat: tuple[np.ndarray, int] | None = None):
        self.lr, self.weight_decay = lr, weight_decay
        self.b1, self.b2, self.eps = betas[0], betas[1], eps
        self.t = 0
        self._flat = flat
        self._flat_m = self._flat_v = None
        self.m = {k: np.zeros(v.size, np.float32) for k, v in params.items()}
        self.v = {k: np.zeros(v.size, np.float32) for k, v in params.items()}
        if flat is not None:
            # the moments share the parameters' layout: m[k] is a view of one buffer
            buffer = flat[0]
            self._flat_m = np.zeros_like(buffer)
            self._flat_v = np.zeros_like(buffer)
            start = buffer.__array_interface__["data"][0]
            for k, p in params.items():
                o = (p.__array_interface__["data"][0] - start) // buffer.itemsize
                self.m[k] = self._flat_m[o:o + p.size]
                self.v[k] = self._flat_v[o:o + p.size]
        self._views = dict(params)  # identity of each array, to detect replacement
        self._flat_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    is_latent = staticmethod(_is_latent)

    def _one_call(self, params, grads) -> bool:
        flat = self._flat
        return (flat is not None and isinstance(grads, Gradients)
                and grads.params_flat is flat[0] and len(params) == len(self._views)
                and all(map(operator.is_, map(params.get, self._views), self._views.values())))

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``."""
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        if self._one_call(params, grads):
            buffer, n_latent = self._flat
            adam_update_flat(buffer, grads.flat, self._flat_m, self._flat_v, n_latent,
                             self.lr, self.b1, self.b2, self.eps, c1, c2, self.weight_decay)
            return
        for k, g in grads.items():
            p = params[k]
            cached = self._flat_cache.get(k)
            if cached is None or cached[0] is not p:  # the caller may replace an array
                cached = self._flat_cache[k] = (p, p.reshape(-1))
            latent = self.is_latent(k)
            adam_update(cached[1], np.ascontiguousarray(g, dtype=np.float32).reshape(-1),
                        self.m[k], self.v[k], self.lr, self.b1, self.b2, self.eps, c1, c2,
                        self.weight_decay if latent else 0.0, latent)


def _learning_rate(schedule: str, lr: float, epoch: int, epochs: int) -> float:
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / max(epochs, 1)))
    if schedule == "step":
        return lr * 0.1 ** (epoch // max(1, epochs // 3))
    raise ValueError(f"lr_schedule: choose 'constant', 'cosine' or 'step', got {schedule!r}")


def log_spaced_epochs(epochs: int, n: int = 100) -> list[int]:
    """About ``n`` log-spaced epochs in 0..epochs, always with the first (0) and the last."""
    if epochs < 0:
        raise ValueError(f"epochs: must be >= 0, got {epochs}")
    if epochs + 1 <= n:
        return list(range(epochs + 1))
    # early log-spaced points round to the same epoch: add points until n are distinct
    points = n
    while True:
        grid = np.round(np.logspace(0, math.log10(epochs), points)).astype(int)
        chosen = sorted({0, epochs, *grid.tolist()})
        if len(chosen) >= n:
            return chosen
        points += max(1, n - len(chosen))


@dataclass
class Recording:
    """Snapshots of every binary layer's activations on the training set.

    Attributes
    ----------
    epochs : list of int
        Epoch of each snapshot (0 = before training).
    layers : list of list of PackedBits
        ``layers[s][i]``: binary layer ``i`` at snapshot ``s``, packed (≈ N·D/8 bytes).
    metrics : list of dict
        Train/test loss and accuracy at each snapshot.
    labels : numpy.ndarray
        Training labels the activations were recorded on (after label noise).
    header : dict
        Model configuration, seed, training arguments, package versions.
    """

    epochs: list[int] = field(default_factory=list)
    layers: list[list[PackedBits]] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    labels: np.ndarray | None = None
    header: dict = field(default_factory=dict)

    def save(self, path: str) -> str:
        """Write an ``.npz`` with a JSON header, atomically (temporary file, then rename)."""
        arrays = {"epochs": np.array(self.epochs, np.int64),
                  "labels": np.asarray(self.labels, np.int64),
                  "header": np.array(json.dumps({**self.header, "metrics": self.metrics,
                                                 "widths": [p.d for p in self.layers[0]]}))}
        for s, snap in enumerate(self.layers):
            for layer, packed in enumerate(snap):
                arrays[f"s{s}_l{layer}"] = packed.words
        folder = os.path.dirname(os.path.abspath(path)) or "."
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=folder, prefix=".tmp-")
        os.close(fd)
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path


def load_recording(path: str) -> Recording:
    """Read a recording written by :meth:`Recording.save`."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        epochs = data["epochs"].tolist()
        labels = data["labels"]
        widths = header.pop("widths")
        metrics = header.pop("metrics")
        layers = []
        for s in range(len(epochs)):
            snap = []
            for layer, d in enumerate(widths):
                words = np.ascontiguousarray(data[f"s{s}_l{layer}"])
                words.flags.writeable = False
                snap.append(PackedBits(words, words.shape[0], d))
            layers.append(snap)
    return Recording(epochs, layers, metrics, labels, header)


class Recorder:
    """Chooses the epochs at which :func:`fit` snapshots the binary layers.

    Parameters
    ----------
    epochs : sequence of int or None
        Explicit epochs (0 = before training); default ~``n`` log-spaced ones,
        always including the first and last.
    n : int
        Number of log-spaced snapshots when ``epochs`` is None.
    """

    def __init__(self, epochs=None, n: int = 100):
        self.requested = None if epochs is None else sorted({int(e) for e in epochs})
        self.n = n

    def schedule(self, total_epochs: int) -> set[int]:
        """The epochs to snapshot in a run of ``total_epochs`` epochs."""
        if self.requested is None:
            return set(log_spaced_epochs(total_epochs, self.n))
        return {e for e in self.requested if 0 <= e <= total_epochs}


@dataclass
class History:
    """Per-epoch metrics of a run, and the recording if one was requested."""

    epoch: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    stopped_early: bool = False
    recording: Recording | None = None

    def as_dict(self) -> dict:
        """Per-epoch metrics as a dict of lists (for a DataFrame or JSON)."""
        return {k: getattr(self, k) for k in ("epoch", "lr", "train_loss", "train_acc",
                                              "test_loss", "test_acc", "val_loss")}


def _versions() -> dict:
    import numba

    from .. import __version__

    return {"mi_regimes": __version__, "numpy": np.__version__, "numba": numba.__version__}


def fit(model: BinaryMLP, data: Dataset, epochs: int = 20, batch_size: int = 64,
        lr: float = 1e-2, seed: int = 0, *, lr_schedule: str = "cosine",
        weight_decay: float = 0.0, label_noise: float = 0.0, validation: float = 0.0,
        patience: int | None = None, record: Recorder | None = None,
        progress: bool = False) -> History:
    """Train ``model`` on ``data`` with Adam and mini-batches.

    Parameters
    ----------
    model : BinaryMLP
        Trained in place.
    data : Dataset
        From :func:`mi_regimes.bnn.datasets.load`.
    epochs : int
        Passes over the training set (>= 1).
    batch_size : int
        Mini-batch size (>= 2: batch norm needs two samples).
    lr : float
        Peak learning rate (> 0).
    seed : int
        Shuffling, dropout, label noise and validation split; same seed, same run.
    lr_schedule : {'cosine', 'constant', 'step'}
        Learning-rate schedule over the epochs.
    weight_decay : float
        L2 penalty on the latent binary weights (>= 0).
    label_noise : float
        Fraction of training labels flipped to another class, in [0, 1].
    validation : float
        Fraction of the training set held out (stratified) for early stopping, in [0, 1).
    patience : int, optional
        Stop when the validation loss has not improved for this many epochs.
    record : Recorder, optional
        Snapshot the binary layers on the training set at the recorder's epochs.
    progress : bool
        Show a progress bar.

    Returns
    -------
    History
    """
    if not isinstance(model, BinaryMLP):
        raise TypeError(f"model: expected a BinaryMLP, got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data: expected a Dataset from datasets.load, got {type(data).__name__}")
    if data.x_train.shape[1] != model.widths[0]:
        raise ValueError(f"data: {data.name} has {data.x_train.shape[1]} features but the model "
                         f"expects {model.widths[0]}; set widths[0] = {data.x_train.shape[1]}")
    if data.n_classes > model.n_classes:
        raise ValueError(f"data: {data.n_classes} classes but the model has {model.n_classes}")
    epochs = int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    if isinstance(batch_size, bool) or int(batch_size) < 2:
        raise ValueError(f"batch_size: must be >= 2 (batch norm), got {batch_size}")
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: must be a positive number, got {lr!r}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay: must be >= 0, got {weight_decay}")
    if not 0 <= validation < 1:
        raise ValueError(f"validation: must lie in [0, 1), got {validation}")
    if patience is not None and (validation == 0 or patience < 1):
        raise ValueError("patience: early stopping needs validation > 0 and patience >= 1")
    _learning_rate(lr_schedule, lr, 0, epochs)  # validates the schedule name

    seeds = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(seeds[0])
    y_train = corrupt_labels(data.y_train, label_noise, data.n_classes,
                             int(seeds[1].generate_state(1)[0]))
    x_fit, y_fit = data.x_train, y_train
    x_val = y_val = None
    if validation > 0:
        x_fit, y_fit, x_val, y_val = stratified_split(
            data.x_train, y_train, validation, int(seeds[2].generate_state(1)[0]))
    x_fit = model._input(x_fit)  # validated once, not at every step
    n = x_fit.shape[0]
    batch_size = min(int(batch_size), n)
    opt = Adam(model.params, lr, weight_decay, flat=model.flat_parameters())
    grads = model.new_gradients()  # one buffer, overwritten by every step
    history = History()
    snapshots = record.schedule(epochs) if record is not None else set()
    recording = Recording(labels=y_fit, header={
        "config": model.config(), "seed": seed, "dataset": data.name, "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "lr_schedule": lr_schedule,
        "weight_decay": weight_decay, "label_noise": label_noise, "validation": validation,
        "versions": _versions()}) if record is not None else None

    def snapshot(epoch: int) -> None:
        if recording is not None and epoch in snapshots:
            tr = model.evaluate(x_fit, y_fit)
            te = model.evaluate(data.x_test, data.y_test)
            recording.epochs.append(epoch)
            recording.layers.append(model.activations_packed(x_fit))
            recording.metrics.append({"epoch": epoch, "train_loss": tr[0], "train_acc": tr[1],
                                      "test_loss": te[0], "test_acc": te[1]})

    snapshot(0)
    best, waited = math.inf, 0
    from tqdm.auto import tqdm

    for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not progress):
        opt.lr = _learning_rate(lr_schedule, lr, epoch - 1, epochs)
        order = rng.permutation(n)
        for start in range(0, n - 1, batch_size):
            idx = order[start:start + batch_size]
            if idx.size < 2:  # batch norm needs two samples
                continue
            _, cache, _ = model._run(x_fit[idx], True, rng, checked=True)
            _, grads = model.backward(cache, y_fit[idx], out=grads)
            opt.step(model.params, grads)
        tr_loss, tr_acc = model.evaluate(x_fit, y_fit)
        te_loss, te_acc = model.evaluate(data.x_test, data.y_test)
        history.epoch.append(epoch)
        history.lr.append(opt.lr)
        history.train_loss.append(tr_loss)
        history.train_acc.append(tr_acc)
        history.test_loss.append(te_loss)
        history.test_acc.append(te_acc)
        snapshot(epoch)
        if x_val is not None:
            val = model.evaluate(x_val, y_val)[0]
            history.val_loss.append(val)
            if patience is not None:
                if val < best - 1e-6:
                    best, waited = val, 0
                else:
                    waited += 1
                    if waited >= patience:
                        history.stopped_early = True
                        if recording is not None and epoch not in snapshots:
                            snapshots.add(epoch)  # the last epoch is always recorded
                            snapshot(epoch)
                        break
    history.recording = recording
    return history
