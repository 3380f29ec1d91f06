"""Training: one public mini-batch step, and ``fit`` built on it.

:func:`train_step` is the whole of a step (forward in training mode, straight-through
backward, optimiser update) for users' own loops; :func:`fit` adds shuffling,
regularisers (weight decay, dropout, label noise), a learning-rate schedule, early
stopping, per-epoch evaluation and the activation recorder.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._random import as_seed_sequence, renamed_seed
from .._validation import check_float, check_fraction, check_int
from ._inputs import check_input_matrix, check_labels
from .checkpoint import package_versions
from .datasets import Dataset, corrupt_labels, stratified_indices
from .fused import fused_step
from .model import BinaryMLP, Gradients, loss_and_accuracy
from .optim import Adam, learning_rate
from .products import one_blas_thread
from .recording import RecordedSet, Recorder, Recording
from .threads import ThreadTuner, thread_budget, use_threads

__all__ = ["train_step", "fit", "History"]


#: Most epochs a fit takes: its history holds a few numbers per epoch (~0.3 kB), and
#: 10^20 epochs ended in the progress bar's OverflowError.
MAX_EPOCHS = 10**7


def train_step(model: BinaryMLP, xb, yb, optimizer: Adam, *, rng=None,
               grads: Gradients | None = None, validate: bool = True) -> float:
    """One mini-batch step: forward (batch statistics, dropout), backward, update.

    Parameters
    ----------
    model : BinaryMLP
        Updated in place.
    xb : array_like
        ``(B, n_inputs)`` inputs, B >= 2 (batch norm).
    yb : array_like
        ``B`` integer labels in ``0 .. n_classes - 1``.
    optimizer : Adam
        Built on the model (``Adam(model, lr)``, or ``Adam(model.params, lr,
        flat=model.flat_parameters())``).
    rng : numpy.random.Generator, optional
        Dropout randomness (needed when the model has dropout).
    grads : Gradients, optional
        A buffer from ``model.new_gradients()`` to reuse.
    validate : bool
        False skips the checks of ``xb`` and ``yb`` (data already validated).

    Returns
    -------
    float
        The batch's mean cross-entropy before the update.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_regimes.bnn import Adam, BinaryMLP, train_step
    >>> model = BinaryMLP([4, 8], n_classes=2, rng=0)
    >>> opt = Adam(model, lr=0.01)
    >>> x = np.random.default_rng(0).random((16, 4)); y = (x[:, 0] > 0.5).astype(int)
    >>> loss = train_step(model, x, y, opt)
    >>> 0 < loss < 2
    True
    """
    if validate:
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer: expected an optimizer with a step() method, e.g. "
                            f"Adam(model, lr); got "
                            f"{type(optimizer).__name__}")
        xb = model.check_inputs(xb)
        if xb.shape[0] < 2:
            raise ValueError(f"xb: batch norm needs at least 2 samples, got {xb.shape[0]}")
        yb = check_labels("yb", yb, xb.shape[0], model.n_classes)
    if grads is None:
        grads = model.new_gradients()
    with one_blas_thread():
        loss = fused_step(model, xb, yb, grads)
        if loss is None:  # dropout, or shapes the compiled step leaves to NumPy
            _, cache = model.forward(xb, True, rng, validate=False)
            loss, grads = model.backward(cache, yb, out=grads)
    optimizer.step(model.params, grads)
    return loss


@dataclass
class History:
    """Per-epoch metrics of a run, and the recording if one was requested.

    ``train_loss``/``train_acc`` are measured on the clean labels; with label noise,
    ``train_loss_noisy``/``train_acc_noisy`` on the labels the model was trained on.
    ``epoch_seconds`` is each epoch's wall time (training steps, evaluation and
    recording); it is not a result of the run, so :meth:`as_dict` leaves it out (same
    seed, same dict, whatever the machine).
    """

    epoch: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    train_loss_noisy: list[float] = field(default_factory=list)
    train_acc_noisy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    stopped_early: bool = False
    recording: Recording | None = None

    def as_dict(self) -> dict:
        """Per-epoch metrics as a dict of lists (for a DataFrame or JSON)."""
        return {k: getattr(self, k) for k in (
            "epoch", "lr", "train_loss", "train_acc", "train_loss_noisy", "train_acc_noisy",
            "test_loss", "test_acc", "val_loss")}


def _check_fit_arguments(model, data, epochs, batch_size, lr, weight_decay, validation,
                         patience, lr_schedule, record) -> None:
    if not isinstance(model, BinaryMLP):
        raise TypeError(f"model: expected a BinaryMLP, got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data: expected a Dataset, got {type(data).__name__}; use "
                        "datasets.load(name), or datasets.Dataset(x_train, y_train, x_test, "
                        "y_test, name, n_classes) for your own arrays")
    if data.x_train.shape[1] != model.widths[0]:
        raise ValueError(f"data: {data.name} has {data.x_train.shape[1]} features but the model "
                         f"expects {model.widths[0]}; set widths[0] = {data.x_train.shape[1]}")
    if data.n_classes > model.n_classes:
        raise ValueError(f"data: {data.name} has {data.n_classes} classes but the model "
                         f"has {model.n_classes}; build it with n_classes={data.n_classes}")
    check_int("epochs", epochs, 1, MAX_EPOCHS)
    check_int("batch_size", batch_size, 2)
    check_float("lr", lr, 0.0, low_open=True)
    check_float("weight_decay", weight_decay, 0.0)
    check_fraction("validation", validation, open_low=False)
    if patience is not None and (validation == 0 or check_int("patience", patience, 1) < 1):
        raise ValueError("patience: early stopping needs validation > 0 and patience >= 1")
    learning_rate(lr_schedule, lr, 0, epochs)  # validates the schedule name
    if record is not None and not isinstance(record, Recorder):
        raise TypeError(f"record: expected a Recorder, got {type(record).__name__}")
    late = [e for e in (record.requested or []) if e > epochs] if record is not None else []
    if late:  # they would be dropped without a word (early stopping may drop more)
        raise ValueError(f"record: epochs {late} come after the last epoch, {epochs}; "
                         f"ask for epochs 0..{epochs} or train longer")


def fit(model: BinaryMLP, data: Dataset, epochs: int = 20, batch_size: int = 64,
        lr: float = 1e-2, rng=0, *, lr_schedule: str = "cosine",
        weight_decay: float = 0.0, label_noise: float = 0.0, validation: float = 0.0,
        patience: int | None = None, record: Recorder | None = None,
        progress: bool = False, threads: int | None = None, seed=None) -> History:
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
    rng : int, SeedSequence or numpy.random.Generator
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
        Snapshot the binary layers at the recorder's epochs (training inputs, and test
        inputs and extra sets as the recorder asks).
    progress : bool
        Show a progress bar.
    threads : int, optional
        Threads of every product (BLAS and our kernels). Default: chosen epoch by epoch
        by timing, between one and this process's share of the cores
        (:mod:`mi_regimes.bnn.threads`); results do not depend on it.
    seed : int, optional
        Another name of ``rng`` (DESIGN.md's spelling); pass one, not both.

    Returns
    -------
    History
    """
    rng = renamed_seed(rng, seed, "fit", default=0)
    _check_fit_arguments(model, data, epochs, batch_size, lr, weight_decay, validation,
                         patience, lr_schedule, record)
    check_float("label_noise", label_noise, 0.0, 1.0)
    shuffle_seed, noise_seed, split_seed = as_seed_sequence(rng).spawn(3)
    shuffle = np.random.default_rng(shuffle_seed)
    noisy = corrupt_labels(data.y_train, label_noise, data.n_classes,
                           int(noise_seed.generate_state(1)[0]))
    fit_idx = np.arange(data.y_train.size)
    val_idx = None
    if validation > 0:
        fit_idx, val_idx = stratified_indices(noisy, validation,
                                              int(split_seed.generate_state(1)[0]))
    x_fit = model.check_inputs(data.x_train[fit_idx])  # validated once, not at every step
    y_fit, y_clean = noisy[fit_idx], data.y_train[fit_idx]
    x_test = model.check_inputs(data.x_test)
    n = x_fit.shape[0]
    batch_size = min(int(batch_size), n)
    opt = Adam(model, lr, weight_decay)
    grads = model.new_gradients()  # one buffer, overwritten by every step
    history = History()
    recorder = _RunRecorder(record, epochs, model, data, x_fit, y_clean, y_fit, x_test, {
        "config": model.get_config(), "rng": rng if isinstance(rng, int) else None,
        "dataset": data.name, "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "lr_schedule": lr_schedule, "weight_decay": weight_decay, "dropout": model.dropout,
        "label_noise": label_noise, "validation": validation, "n_classes": model.n_classes,
        "h_x": {"train": data.population_bits, "test": data.population_bits},
        "versions": package_versions()})
    tuner = _thread_tuner(model, threads, batch_size, recorder)
    # BLAS on one thread for the whole run: set once, not at every forward and backward
    with one_blas_thread():
        with use_threads(tuner.next_threads()):
            recorder.capture(0)
        best, waited = math.inf, 0
        from tqdm.auto import tqdm

        for epoch in tqdm(range(1, epochs + 1), desc="epochs", disable=not progress):
            opt.lr = learning_rate(lr_schedule, lr, epoch - 1, epochs)
            order = shuffle.permutation(n)
            t = tuner.next_threads()
            started = time.perf_counter()
            with use_threads(t):
                for start in range(0, n - 1, batch_size):
                    idx = order[start:start + batch_size]
                    if idx.size < 2:  # batch norm needs two samples
                        continue
                    train_step(model, x_fit[idx], y_fit[idx], opt, rng=shuffle, grads=grads,
                               validate=False)
                metrics = recorder.capture(epoch)
            seconds = time.perf_counter() - started
            tuner.report(t, seconds)
            history.epoch_seconds.append(seconds)
            history.epoch.append(epoch)
            history.lr.append(opt.lr)
            for k in ("train_loss", "train_acc", "train_loss_noisy", "train_acc_noisy",
                      "test_loss", "test_acc"):
                getattr(history, k).append(metrics[k])
            if val_idx is not None:
                val = model.evaluate(data.x_train[val_idx], noisy[val_idx])[0]
                history.val_loss.append(val)
                if patience is not None:
                    if val < best - 1e-6:
                        best, waited = val, 0
                    else:
                        waited += 1
                        if waited >= patience:
                            history.stopped_early = True
                            recorder.capture(epoch, force=True)  # the last epoch is recorded
                            break
    history.recording = recorder.recording
    return history


