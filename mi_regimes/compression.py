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
4. **The drop is tested by a paired bootstrap over samples that knows the peak was
   chosen**: B times, N rows are drawn with replacement and the *same* rows give every
   candidate epoch's entropy (the trustworthy epochs from the end of fitting on) and the
   end's. With D_t = Ĥ_t − Ĥ_end on the sample and D*_t on a replicate, the test
   statistic is max_t D_t (the peak's drop) and its null distribution that of
   max_t (D*_t − D_t); the p-value is (1 + #{max_t (D*_t − D_t) >= max_t D_t}) / (1 + B)
   (one-sided). The interval is [D − q_{1−α/2} of that maximum, D − q_{α/2} of the peak's
   D* − D] (basic bootstrap, its low end widened for the choice of the peak).

   Why the maximum: the peak is the largest of many estimates, so even where every epoch
   after fitting has the same I(X;T) its estimate sits above the end's. Testing the peak's
   drop as if its epoch had been fixed in advance called late compression in 35 % of such
   null layers at alpha = 0.05 (128 Zipf-weighted states, N = 2000, 20 epochs; 22 % when
   the layer changes slowly, 50 % with 60 epochs); the maximum brings that to 1.5-12 %
   over 18 such cases (docs/validation/compression.md, tests/test_infoplane.py).
5. **Beyond what the estimator's bias can make**: the peak's guaranteed interval must
   lie above the end's (``i_xt_low`` at the peak > ``i_xt_high`` at the end: the
   verdicts' [L, U] in population mode, which hold for any source on 2^D states; the
   exact values in empirical mode, where this is just drop > 0). The bootstrap resamples
   the empirical distribution, which has no unseen states, so it cannot see a drop that
   is the estimator's bias changing: an end with ~190 more rare states than the other
   epochs and the *same* entropy (its estimate then falls by ~0.1 bits) was called late
   in up to 12 % of layers by the bootstrap alone, in none with this step (66 layers
   per case; docs/validation/compression.md).

Late compression: drop > ``min_drop`` bits, p < ``alpha``, and step 5.

Replicates use the plane's estimator when it is cheap on counts (plug-in, Miller–Madow,
jackknife, Chao–Shen, Grassberger) and Miller–Madow otherwise (bootstrap, NSB): with both
points reliable their bias is small, and it largely cancels in a paired difference.
"""

from __future__ import annotations

import numpy as np

from ._bootstrap import nlogn
from ._random import as_generator
from ._validation import check_fraction, check_n_boot, check_table
from .estimators import value_of_valid_counts
from .infoplane import layer_codes
from .verdicts import is_saturated

__all__ = ["COMPRESSION_COLUMNS", "fitting_end", "detect_compression", "paired_drop",
           "paired_drops", "selection_aware_test"]

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


def paired_drops(codes_by_epoch: list[np.ndarray], codes_end: np.ndarray, estimator: str,
                 n_boot: int, rng) -> np.ndarray:
    """Bootstrap replicates of Ĥ(epoch) − Ĥ(end) (bits) for several epochs at once.

    ``codes_*``: each row's state code at an epoch (:func:`layer_codes`). Every replicate
    draws one set of rows and uses it at every epoch and at the end (a paired bootstrap).
    Returns an ``(n_boot, len(codes_by_epoch))`` array.
    """
    epochs = _EpochCodes([*codes_by_epoch, codes_end])
    return _replicate_drops(epochs, estimator, n_boot, rng)[:, :-1]


def _replicate_drops(epochs: _EpochCodes, estimator: str, n_boot: int, rng) -> np.ndarray:
    """``(n_boot, epochs)`` paired-bootstrap drops to the last epoch (its column is 0)."""
    rng = as_generator(rng)
    n = epochs.shifted.shape[0]
    out = np.empty((n_boot, epochs.starts.size))
    for b in range(n_boot):
        out[b] = epochs.drops(rng.integers(0, n, size=n), estimator)
    return out


class _EpochCodes:
    """Several epochs' codes of one layer, counted together on any choice of rows.

    Epoch t's codes are shifted past the earlier epochs' so one ``bincount`` counts every
    epoch; the plug-in and Miller–Madow values then come from per-epoch sums of n·ln n.
    A study model asks for ~10^5 estimates (epochs × replicates × layers × planes): one
    call per estimate made the test 16 s of a 43 s tishby12 run (two other jobs running),
    counting together 4.8 s of 25 s (quiet), and gathering rows (not columns) then cut one
    plane's test from 0.87 to 0.22 s (quiet).
    Other estimators are called epoch by epoch.
    """

    def __init__(self, codes: list[np.ndarray]) -> None:
        sizes = np.array([int(c.max()) + 1 for c in codes])
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        # rows by epochs: drawing rows gathers contiguous rows (a transposed gather and
        # its copy took twice as long)
        self.shifted = np.ascontiguousarray(np.stack(codes, axis=1) + self.starts)
        self.bins = int(sizes.sum())

    def entropies(self, rows: np.ndarray | None, estimator: str) -> np.ndarray:
        """Each epoch's entropy estimate (bits) on ``rows`` (None: every row once)."""
        chosen = self.shifted if rows is None else self.shifted[rows]
        counts = np.bincount(chosen.ravel(), minlength=self.bins)
        if estimator not in ("plugin", "miller_madow"):
            return np.array([value_of_valid_counts(part[part > 0], estimator)
                             for part in np.split(counts, self.starts[1:])])
        n = chosen.shape[0]
        s = np.add.reduceat(nlogn(counts), self.starts)
        nats = np.maximum(0.0, np.log(n) - s / n)
        if estimator == "miller_madow":
            nats += (np.add.reduceat(counts > 0, self.starts) - 1) / (2.0 * n)
        return nats / np.log(2)

    def drops(self, rows: np.ndarray | None, estimator: str) -> np.ndarray:
        """Each epoch's entropy minus the last epoch's (bits) on ``rows``."""
        h = self.entropies(rows, estimator)
        return h - h[-1]


