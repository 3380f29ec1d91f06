"""Late compression of I(X;T): found only on trustworthy points, tested as a paired drop.

For each layer of a plane (:func:`mi_regimes.infoplane.information_plane`):

1. **The fitting phase** ends at the first recorded epoch whose training loss (on the
   labels trained on) has made 90 % of its total decrease: loss <= final + 0.1·(initial -
   final). Compression is *late* only if its peak is at or after that epoch.
2. **Trustworthy points only**: population-mode points the verdict calls ``reliable``;
   empirical-mode points that are not saturated (Ĥ < 0.98·log2 N: a saturated layer is
   injective on the sample and its I(X;T) is pinned at log2 N).
3. **Peak and end**: the peak is the largest I(X;T) among trustworthy points at or after
   the end of fitting; the end is the last epoch, which must be trustworthy too. If
   either is missing the layer is *not assessable*, with the reason.
4. **The drop is tested by a paired bootstrap over samples**: the same resampled rows at
   the peak epoch and at the end, B times; the p-value is the share of replicates whose
   drop is <= 0 (one-sided), the interval the percentile interval of the drop. Late
   compression: drop > ``min_drop`` bits and p < ``alpha``.

Replicates use the plane's estimator when it is cheap on counts (plug-in, Miller–Madow,
jackknife, Chao–Shen, Grassberger) and Miller–Madow otherwise (bootstrap, NSB): with both
points reliable their bias is small, and it largely cancels in a paired difference.
"""

from __future__ import annotations

import numpy as np

from ._random import as_generator
from ._validation import check_fraction, check_int
from .estimators import estimate_counts
from .infoplane import layer_codes
from .verdicts import is_saturated

__all__ = ["COMPRESSION_COLUMNS", "fitting_end", "detect_compression", "paired_drop"]

COMPRESSION_COLUMNS = (
    "layer", "assessable", "late", "fit_end_epoch", "peak_epoch", "end_epoch", "peak",
    "end", "drop_bits", "drop_low", "drop_high", "relative_drop", "p_value", "reason",
)
_CHEAP = ("plugin", "miller_madow", "jackknife", "chao_shen", "grassberger")


def fitting_end(epochs, losses, share: float = 0.9) -> int:
    """The first epoch whose loss has made ``share`` of its total decrease.

    Examples
    --------
    >>> fitting_end([0, 1, 2, 5, 10], [2.0, 1.0, 0.3, 0.25, 0.2])
    2
    """
    epochs = np.asarray(epochs)
    losses = np.asarray(losses, dtype=float)
    start, final = losses[0], losses[-1]
    if not np.isfinite(losses).all() or start <= final:
        return int(epochs[0])
    done = losses <= final + (1 - share) * (start - final)
    return int(epochs[int(np.argmax(done))])


def paired_drop(codes_peak: np.ndarray, codes_end: np.ndarray, estimator: str,
                n_boot: int, rng) -> np.ndarray:
    """Bootstrap replicates of Ĥ(peak) - Ĥ(end) (bits) on the same resampled rows.

    ``codes_*``: each row's state code at the two epochs (:func:`layer_codes`).
    """
    rng = as_generator(rng)
    n = codes_peak.size
    out = np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.integers(0, n, size=n)
        peak = np.bincount(codes_peak[rows])
        end = np.bincount(codes_end[rows])
        out[b] = (estimate_counts(peak[peak > 0], estimator).value
                  - estimate_counts(end[end > 0], estimator).value)
    return out


def _trusted(row) -> bool:
    if row["mode"] == "empirical":
        return not is_saturated(row["i_xt"], int(row["n"]))
    return row["verdict"] == "reliable" and bool(row["in_bounds"])


