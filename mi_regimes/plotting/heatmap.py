"""The regime heatmap: one panel per estimator over (log2 N, D), with the boundaries."""

from __future__ import annotations

import json
import os

import numpy as np

from .._validation import check_table

__all__ = ["METRICS", "regime_heatmap", "save_figure"]

#: metric name -> (column, colour-bar label, diverging around)
METRICS: dict[str, tuple[str, str, float | None]] = {
    "rel_bias": ("rel_bias", "relative bias (E[Ĥ] − H) / H", 0.0),
    "bias": ("bias", "bias E[Ĥ] − H  [bits]", 0.0),
    "rmse": ("rmse", "RMSE  [bits]", None),
    "saturated_frac": ("saturated_frac", "fraction of replicates with all N rows distinct",
                       None),
    "coverage": ("coverage", "CI coverage (fraction of intervals containing H)", None),
}


def pyplot():
    """matplotlib.pyplot; the backend is the user's choice (the CLI picks Agg for itself)."""
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str, dpi: int = 150) -> str:
    """Save atomically (a temporary file in the same folder, then a rename).

    A failed save leaves no partial file behind. The format follows the suffix
    (``.png``, ``.svg``, ``.pdf``).
    """
    from .._io import atomic_write

    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    return atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, bbox_inches="tight",
                                                   format=fmt))


def _boundaries(table, d_values):
    """Per D: the true entropy H (where log2 N = H) and log2 of the saturation boundary."""
    per_d = table.groupby("d")[["h_true", "log2_n_saturation"]].first().reindex(d_values)
    return per_d["h_true"].to_numpy(float), per_d["log2_n_saturation"].to_numpy(float)


def _family_params(table) -> dict:
    """Family parameters of the grid (the ``params`` column, JSON)."""
    return json.loads(table["params"].iloc[0])