def paired_drop(codes_peak: np.ndarray, codes_end: np.ndarray, estimator: str,
                n_boot: int, rng) -> np.ndarray:
    """Bootstrap replicates of Ĥ(peak) − Ĥ(end) (bits) on the same resampled rows.

    ``codes_*``: each row's state code at the two epochs (:func:`layer_codes`). The
    one-epoch case of :func:`paired_drops` (same rows for the same ``rng``).
    """
    return paired_drops([codes_peak], codes_end, estimator, n_boot, rng)[:, 0]


def selection_aware_test(sample_drops: np.ndarray, replicate_drops: np.ndarray,
                         peak: int, alpha: float) -> tuple[float, float, float]:
    """p-value of max_t D_t > 0, the peak having been chosen, and its interval's margins.

    ``sample_drops[t]`` = D_t on the sample, ``replicate_drops[b, t]`` = D*_t, ``peak``
    the index of the reported peak. The replicates are centred on the sample and their
    maximum over epochs is the null distribution of the largest drop (module docstring).
    Returns ``(p, below, above)``: the interval of a drop d at the peak is
    ``[d - below, d - above]``.
    """
    centred = replicate_drops - sample_drops
    largest = centred.max(axis=1)
    p_value = (1 + np.count_nonzero(largest >= sample_drops.max())) / (1 + largest.size)
    below = float(np.quantile(largest, 1 - alpha / 2))
    above = float(np.quantile(centred[:, peak], alpha / 2))
    return float(p_value), below, above


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

    check_n_boot(n_boot)
    alpha = check_fraction("alpha", alpha)
    if not min_drop >= 0:
        raise ValueError(f"min_drop: must be >= 0, got {min_drop}")
    check_table("plane", plane, ("epoch", "layer", "i_xt", "i_xt_low", "i_xt_high",
                                 "verdict", "mode", "split", "estimator", "in_bounds", "n"),
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
            epochs = [int(e) for e in after["epoch"]]
            codes = [layer_codes(recording.sets[split].snapshots[index[e]][layer - 1])[0]
                     for e in epochs]
            # the end is the last of the candidates (its drop is 0): a peak at the end is
            # then no drop, and the maximum is never below 0
            counted = _EpochCodes(codes)
            replicates = _replicate_drops(counted, replicate_estimator, n_boot,
                                          generator_for_key(rng, f"compression|{split}|{layer}"))
            sample = counted.drops(None, replicate_estimator)
            p_value, below, above = selection_aware_test(
                sample, replicates, epochs.index(int(peak["epoch"])), alpha)
            drop = float(peak["i_xt"] - end["i_xt"])  # the plane's estimator's drop
            separated = bool(peak["i_xt_low"] > end["i_xt_high"])
            late = bool(drop > min_drop and p_value < alpha and separated)
            row.update(assessable=True, late=late, peak_epoch=int(peak["epoch"]),
                       peak=float(peak["i_xt"]), end=float(end["i_xt"]), drop_bits=drop,
                       drop_low=drop - below, drop_high=drop - above,
                       relative_drop=drop / float(peak["i_xt"]) if peak["i_xt"] > 0 else 0.0,
                       p_value=p_value,
                       reason=(f"late compression: {drop:.3g} bits from epoch "
                               f"{int(peak['epoch'])} to {int(end['epoch'])}, p = "
                               f"{p_value:.3g}" if late else
                               f"no significant late drop ({drop:.3g} bits, p = "
                               f"{p_value:.3g})" if separated or p_value >= alpha else
                               f"no late drop beyond the estimates' guaranteed intervals "
                               f"({drop:.3g} bits, p = {p_value:.3g}, but the peak's "
                               f"lower bound {float(peak['i_xt_low']):.4g} <= the end's "
                               f"upper bound {float(end['i_xt_high']):.4g})"))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPRESSION_COLUMNS))
