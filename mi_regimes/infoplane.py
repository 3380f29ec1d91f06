"""Information planes of recorded binary layers, with error bars and reliability flags.

For a deterministic network evaluated on N training samples, with X uniform over the
samples, I(X;T) = H(T) and I(T;Y) = H(T) - H(T|Y) (DESIGN fact 1). Each recorded layer at
each epoch becomes one point of the plane:

* the point estimate uses the chosen estimator on the counts of T, Y and (T, Y);
* the error bars show the sampling spread: the samples are resampled (the joint count
  vector of (T, Y), multinomially; marginals follow from the joint, so I(X;T) and I(T;Y)
  move together), and the quantiles of the replicates' deviations from their mean are put
  around the estimate. Bias is not in the bars: that is what the verdict reports;
* the verdict (reliable / biased / saturated) is :func:`mi_regimes.verdicts.classify` on
  the counts of T, the quantity that saturates first.

:func:`detect_compression` then looks for late compression: a decrease of I(X;T) after
its peak that exceeds the error bars, in points that are not saturated.
"""

from __future__ import annotations

import math

import numpy as np

from ._random import as_seed_sequence, renamed_seed
from .bits import as_samples, check_labels
from .counting import row_codes
from .estimators import estimate_counts, get_estimator
from .verdicts import classify, summarize_counts

__all__ = ["PLANE_COLUMNS", "plane_point", "information_plane", "detect_compression"]

#: Columns of :func:`information_plane`, in order.
PLANE_COLUMNS = (
    "epoch", "layer", "width", "n", "k_observed", "i_xt", "i_xt_low", "i_xt_high", "i_ty",
    "i_ty_low", "i_ty_high", "log2_n", "saturation", "verdict", "reason", "estimator",
)


def _joint_cells(t_codes: np.ndarray, y_codes: np.ndarray, k_y: int):
    """Occupied (T, Y) cells: their counts and the T and Y code of each cell."""
    keys = t_codes * k_y + y_codes
    cells, counts = np.unique(keys, return_counts=True)
    return counts.astype(np.int64), cells // k_y, cells % k_y


def _terms(counts, t_of, y_of, estimator: str, alphabets) -> tuple[float, float]:
    """I(X;T) = H(T) and I(T;Y) = H(T) + H(Y) - H(T,Y) from joint cell counts.

    Marginals are summed from the joint. ``alphabets`` = (K_T, K_Y) for NSB, else None.
    """
    c_t = np.bincount(t_of, weights=counts).astype(np.int64)
    c_y = np.bincount(y_of, weights=counts).astype(np.int64)
    sizes = (None, None, None) if alphabets is None else (
        alphabets[0], alphabets[1], alphabets[0] * alphabets[1])
    h_t, h_y, h_ty = (estimate_counts(c, estimator, alphabet_size=k).value
                      for c, k in zip((c_t, c_y, counts), sizes, strict=True))
    return h_t, h_t + h_y - h_ty


def plane_point(t, labels, estimator: str = "plugin", *, n_boot: int = 200, ci: float = 0.95,
                rng=None, tol: float = 0.05) -> dict:
    """One information-plane point: I(X;T), I(T;Y), bootstrap intervals and a verdict.

    Parameters
    ----------
    t : array_like or PackedBits
        ``(N, D)`` binary activations of one layer on the N training samples.
    labels : array_like
        ``N`` class labels.
    estimator : str
        Estimator used for every entropy term (see :data:`mi_regimes.ESTIMATORS`);
        ``bootstrap`` is not allowed here: the intervals already come from a bootstrap.
    n_boot : int
        Bootstrap replicates of the intervals (0 = no intervals). Replicates of an ``nsb``
        point use the plug-in (NSB per replicate is too slow) for the spread.
    ci : float
        Interval level.
    rng : numpy.random.Generator, int or None
        Randomness of the intervals.
    tol : float
        Tolerance of the verdict.

    Returns
    -------
    dict
        Keys as in :data:`PLANE_COLUMNS` except ``epoch`` and ``layer``.
    """
    _check_point_options(estimator, ci, n_boot)
    return _point(t, _label_codes(labels), estimator, n_boot, ci, rng, tol)


