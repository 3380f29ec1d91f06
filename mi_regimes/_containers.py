"""Every container a user may pass, as a NumPy array: the first step of validation.

Lists, tuples, lists of lists, pandas objects (``to_numpy``), masked arrays without
masked entries, SciPy sparse matrices (made dense), memmaps, any order and byte order;
object arrays resolved into numbers (or, for 1-D symbols, text and exact big integers).
Nothing is copied that need not be.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np

__all__ = ["to_array", "unwrap"]


def unwrap(x, name: str):
    """The checks every reader of user arrays shares (samples and the trainer's inputs):
    an iterator is refused (``np.asarray`` would make one object of it), a masked array
    gives its data, or an error when entries are masked (they would be read as values),
    a SciPy sparse matrix or array its dense values."""
    if isinstance(x, Iterator):
        raise TypeError(f"{name}: a {type(x).__name__} (an iterator) is read only once; pass "
                        f"a list or an array, e.g. list({name})")
    if type(x).__module__.startswith("scipy.sparse") and callable(getattr(x, "toarray", None)):
        return x.toarray()  # np.asarray wraps a sparse matrix as one object
    if isinstance(x, np.ma.MaskedArray):
        if np.ma.getmaskarray(x).any():
            raise ValueError(f"{name}: masked array with masked entries; drop or fill them "
                             "first (x.compressed() for 1-D, or x.filled(...))")
        return x.data
    return x


def to_array(x, name: str) -> np.ndarray:
    """Any supported container as an ndarray (a view when possible), odd dtypes resolved.

    Returns an array of dtype bool, integer, float32/float64, or (1-D only) an array of
    strings or of exact Python integers that :func:`_symbol_codes` factorises.
    """
    if x is None or isinstance(x, str | bytes | dict | set | frozenset):
        raise TypeError(f"{name}: expected samples, an (N, D) array of bits or 1-D symbols, "
                        f"got {type(x).__name__}")
    x = unwrap(x, name)
    to_numpy = getattr(x, "to_numpy", None)  # pandas Series, DataFrame, Index
    try:
        if callable(to_numpy) and not isinstance(x, np.ndarray):
            arr = np.asarray(to_numpy())
        else:
            arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot be read as an array ({exc}); pass rows of equal "
                         "length") from None
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected a 2-D (N, D) array of bits or 1-D symbols, got "
                         f"the single value {arr.item()!r}; pass one row or symbol per sample")
    if arr.ndim > 2:
        raise ValueError(f"{name}: expected a 2-D (samples, bits) array or 1-D symbols, got "
                         f"{arr.ndim}-D shape {arr.shape}; reshape to (N, D)")
    if arr.size == 0:
        what = ("at least one bit per row" if arr.ndim == 2 and arr.shape[0]
                else "at least one sample")
        raise ValueError(f"{name}: empty array of shape {arr.shape}; pass {what}")
    kind = arr.dtype.kind
    if kind == "O":
        return _from_objects(arr, name)
    if kind in "US":
        if arr.ndim == 2:
            raise TypeError(f"{name}: text values in (N, D) rows; rows must hold {{0,1}} or "
                            "{-1,+1} (text is accepted only as 1-D symbols)")
        return arr
    if kind not in "biuf":
        raise TypeError(f"{name}: dtype {arr.dtype} is not supported; pass bool, integer or "
                        "float values ({0,1} or {-1,+1} rows, or 1-D integer symbols)")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if kind == "f" and arr.dtype.itemsize == 2:
        arr = arr.astype(np.float32)
    elif kind == "f" and arr.dtype.itemsize > 8:
        # long double: keep only what float64 holds exactly, so no value rounds to 0 or 1
        as64 = arr.astype(np.float64)
        if not np.array_equal(as64, arr, equal_nan=True):
            raise ValueError(f"{name}: long-double values not exactly representable as "
                             "float64; they cannot be bits or whole-number symbols")
        arr = as64
    return arr


def _is_missing(v) -> bool:
    return v is None or type(v).__name__ in ("NAType", "NaTType")


def _from_objects(arr: np.ndarray, name: str) -> np.ndarray:
    """An object array as numbers (or, 1-D only, strings / exact big integers)."""
    items = arr.ravel().tolist()
    if any(_is_missing(v) for v in items):
        raise ValueError(f"{name}: missing values (None/NA); drop or fill them first")
    if all(isinstance(v, numbers.Integral | np.bool_) for v in items):
        try:
            return np.array(items, dtype=np.int64).reshape(arr.shape)
        except OverflowError:
            if arr.ndim == 2:
                raise ValueError(f"{name}: values must be binary, {{0,1}} or {{-1,+1}}; found "
                                 "integers beyond 64 bits") from None
            return arr  # exact Python integers: factorised as symbols
    if all(isinstance(v, numbers.Real | np.bool_) for v in items):
        return np.array(items, dtype=np.float64).reshape(arr.shape)
    if arr.ndim == 1 and all(isinstance(v, str) for v in items):
        return np.array(items, dtype=str)
    kinds = sorted({type(v).__name__ for v in items})
    raise TypeError(f"{name}: object array holding {', '.join(kinds)} values; pass numbers "
                    "({0,1} or {-1,+1} rows), or 1-D symbols of one type (integers or text)")