def regime_heatmap(table, metric: str = "rel_bias", tol: float = 0.05, ci: float = 0.95,
                   title: str | None = None):
    """Draw one heatmap panel per estimator over (log2 N, D).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`mi_regimes.regimes.run_grid` for one source family.
    metric : str
        One of :data:`METRICS`.
    tol : float
        The reliable region (|relative bias| <= tol) is outlined.
    ci : float
        Nominal coverage (centre of the colour map for ``coverage``).
    title : str, optional
        Figure title; by default names the source family and replicates.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if metric not in METRICS:
        raise ValueError(f"metric: unknown {metric!r}; choose one of {', '.join(METRICS)}")
    check_table("table", table, ("estimator", "n", "d", "h_true", "log2_n_saturation",
                                 "rel_bias", "method", "reps", "source", "params",
                                 METRICS[metric][0]), "mi_regimes.regimes.run_grid")
    plt = pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    column, label, centre = METRICS[metric]
    estimators = list(dict.fromkeys(table["estimator"]))
    n_values = np.sort(table["n"].unique())
    d_values = np.sort(table["d"].unique())
    x = np.log2(n_values)
    h_line, sat_line = _boundaries(table, d_values)

    grids = {}
    for e in estimators:
        sub = table[table["estimator"] == e].pivot(index="d", columns="n", values=column)
        grids[e] = sub.reindex(index=d_values, columns=n_values).to_numpy(dtype=float)
    finite = np.concatenate([g[np.isfinite(g)] for g in grids.values()] or [np.zeros(1)])
    if metric == "coverage":
        cmap, norm = "RdBu", TwoSlopeNorm(vcenter=ci, vmin=0.0, vmax=1.0)
    elif centre is not None:
        span = float(np.nanpercentile(np.abs(finite), 98)) if finite.size else 1.0
        span = span if span > 0 else 1.0
        cmap, norm = "RdBu_r", TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    else:
        cmap, norm = "viridis", None

    fig, axes = plt.subplots(1, len(estimators), figsize=(4.6 * len(estimators) + 1.2, 5.2),
                             sharey=True, squeeze=False, constrained_layout=True)
    x_edges, d_edges = cell_edges(x), cell_edges(d_values)
    mesh = None
    for ax, e in zip(axes[0], estimators, strict=True):
        g = grids[e]
        mesh = ax.pcolormesh(x_edges, d_edges, g, cmap=cmap, norm=norm, shading="flat")
        rel = table[table["estimator"] == e].pivot(index="d", columns="n", values="rel_bias")
        rel = rel.reindex(index=d_values, columns=n_values).to_numpy(dtype=float)
        # the outline follows the cells' edges: a contour through the cell centres cut
        # cells diagonally, and needs two rows and two columns (one N raised TypeError)
        ax.add_collection(LineCollection(
            region_edges(np.abs(rel) <= tol, x_edges, d_edges), colors="black",
            linewidths=2.5, zorder=3))
        ax.plot(h_line, d_values, color="gold", lw=2.2, ls="--")
        ax.plot(sat_line, d_values, color="magenta", lw=2.2, ls=":")
        ax.set_xlim(x_edges[0], x_edges[-1])
        ax.set_ylim(d_edges[0], d_edges[-1])
        ax.set_xticks(x)
        ax.set_xticklabels([f"{int(v)}" for v in x])
        ax.set_xlabel("log2 N  (N = samples)")
        method = set(table.loc[table["estimator"] == e, "method"])
        ax.set_title(f"{e.replace('_', '-')}" + ("  (exact theory)" if method == {"exact"}
                                                  else ""))
    axes[0, 0].set_ylabel("D  (bits per sample)")
    axes[0, 0].yaxis.set_major_locator(MaxNLocator(integer=True))  # D is a whole number
    cbar = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.9, pad=0.02)
    cbar.set_label(label)
    handles = [
        Line2D([], [], color="gold", lw=2.2, ls="--", label="log2 N = H (true entropy)"),
        Line2D([], [], color="magenta", lw=2.2, ls=":",
               label="P(all N samples distinct) = ½"),
        Patch(facecolor="none", edgecolor="black", lw=2.0,
              label=f"reliable region: |relative bias| ≤ {tol:.0%}"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
    if title is None:
        reps = int(table["reps"].max())
        how = f"{reps} replicates per cell" if reps else "exact theory"
        title = f"Entropy estimates of {table['source'].iloc[0].split('(')[0]} sources " \
                f"({_describe(table)}), {how}"
    fig.suptitle(title)
    return fig


def cell_edges(values: np.ndarray) -> np.ndarray:
    """Edges of cells centred on sorted ``values``: midway between neighbours, and half a
    gap beyond the ends (± 0.5 for a single value).

    Edges at value ± 0.5 put D = 64, 128, ... (``--d 64:1024:64``) on cells from 63.5 to
    127.5 and so on, and left D = 1024 a cell one unit high: invisible.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[:-1] + v[1:]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def region_edges(mask: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray) -> np.ndarray:
    """The cell edges that separate True cells of ``mask`` from False ones or the border.

    ``mask[i, j]`` is the cell between ``y_edges[i:i + 2]`` and ``x_edges[j:j + 2]``.
    Returns segments ``(k, 2, 2)``: k pairs of (x, y) end points, for a LineCollection.
    """
    inside = np.pad(np.asarray(mask, dtype=bool), 1)
    segments = []
    rows, cols = np.nonzero(inside[1:-1, :-1] != inside[1:-1, 1:])  # left/right of a cell
    segments += [((x_edges[j], y_edges[i]), (x_edges[j], y_edges[i + 1]))
                 for i, j in zip(rows, cols, strict=True)]
    rows, cols = np.nonzero(inside[:-1, 1:-1] != inside[1:, 1:-1])  # below/above a cell
    segments += [((x_edges[j], y_edges[i]), (x_edges[j + 1], y_edges[i]))
                 for i, j in zip(rows, cols, strict=True)]
    return np.array(segments, dtype=float).reshape(-1, 2, 2)


def _describe(table) -> str:
    params = _family_params(table)
    return ", ".join(f"{k}={v}" for k, v in params.items() if k != "seed") or "defaults"
