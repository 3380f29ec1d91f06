"""Information planes of recorded binary layers, in two named modes.

For a deterministic network, a layer T is a function of the input X, so I(X;T) = H(T)
and I(T;Y) = H(T) + H(Y) - H(T, Y) (DESIGN fact 1). What the numbers mean depends on
what X is:

* ``empirical``: X is uniform over the N recorded inputs. The counts of T, Y and (T, Y)
  *are* the distribution, so the plug-in values are exact, carry no error bars, and obey
  I(X;T) <= min(log2 N, D) and I(T;Y) <= min(H(Y), I(X;T)) by construction.
* ``population``: the N recorded inputs are a sample of a larger population. Every point
  is an estimate (any estimator of :data:`mi_regimes.ESTIMATORS`) with an interval and a
  verdict: the interval of I(X;T) is the estimate's reported interval joined with the
  interval [L, U] that holds H(T) for any source on the 2**D states
  (:mod:`mi_regimes.verdicts`); the interval of I(T;Y) combines the three entropies'
  intervals (a union bound). Estimates outside I(X;T) <= min(H(X), D) or 0 <= I(T;Y) <=
  min(H(Y), I(X;T)) are flagged (``in_bounds`` False), never silently drawn.

Compression detection on these planes is in :mod:`mi_regimes.compression`.
"""

from __future__ import annotations

import math

import numpy as np

from ._bounds import entropy_interval, summarize_counts
from ._random import as_generator, as_seed_sequence, renamed_seed
from ._validation import check_choice, check_float, check_fraction, check_int
from .bits import as_samples, check_labels
from .counting import row_codes
from .estimators import estimate_counts, get_estimator
from .information import estimate_from_counts
from .verdicts import DEFAULT_TOL, classify, is_saturated

__all__ = ["MODES", "PLANE_COLUMNS", "plane_point", "information_plane", "layer_codes"]

MODES = ("empirical", "population")
#: Columns of :func:`information_plane`, in order.
PLANE_COLUMNS = (
    "epoch", "layer", "d", "n", "k_observed", "mode", "estimator", "split",
    "i_xt", "i_xt_low", "i_xt_high", "i_ty", "i_ty_low", "i_ty_high", "h_y", "h_x",
    "log2_n", "saturation", "verdict", "reason", "in_bounds", "bound_note",
)
_SLACK = 1e-9  # rounding allowance of the bound checks (bits)


def layer_codes(t) -> tuple[np.ndarray, np.ndarray, int]:
    """Row codes of one layer's activations, their counts, and its width D."""
    samples = as_samples(t, "t")
    if samples.d is None:
        raise ValueError("t: expected (N, D) binary activations of one layer, got 1-D values")
    codes, counts = row_codes(samples)
    return codes, counts, samples.d


def _joint_counts(t_codes, y_codes, k_y: int) -> np.ndarray:
    """Counts of the occupied (T, Y) cells."""
    return np.unique(t_codes * k_y + y_codes, return_counts=True)[1].astype(np.int64)


def _bounds_note(i_xt, i_ty, d, h_x, h_y) -> str:
    """Empty when the point respects the bounds of an information plane, else why not."""
    notes = []
    ceiling = min(float(d), h_x if h_x is not None else math.inf)
    if i_xt > ceiling + _SLACK:
        notes.append(f"I(X;T) = {i_xt:.4g} > min(H(X), D) = {ceiling:.4g}")
    if i_ty < -_SLACK:
        notes.append(f"I(T;Y) = {i_ty:.4g} < 0")
    if i_ty > min(h_y, i_xt) + _SLACK:
        notes.append(f"I(T;Y) = {i_ty:.4g} > min(H(Y), I(X;T)) = {min(h_y, i_xt):.4g}")
    return "; ".join(notes)


