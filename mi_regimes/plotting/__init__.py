"""Figures: regime heatmaps, information planes (matplotlib and seaborn, imported on use).

Figures draw what they are given (boundaries, verdicts and intervals come from the
tables of :mod:`mi_regimes.regimes` and :mod:`mi_regimes.infoplane`) and never choose a
matplotlib backend.
"""

from .heatmap import METRICS, pyplot, regime_heatmap, save_figure
from .planes import VERDICT_MARKERS, information_plane_figure

__all__ = ["METRICS", "VERDICT_MARKERS", "regime_heatmap", "information_plane_figure",
           "save_figure", "pyplot"]
