"""Checks of the arrays a user hands the trainer: input matrices and class labels.

Whatever container arrives (list, tuple, pandas object, memmap, read-only or strided
view), the result is a NumPy array of the dtype the kernels take, or an error that names
the argument, the problem and the fix; never a silently truncated or reinterpreted value.
"""

from __future__ import annotations

import numpy as np

from .._containers import to_array, unwrap

__all__ = ["check_input_matrix", "check_labels"]


def check_input_matrix(name: str, x, n_features: int | None = None) -> np.ndarray:
    """``x`` as ``float32[n, n_features]``, finite (a view when it already is one).

    Parameters
    ----------
    name : str
        The argument's name, for the error messages.
    x : array_like
        One sample per row: numbers (bool, integer or float).
    n_features : int, optional
        Required number of columns.
    """
    x = _numeric_array(name, x)
    if x.ndim != 2 or (n_features is not None and x.shape[1] != n_features):
        want = "n_features" if n_features is None else n_features
        raise ValueError(f"{name}: expected shape (n, {want}), one sample per row, got "
                         f"{x.shape}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric inputs, got dtype {x.dtype}")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused just below
        x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: contains NaN or inf (or values beyond float32); clean "
                         "the inputs first")
    return x


def _numeric_array(name: str, x) -> np.ndarray:
    """``x`` as an ndarray, with missing values as NaN (the finiteness check names them).

    pandas objects go through ``to_numpy(float64)``: plain ``np.asarray`` turns nullable
    (``Int64``, ``Float64``) and mixed bool/number frames into object arrays.
    """
    x = unwrap(x, name)
    try:
        if callable(getattr(x, "to_numpy", None)) and not isinstance(x, np.ndarray):
            return np.asarray(x.to_numpy(dtype=np.float64, na_value=np.nan))
        x = np.asarray(x)
        return x.astype(np.float64) if x.dtype.kind == "O" else x
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected numeric inputs, one sample per row ({exc}); "
                        "convert every column to numbers first") from None


def check_labels(name: str, y, n: int, n_classes: int) -> np.ndarray:
    """``y`` as ``int64[n]`` class labels in ``0 .. n_classes - 1``.

    Integer and bool labels are taken as they are; float labels only when every value
    is a whole number (as read from a CSV), since truncating 1.7 to 1 would be a silent
    wrong answer. Containers are read as the estimators read them (:func:`to_array`):
    a masked array with masked entries, an iterator or a missing value is refused, where
    ``np.asarray`` read masked labels as values and an iterator as one object.
    """
    y = to_array(y, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # a column vector of labels (y[:, None], df[["label"]])
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels, one per sample, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not (np.all(np.isfinite(y)) and np.array_equal(y, np.round(y))):
            raise ValueError(f"{name}: float labels must be whole numbers; found NaN, inf or "
                             "fractions; pass integer class labels")
    elif y.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected integer class labels, got dtype {y.dtype}; map "
                        "the classes to 0 .. n_classes - 1 first")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name}: labels must lie in 0..{n_classes - 1}, got "
                         f"{y.min()}..{y.max()}")
    return np.ascontiguousarray(y, dtype=np.int64)