def plane_point(t, labels, estimator: str = "plugin", *, mode: str = "population",
                n_classes: int | None = None, h_x: float | None = None, ci: float = 0.95,
                n_boot: int = 200, rng=None, tol: float = DEFAULT_TOL) -> dict:
    """One information-plane point from one layer's activations and the labels.

    Parameters
    ----------
    t : array_like or PackedBits
        ``(N, D)`` binary activations of one layer on N inputs.
    labels : array_like
        ``N`` class labels (any symbols).
    estimator : str
        Estimator of every entropy term in ``population`` mode (any of
        :data:`mi_regimes.ESTIMATORS`); ``empirical`` mode is exact and uses the plug-in.
    mode : {'population', 'empirical'}
        See the module docstring.
    n_classes : int, optional
        Number of possible labels (the alphabet of Y); default the labels observed.
    h_x : float, optional
        H(X) in bits when known (e.g. a uniform population of P inputs: log2 P), for the
        bound I(X;T) <= H(X); in ``empirical`` mode it is log2 N.
    ci : float
        Interval level (population mode).
    n_boot : int
        Bootstrap replicates when ``estimator="bootstrap"``.
    rng : int, SeedSequence, Generator or None
        Randomness of the bootstrap.
    tol : float
        Relative tolerance of the verdict.

    Returns
    -------
    dict
        The columns of :data:`PLANE_COLUMNS` except ``epoch``, ``layer`` and ``split``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 2, size=(2000, 3))
    >>> p = plane_point(x, x[:, 0], mode="empirical")
    >>> round(p["i_xt"], 4), round(p["i_ty"], 4), p["in_bounds"]
    (2.9996, 1.0, True)
    """
    codes, counts, d = layer_codes(t)
    y = check_labels(labels, "labels")
    if y.size != codes.size:
        raise ValueError(f"labels: {y.size} labels for {codes.size} rows; give one label "
                         "per sample")
    y_codes, y_counts = row_codes(y, "labels")
    if n_classes is not None:
        n_classes = check_int("n_classes", n_classes, 1)
        if n_classes < y_counts.size:
            raise ValueError(f"n_classes: {n_classes} is fewer than the {y_counts.size} "
                             "distinct labels given; pass the number of possible labels, "
                             "or None for the labels observed")
    if h_x is not None:
        h_x = check_float("h_x", h_x, 0.0)
    return _point(codes, counts, d, y_codes, y_counts, estimator, mode, n_classes, h_x, ci,
                  n_boot, rng, tol)


def _check_options(estimator, mode, ci) -> None:
    get_estimator(estimator)
    check_choice("mode", mode, MODES)
    check_fraction("ci", ci)


def _point(codes, counts, d, y_codes, y_counts, estimator, mode, n_classes, h_x, ci,
           n_boot, rng, tol) -> dict:
    _check_options(estimator, mode, ci)
    n = int(counts.sum())
    k_y = int(y_counts.size)
    joint = _joint_counts(codes, y_codes, k_y)
    log2_n = math.log2(n) if n > 1 else 0.0
    summary = summarize_counts(counts)
    row = {"d": d, "n": n, "k_observed": int(counts.size), "mode": mode,
           "log2_n": log2_n, "saturation": summary.saturation}
    if mode == "empirical":
        h_t, h_y, h_ty = (estimate_counts(c, "plugin").value for c in (counts, y_counts, joint))
        i_xt, i_ty = h_t, min(max(h_t + h_y - h_ty, 0.0), h_t, h_y)
        h_x = log2_n
        # exact either way; a saturated layer is injective on (almost) every sample, and
        # its value says only that the layer tells the recorded inputs apart
        saturated = is_saturated(h_t, n)
        row.update(estimator="plugin", i_xt=i_xt, i_ty=i_ty, h_y=h_y, h_x=h_x,
                   i_xt_low=i_xt, i_xt_high=i_xt, i_ty_low=i_ty, i_ty_high=i_ty,
                   verdict="saturated" if saturated else "exact",
                   reason=("exact, but saturated: I(X;T) is pinned near log2 N" if saturated
                           else "exact for X uniform over the recorded inputs"))
    else:
        row.update(_population(counts, y_counts, joint, d, summary, estimator, n_classes,
                               ci, n_boot, rng, tol))
        row["h_x"] = h_x
        i_xt, i_ty, h_y = row["i_xt"], row["i_ty"], row["h_y"]
    note = _bounds_note(i_xt, i_ty, d, h_x, h_y)
    row.update(in_bounds=not note, bound_note=note)
    return row


