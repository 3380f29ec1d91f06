"""The profile of a count vector: its distinct counts and how many states have each.

Every estimator that sees states only through their counts (the plug-in, the jackknife,
the bootstrap's Poisson scheme, NSB, the verdicts' bounds) can work on the profile,
which is far shorter than the counts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["profile_of"]


def profile_of(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct counts, multiplicities) of positive int64 counts, without validation.

    A histogram of the counts when they are small (the usual case: O(K_obs), no sort),
    ``np.unique`` otherwise.
    """
    top = int(counts.max())
    if top <= 4 * counts.size + 1024:
        hist = np.bincount(counts, minlength=top + 1)
        values = np.flatnonzero(hist)
        return values.astype(np.int64), hist[values].astype(np.int64)
    values, mult = np.unique(counts, return_counts=True)
    return values.astype(np.int64), mult.astype(np.int64)
