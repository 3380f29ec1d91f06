"""Information-plane figures: the plane beside per-epoch panels, verdicts at a glance."""

from __future__ import annotations

import numpy as np

from .._validation import check_table
from .heatmap import pyplot

__all__ = ["information_plane_figure", "VERDICT_MARKERS"]

#: marker and fill per verdict status ("exact": empirical-mode points)
VERDICT_MARKERS = {
    "exact": ("o", True), "reliable": ("o", True), "biased": ("o", False),
    "undersampled": ("s", False), "saturated": ("X", True), "no guarantee": ("D", False),
}


def _draw_layer(ax, traj, colour, cmap, norm, show_bars: bool) -> None:
    ax.plot(traj["i_xt"], traj["i_ty"], color=colour, lw=1.0, alpha=0.7, zorder=1)
    for _, p in traj.iterrows():
        c = cmap(norm(p["epoch"] + 1))
        if not p["in_bounds"]:  # an impossible value: shown as such, never as a point
            ax.scatter(p["i_xt"], p["i_ty"], marker="+", s=90, color="red", lw=2, zorder=4)
            continue
        # a saturated point's interval is all of [0, D]: its X marker says it
        if show_bars and np.isfinite(p["i_xt_low"]) and p["verdict"] != "saturated":
            ax.errorbar(p["i_xt"], p["i_ty"],
                        xerr=[[max(p["i_xt"] - p["i_xt_low"], 0)],
                              [max(p["i_xt_high"] - p["i_xt"], 0)]],
                        yerr=[[max(p["i_ty"] - p["i_ty_low"], 0)],
                              [max(p["i_ty_high"] - p["i_ty"], 0)]],
                        color=c, lw=0.6, alpha=0.5 if p["verdict"] == "reliable" else 0.2,
                        zorder=2)
        marker, filled = VERDICT_MARKERS.get(p["verdict"], ("o", False))
        ax.scatter(p["i_xt"], p["i_ty"], marker=marker, s=34, linewidth=1.1, zorder=3,
                   facecolor=c if filled else "white", edgecolor=c)
    last = traj.iloc[-1]
    ax.annotate(f"L{int(last['layer'])}", (last["i_xt"], last["i_ty"]), xytext=(4, 4),
                textcoords="offset points", color=colour, fontsize=9, weight="bold")