def detect_compression(plane, recording, *, n_boot: int = 200, alpha: float = 0.05,
                       min_drop: float = 0.0, rng=0):
    """Per layer: is there a late, significant drop of I(X;T)? (See the module docstring.)

    Parameters
    ----------
    plane : pandas.DataFrame
        From :func:`~mi_regimes.infoplane.information_plane` (one split, one mode).
    recording : mi_regimes.bnn.Recording
        The recording the plane was computed from (the paired bootstrap resamples its
        rows).
    n_boot : int
        Bootstrap replicates of the paired drop.
    alpha : float
        Significance level of the one-sided test.
    min_drop : float
        Smallest drop in bits that counts (>= 0).
    rng : int, SeedSequence or Generator
        Randomness of the bootstrap; each layer gets its own stream.

    Returns
    -------
    pandas.DataFrame
        One row per layer, columns :data:`COMPRESSION_COLUMNS`; ``late`` is None where
        the layer is not assessable.
    """
    import pandas as pd

    from ._random import generator_for_key

    check_int("n_boot", n_boot, 1)
    alpha = check_fraction("alpha", alpha)
    if not min_drop >= 0:
        raise ValueError(f"min_drop: must be >= 0, got {min_drop}")
    missing = {"epoch", "layer", "i_xt", "verdict", "mode", "split", "estimator",
               "in_bounds", "n"} - set(plane)
    if missing:
        raise ValueError(f"plane: missing columns {sorted(missing)}; pass the output of "
                         "information_plane")
    split = plane["split"].iloc[0]
    estimator = plane["estimator"].iloc[0]
    replicate_estimator = estimator if estimator in _CHEAP else "miller_madow"
    losses = [m.get("train_loss_noisy", m.get("train_loss", np.nan))
              for m in recording.metrics]
    fit_end = fitting_end(recording.epochs, losses)
    index = {e: s for s, e in enumerate(recording.epochs)}
    rows = []
    for layer, traj in plane.sort_values("epoch").groupby("layer"):
        row = {"layer": int(layer), "fit_end_epoch": fit_end, "assessable": False,
               "late": None, "peak_epoch": None, "end_epoch": int(traj["epoch"].iloc[-1])}
        trusted = traj[traj.apply(_trusted, axis=1)]
        end = traj.iloc[-1]
        after = trusted[trusted["epoch"] >= fit_end]
        if not _trusted(end):
            row["reason"] = (f"not assessable: the last epoch's point is {end['verdict']}"
                             if end["mode"] == "population" else
                             "not assessable: the layer is saturated at the last epoch")
        elif len(after) < 2:
            row["reason"] = ("not assessable: fewer than two trustworthy points after the "
                             f"fitting phase (ends at epoch {fit_end})")
        else:
            peak = after.loc[after["i_xt"].idxmax()]
            codes = {e: layer_codes(recording.sets[split].snapshots[index[e]][layer - 1])[0]
                     for e in (int(peak["epoch"]), int(end["epoch"]))}
            drops = paired_drop(codes[int(peak["epoch"])], codes[int(end["epoch"])],
                                replicate_estimator, n_boot,
                                generator_for_key(rng, f"compression|{split}|{layer}"))
            drop = float(peak["i_xt"] - end["i_xt"])
            p_value = float(np.mean(drops <= 0.0))
            late = bool(drop > min_drop and p_value < alpha)
            row.update(assessable=True, late=late, peak_epoch=int(peak["epoch"]),
                       peak=float(peak["i_xt"]), end=float(end["i_xt"]), drop_bits=drop,
                       drop_low=float(np.quantile(drops, alpha / 2)),
                       drop_high=float(np.quantile(drops, 1 - alpha / 2)),
                       relative_drop=drop / float(peak["i_xt"]) if peak["i_xt"] > 0 else 0.0,
                       p_value=p_value,
                       reason=(f"late compression: {drop:.3g} bits from epoch "
                               f"{int(peak['epoch'])} to {int(end['epoch'])}, p = "
                               f"{p_value:.3g}" if late else
                               f"no significant late drop ({drop:.3g} bits, p = "
                               f"{p_value:.3g})"))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPRESSION_COLUMNS))