def _thread_tuner(model, threads, batch_size: int, recorder) -> ThreadTuner:
    """The fit's thread policy: fixed when ``threads`` is given, else tuned by timing."""
    if threads is not None:
        return ThreadTuner(check_int("threads", threads, 1), 0, fixed=True)
    rows = max([batch_size] + [x.shape[0] for x, *_ in recorder.inputs.values()])
    return ThreadTuner(thread_budget(), rows * model.largest_product)


class _RunRecorder:
    """Per-epoch evaluation of one run, and its snapshots when a Recorder asks for them.

    One eval-mode pass per input set gives both the metrics and the packed layers.
    """

    def __init__(self, record, epochs, model, data, x_fit, y_clean, y_fit, x_test, header):
        self.model = model
        self.snapshots = record.schedule(epochs) if record is not None else set()
        # noisy labels only when they differ: otherwise their metrics are the clean ones
        y_noisy = None if np.array_equal(y_fit, y_clean) else y_fit
        self.inputs = {"train": (x_fit, y_clean, y_noisy), "test": (x_test, data.y_test, None)}
        self.recording = None
        if record is not None:
            sets = {"train": RecordedSet(y_clean.copy(), noisy_labels=(
                y_noisy.copy() if y_noisy is not None else None))}
            if record.test:
                sets["test"] = RecordedSet(data.y_test.copy())
            for name, (x, y) in record.extra.items():
                x = check_input_matrix(f"record.extra[{name!r}] inputs", x, model.widths[0])
                y = check_labels(f"record.extra[{name!r}] labels", y, len(x), model.n_classes)
                self.inputs[name] = (x, y, None)
                sets[name] = RecordedSet(self.inputs[name][1].copy())
            self.recording = Recording(sets=sets, header=header)
        self.captured: set[int] = set()

    def capture(self, epoch: int, force: bool = False) -> dict:
        snap = self.recording is not None and (epoch in self.snapshots or force)
        if snap and epoch in self.captured:
            return self.recording.metrics[-1]
        metrics = {"epoch": epoch}
        for name, (x, y, y_noisy) in self.inputs.items():
            if snap and name in self.recording.sets:
                logits, layers = self.model.infer(x, validate=False)  # checked once
                self.recording.sets[name].snapshots.append(layers)
            elif name in ("train", "test"):
                logits = self.model.forward(x, validate=False)[0]
            else:
                continue
            metrics[f"{name}_loss"], metrics[f"{name}_acc"] = loss_and_accuracy(logits, y)
            if name == "train":
                noisy = (metrics["train_loss"], metrics["train_acc"]) if y_noisy is None \
                    else loss_and_accuracy(logits, y_noisy)
                metrics["train_loss_noisy"], metrics["train_acc_noisy"] = noisy
        if snap:
            self.captured.add(epoch)
            self.recording.epochs.append(epoch)
            self.recording.metrics.append(metrics)
        return metrics