def information_plane_figure(plane, compression=None, title: str | None = None):
    """Draw an information plane and its per-epoch panels.

    Parameters
    ----------
    plane : pandas.DataFrame
        From :func:`mi_regimes.infoplane.information_plane`.
    compression : pandas.DataFrame, optional
        From :func:`mi_regimes.compression.detect_compression`: late drops are marked.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Left: I(T;Y) against I(X;T), one line per layer (L1 = first hidden layer), points
        coloured by epoch, one marker per verdict, interval bars in population mode, red
        crosses for estimates outside the plane's bounds, and the log2 N limit. Right:
        I(X;T), I(T;Y) and accuracies against the epoch.
    """
    import seaborn as sns
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    check_table("plane", plane, ("mode", "estimator", "split", "layer", "epoch", "i_xt",
                                 "i_ty", "i_xt_low", "i_xt_high", "i_ty_low", "i_ty_high",
                                 "verdict", "in_bounds", "log2_n", "h_y"),
                "mi_regimes.infoplane.information_plane")
    plt = pyplot()
    mode = plane["mode"].iloc[0]
    estimator = plane["estimator"].iloc[0]
    split = plane["split"].iloc[0]
    layers = sorted(plane["layer"].unique())
    palette = sns.color_palette("tab10", n_colors=max(len(layers), 3))
    fig = plt.figure(figsize=(13.5, 6.2), constrained_layout=True)
    grid = fig.add_gridspec(3, 2, width_ratios=[1.55, 1.0])
    ax = fig.add_subplot(grid[:, 0])
    epochs = plane["epoch"].to_numpy()
    norm = LogNorm(vmin=1, vmax=max(epochs.max() + 1, 2))
    cmap = plt.get_cmap("viridis")
    for layer, colour in zip(layers, palette, strict=False):
        traj = plane[plane["layer"] == layer].sort_values("epoch")
        _draw_layer(ax, traj, colour, cmap, norm, show_bars=(mode == "population"))
    log2_n = float(plane["log2_n"].iloc[0])
    ax.axvline(log2_n, color="magenta", ls=":", lw=1.5)
    ax.set_xlabel("I(X;T)  [bits]")
    ax.set_ylabel("I(T;Y)  [bits]")
    # the view holds every point and the log2 N line; intervals that run further (to D,
    # for a saturated layer) are cut at the edge rather than squeezing the points
    shown = plane[plane["in_bounds"]]
    x_top = max(float(plane["i_xt"].max()), log2_n) * 1.08 + 0.1
    y_top = max(float(shown["i_ty"].max()) if len(shown) else 0.0,
                float(plane["h_y"].max())) * 1.08 + 0.05
    ax.set_xlim(0, x_top)
    ax.set_ylim(0, y_top)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01,
                       shrink=0.85)
    bar.set_label("epoch + 1 (log scale)")
    _plain_log_ticks(bar.ax.yaxis)
    handles = [Line2D([], [], marker=m, ls="", color="0.3",
                      markerfacecolor="0.3" if f else "white", label=s)
               for s, (m, f) in VERDICT_MARKERS.items() if s in set(plane["verdict"])]
    handles += [Line2D([], [], marker="+", ls="", color="red", markersize=9,
                       label="outside the plane's bounds"),
                Line2D([], [], color="magenta", ls=":", label=f"log2 N = {log2_n:.2f}")]
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    panels = [fig.add_subplot(grid[i, 1]) for i in range(3)]
    for layer, colour in zip(layers, palette, strict=False):
        traj = plane[plane["layer"] == layer].sort_values("epoch")
        x = traj["epoch"] + 1
        for axis, column in zip(panels[:2], ("i_xt", "i_ty"), strict=True):
            sns.lineplot(x=x.to_numpy(), y=traj[column].to_numpy(), ax=axis, color=colour,
                         marker="o", markersize=3, label=f"L{layer}")
            if mode == "population":  # the intervals as a band (saturated: none)
                ok = (traj["verdict"] != "saturated").to_numpy()
                axis.fill_between(x.to_numpy(), traj[f"{column}_low"].where(ok),
                                  traj[f"{column}_high"].where(ok), color=colour,
                                  alpha=0.12, lw=0)
        if compression is not None:
            found = compression[compression["layer"] == layer]
            if len(found) and found["late"].iloc[0] is not None and bool(found["late"].iloc[0]):
                panels[0].axvspan(found["peak_epoch"].iloc[0] + 1,
                                  found["end_epoch"].iloc[0] + 1, color=colour, alpha=0.12)
    first = plane[plane["layer"] == layers[0]].sort_values("epoch")
    noisy = ("train_acc_noisy" in first and first["train_acc_noisy"].notna().any()
             and not np.allclose(first["train_acc_noisy"], first["train_acc"]))
    for column, style, label in (("train_acc", "-", "train (clean labels)"),
                                 ("train_acc_noisy", ":", "train (labels trained on)"),
                                 ("test_acc", "--", "test")):
        if column == "train_acc_noisy" and not noisy:
            continue
        if column in first and first[column].notna().any():
            panels[2].plot(first["epoch"] + 1, first[column], ls=style, color="0.2",
                           label=label)
    for axis, label in zip(panels, ("I(X;T) [bits]", "I(T;Y) [bits]", "accuracy"),
                           strict=True):
        axis.set_xscale("log")
        _plain_log_ticks(axis.xaxis)
        axis.set_ylabel(label)
        axis.legend(fontsize=7, ncol=2, loc="best")
    panels[2].set_xlabel("epoch + 1 (log scale)")
    what = ("exact, X uniform over the recorded inputs" if mode == "empirical"
            else f"{estimator} estimates, intervals and verdicts")
    fig.suptitle(title or f"Information plane on the {split} inputs ({what})")
    return fig


def _plain_log_ticks(axis) -> None:
    """Epoch ticks as plain numbers (2, 3, 50), not 2×10⁰, whatever the span of epochs."""
    from matplotlib.ticker import LogFormatter

    axis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