def _population(counts, y_counts, joint, d, summary, estimator, n_classes, ci, n_boot, rng,
                tol) -> dict:
    k_t = 1 << d
    k_y = max(int(n_classes or 0), int(y_counts.size))
    streams = as_generator(rng).spawn(3) if estimator == "bootstrap" else [None] * 3
    opts = {"n_boot": n_boot} if estimator == "bootstrap" else {}
    est = [estimate_from_counts(c, estimator, ci, r, alphabet_size=k, **opts)
           for c, k, r in zip((counts, y_counts, joint), (k_t, k_y, k_t * k_y), streams,
                              strict=True)]
    h_t, h_y, h_ty = (e.value for e in est)
    verdict = classify(summary, h_t, alphabet_size=k_t, tol=tol)
    # I(X;T) = H(T): the estimate's interval joined with the guaranteed [L, U] (already
    # joined for estimators with an interval of their own), within [0, D]
    xt_low, xt_high = est[0].ci if est[0].ci is not None else (verdict.h_low, verdict.h_high)
    if not math.isfinite(xt_low):  # saturated: no interval is worth drawing beyond [0, D]
        xt_low, xt_high = 0.0, float(d)
    # I(T;Y): each entropy's guaranteed interval at level 1 - (1 - ci)/3 (a union bound)
    level = 1.0 - (1.0 - ci) / 3.0
    parts = [entropy_interval(sc, k, level) for sc, k in (
        (summary, k_t), (summarize_counts(y_counts), k_y),
        (summarize_counts(joint), k_t * k_y))]
    ty_low = max(0.0, parts[0].low + parts[1].low - parts[2].high)
    ty_high = min(parts[0].high + parts[1].high - parts[2].low, parts[1].high, parts[0].high)
    return {"estimator": estimator, "i_xt": h_t, "i_ty": h_t + h_y - h_ty, "h_y": h_y,
            "i_xt_low": max(0.0, xt_low), "i_xt_high": min(float(d), xt_high),
            "i_ty_low": ty_low, "i_ty_high": max(ty_low, ty_high),
            "verdict": verdict.status, "reason": verdict.reason}


def information_plane(recording, estimator: str = "plugin", *, mode: str = "population",
                      split: str = "train", ci: float = 0.95, n_boot: int = 200, rng=0,
                      tol: float = DEFAULT_TOL, progress: bool = False, seed=None):
    """Every recorded (epoch, layer) as a point of the information plane.

    Parameters
    ----------
    recording : mi_regimes.bnn.Recording
        From ``fit(..., record=Recorder())`` or ``load_recording``.
    estimator : str
        Entropy estimator for every term (population mode).
    mode : {'population', 'empirical'}
        See the module docstring.
    split : str
        Which recorded input set: ``train``, ``test`` or an extra set's name.
    ci : float
        Interval level.
    n_boot : int
        Bootstrap replicates (``estimator="bootstrap"``).
    rng : int or SeedSequence
        Seed of the bootstrap; each point's stream derives from it and the point's key.
    tol : float
        Tolerance of the verdicts.
    progress : bool
        Show a progress bar.
    seed : int, optional
        Another name of ``rng`` (DESIGN.md's spelling); pass one, not both.

    Returns
    -------
    pandas.DataFrame
        One row per (epoch, layer), columns :data:`PLANE_COLUMNS`, plus the snapshot's
        ``train_acc``, ``train_acc_noisy``, ``test_acc``, ``train_loss`` and
        ``train_loss_noisy``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from ._random import generator_for_key

    rng = renamed_seed(rng, seed, "information_plane", default=0)
    if not hasattr(recording, "sets") or not hasattr(recording, "epochs"):
        raise TypeError("recording: expected a Recording from mi_regimes.bnn.fit(..., "
                        "record=Recorder()) or load_recording(path)")
    if not recording.epochs:
        raise ValueError("recording: holds no snapshots")
    check_choice("split", split, list(recording.sets))
    _check_options(estimator, mode, ci)
    recorded = recording.sets[split]
    y_codes, y_counts = row_codes(check_labels(recorded.labels, "labels"), "labels")
    n_classes = recording.header.get("n_classes") or int(y_counts.size)
    h_x = (recording.header.get("h_x") or {}).get(split) if mode == "population" else None
    master = as_seed_sequence(rng)
    metric_names = ("train_acc", "train_acc_noisy", "test_acc", "train_loss",
                    "train_loss_noisy")
    rows = []
    with tqdm(total=len(recording.epochs) * len(recording.widths), desc="information plane",
              disable=not progress) as bar:
        for s, epoch in enumerate(recording.epochs):
            metrics = recording.metrics[s] if recording.metrics else {}
            for layer, packed in enumerate(recorded.snapshots[s]):
                codes, counts, d = layer_codes(packed)
                point_rng = generator_for_key(master, f"{split}|{epoch}|{layer + 1}")
                point = _point(codes, counts, d, y_codes, y_counts, estimator, mode,
                               n_classes, h_x, ci, n_boot, point_rng, tol)
                rows.append({"epoch": int(epoch), "layer": layer + 1, "split": split,
                             **point, **{k: metrics.get(k, float("nan"))
                                         for k in metric_names}})
                bar.update()
    return pd.DataFrame(rows, columns=[*PLANE_COLUMNS, *metric_names])