def _check_point_options(estimator: str, ci: float, n_boot: int) -> None:
    get_estimator(estimator)
    if estimator == "bootstrap":
        raise ValueError("estimator: the plane's intervals are already a bootstrap; choose "
                         "plugin, miller_madow, jackknife, nsb, chao_shen or grassberger")
    if not 0 < ci < 1:
        raise ValueError(f"ci: must lie in (0, 1), got {ci}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError(f"n_boot: must be an integer >= 0, got {n_boot!r}")


def _label_codes(labels) -> tuple[np.ndarray, np.ndarray]:
    """Validated label codes and counts (done once per recording, not once per point)."""
    return row_codes(check_labels(labels, "labels"), "labels")


def _point(t, labels, estimator, n_boot, ci, rng, tol) -> dict:
    y_codes, y_counts = labels
    samples = as_samples(t, "t")
    if samples.d is None:
        raise ValueError("t: expected (N, D) binary activations of one layer, got 1-D values")
    t_codes, t_counts = row_codes(samples)
    if y_codes.size != t_codes.size:
        raise ValueError(f"labels: {y_codes.size} labels for {t_codes.size} rows; give one "
                         "label per recorded sample")
    width = samples.d
    alphabets = (1 << width, int(y_counts.size)) if estimator == "nsb" else None
    counts, t_of, y_of = _joint_cells(t_codes, y_codes, int(y_counts.size))
    i_xt, i_ty = _terms(counts, t_of, y_of, estimator, alphabets)
    low_xt = high_xt = low_ty = high_ty = float("nan")
    if n_boot:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        rep_est = "plugin" if estimator == "nsb" else estimator
        n = int(counts.sum())
        reps = np.empty((n_boot, 2))
        for b in range(n_boot):  # resample the samples: the joint counts, multinomially
            res = gen.multinomial(n, counts / n)
            keep = res > 0
            reps[b] = _terms(res[keep], t_of[keep], y_of[keep], rep_est, None)
        # the sampling spread: quantiles of the replicates' deviations from their mean, put
        # around the estimate (bias is what the verdict reports, not the error bar)
        alpha = (1 - ci) / 2
        dev = reps - reps.mean(axis=0)
        point = np.array([i_xt, i_ty])
        low_xt, low_ty = np.minimum(point + np.quantile(dev, alpha, axis=0), point)
        high_xt, high_ty = np.maximum(point + np.quantile(dev, 1 - alpha, axis=0), point)
    summary = summarize_counts(t_counts)
    verdict = classify(summary, i_xt, alphabet_size=1 << width, tol=tol)
    n = summary.n
    return {
        "width": width, "n": n, "k_observed": summary.k_observed, "i_xt": float(i_xt),
        "i_xt_low": float(low_xt), "i_xt_high": float(high_xt), "i_ty": float(i_ty),
        "i_ty_low": float(low_ty), "i_ty_high": float(high_ty),
        "log2_n": math.log2(n) if n > 1 else 0.0, "saturation": summary.saturation,
        "verdict": verdict.status, "reason": verdict.reason, "estimator": estimator,
    }


def information_plane(recording, estimator: str = "plugin", *, n_boot: int = 200,
                      ci: float = 0.95, rng=0, tol: float = 0.05, progress: bool = False,
                      seed=None):
    """Every recorded (epoch, layer) as a point of the information plane.

    Parameters
    ----------
    recording : mi_regimes.bnn.Recording
        From ``fit(..., record=Recorder())`` or ``load_recording``.
    estimator : str
        Entropy estimator for every term (not ``bootstrap``).
    n_boot : int
        Bootstrap replicates per point for the intervals (0 = none).
    ci : float
        Interval level.
    rng : int or SeedSequence
        Seed of the intervals; each point's seed derives from it and the point's key.
    tol : float
        Tolerance of the verdicts.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (epoch, layer), columns :data:`PLANE_COLUMNS`, plus the recorded
        ``train_acc`` and ``test_acc``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if not hasattr(recording, "layers") or not hasattr(recording, "epochs"):
        raise TypeError("recording: expected a Recording from mi_regimes.bnn.fit(..., "
                        "record=Recorder()) or load_recording(path)")
    if not recording.epochs:
        raise ValueError("recording: holds no snapshots")
    _check_point_options(estimator, ci, n_boot)
    labels = _label_codes(recording.labels)
    n_layers = len(recording.layers[0])
    rng = renamed_seed(rng, seed, "information_plane", default=0)
    seeds = np.random.SeedSequence(as_seed_sequence(rng).entropy).spawn(
        len(recording.epochs) * n_layers)
    rows = []
    bar = tqdm(total=len(seeds), desc="information plane", disable=not progress)
    for s, (epoch, snapshot) in enumerate(zip(recording.epochs, recording.layers, strict=True)):
        metrics = recording.metrics[s] if recording.metrics else {}
        for layer, packed in enumerate(snapshot):
            point = _point(packed, labels, estimator, n_boot, ci,
                           np.random.default_rng(seeds[s * n_layers + layer]), tol)
            rows.append({"epoch": int(epoch), "layer": layer + 1, **point,
                         "train_acc": metrics.get("train_acc", float("nan")),
                         "test_acc": metrics.get("test_acc", float("nan"))})
            bar.update()
    bar.close()
    return pd.DataFrame(rows, columns=[*PLANE_COLUMNS, "train_acc", "test_acc"])


def _above(a_low: float, b_high: float, a: float, b: float, min_change: float) -> bool:
    """a exceeds b by more than min_change and, where intervals exist, beyond them."""
    if not a - b > min_change:
        return False
    if np.isfinite(a_low) and np.isfinite(b_high):
        return bool(a_low > b_high)
    return True


def detect_compression(plane, min_change: float = 0.0):
    """Fitting then compression of I(X;T), per layer, judged against the error bars.

    For each layer take the first, the peak and the last point of I(X;T):

    * ``fitting``: the peak rises above the first point beyond both intervals;
    * ``compression``: the last point falls below the peak beyond both intervals;
    * ``trustworthy``: none of the three points is saturated;
    * ``late_compression``: fitting, then compression, trustworthy.

    Without intervals (``n_boot=0``) only ``min_change`` (bits) separates the points.

    Parameters
    ----------
    plane : pandas.DataFrame
        Output of :func:`information_plane`.
    min_change : float
        Smallest rise or drop in bits that counts (>= 0).

    Returns
    -------
    pandas.DataFrame
        One row per layer.
    """
    import pandas as pd

    if min_change < 0:
        raise ValueError(f"min_change: must be >= 0, got {min_change}")
    missing = {"epoch", "layer", "i_xt", "i_xt_low", "i_xt_high", "verdict"} - set(plane)
    if missing:
        raise ValueError(f"plane: missing columns {sorted(missing)}; pass the output of "
                         "information_plane")
    out = []
    for layer, traj in plane.sort_values("epoch").groupby("layer"):
        first, last = traj.iloc[0], traj.iloc[-1]
        peak = traj.loc[traj["i_xt"].idxmax()]
        fitting = _above(peak["i_xt_low"], first["i_xt_high"], peak["i_xt"], first["i_xt"],
                         min_change)
        compression = _above(peak["i_xt_low"], last["i_xt_high"], peak["i_xt"], last["i_xt"],
                             min_change)
        trustworthy = "saturated" not in {first["verdict"], peak["verdict"], last["verdict"]}
        out.append({
            "layer": int(layer), "first_epoch": int(first["epoch"]),
            "peak_epoch": int(peak["epoch"]), "last_epoch": int(last["epoch"]),
            "initial": float(first["i_xt"]), "peak": float(peak["i_xt"]),
            "final": float(last["i_xt"]), "fitting": fitting, "compression": compression,
            "trustworthy": trustworthy,
            "late_compression": fitting and compression and trustworthy,
        })
    return pd.DataFrame(out)
