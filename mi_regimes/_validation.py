"""Argument checks shared by every public function.

Each check names the argument, says what was wrong and how to fix it, and returns the
value converted to a plain Python type. Nothing here looks at samples (that is
:mod:`mi_regimes.bits`); these are the scalar options around them, and count vectors
(which both counting and the estimators take).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np

from ._containers import unwrap

__all__ = ["check_int", "check_float", "check_fraction", "check_choice", "check_bool",
           "check_alphabet_size", "check_alphabet_covers", "check_counts", "check_table",
           "check_memory", "check_n_boot", "MAX_BOOT"]


#: Most bootstrap replicates: they are held in memory, and 1e20 failed to compile in the
#: kernel while 1e12 raised MemoryError. A million already pins a 95 % interval's ends.
MAX_BOOT = 10**7


def check_n_boot(n_boot, name: str = "n_boot") -> int:
    """A number of bootstrap replicates, 1 .. :data:`MAX_BOOT`."""
    return check_int(name, n_boot, 1, MAX_BOOT)


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool, not a float) within ``[low, high]``.

    Examples
    --------
    >>> check_int("reps", 10, low=2)
    10
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if low is not None and value < low or high is not None and value > high:
        raise ValueError(f"{name}: must be an integer {_range(low, high)}, got {value}")
    return value


def check_float(name: str, value, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number within the given (open or closed) bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        lo = "" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "" if high is None else f"{high:g}{')' if high_open else ']'}"
        where = f"in {lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"{name}: must be a finite number {where}, got {value!r}")
    return value


def check_fraction(name: str, value, *, open_low: bool = True, open_high: bool = True) -> float:
    """A number in (0, 1) (or with closed ends), e.g. a confidence level or a tolerance."""
    return check_float(name, value, 0.0, 1.0, low_open=open_low, high_open=open_high)


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """One of ``choices``; the message lists them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: unknown value {value!r}; choose one of {', '.join(choices)}")
    return value


def check_bool(name: str, value) -> bool:
    """A bool (numpy bools accepted)."""
    if not isinstance(value, bool | int) or value not in (0, 1):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_alphabet_size(name: str, value) -> int | float | None:
    """The number of possible states K: None, an integer >= 1 (any size), or a whole
    float >= 1.

    Python integers are kept exact (``2**5000`` is a valid alphabet of 5000-bit rows);
    every use goes through ``math.log``, which handles them.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected the number of possible states (e.g. 2**D), got "
                        f"{type(value).__name__} {value!r}")
    if isinstance(value, numbers.Integral):
        value = int(value)
        if value < 1:
            raise ValueError(f"{name}: must be >= 1, got {value}")
        return value
    value = float(value)
    if not (math.isfinite(value) and value >= 1):
        raise ValueError(f"{name}: must be a finite number >= 1, got {value!r}; pass an "
                         "integer such as 2**D for a huge alphabet")
    if not value.is_integer():  # 64.5 states went into NSB's and PYM's formulas as given
        raise ValueError(f"{name}: {value!r} is not a whole number of states; pass an "
                         "integer such as 2**D")
    return value


def check_alphabet_covers(alphabet_size, observed: int) -> None:
    """An alphabet (None = unknown) holding at least the ``observed`` distinct states:
    the estimators that use K would cap or fold a value at log K, a wrong answer."""
    if alphabet_size is not None and alphabet_size < observed:
        size = (f"{alphabet_size:g}" if alphabet_size < 1e15
                else f"2**{math.log2(alphabet_size):.2f}")
        raise ValueError(f"alphabet_size: {size} is smaller than the {observed} states "
                         "observed; pass the true alphabet size (2**D for D-bit rows)")


def check_table(name: str, table, columns: Iterable[str], producer: str) -> None:
    """A non-empty pandas DataFrame holding ``columns``, as ``producer`` returns it."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame from {producer}, got "
                        f"{type(table).__name__}")
    missing = set(columns) - set(table.columns)
    if missing:
        raise ValueError(f"{name}: missing columns {sorted(missing)}; pass the output of "
                         f"{producer}")
    if len(table) == 0:
        raise ValueError(f"{name}: holds no rows; pass the output of {producer}")


def physical_memory() -> int | None:
    """Bytes of RAM, where the OS says (POSIX); None elsewhere."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(name: str, need: float, what: str, fix: str) -> None:
    """Refuse work whose arrays (``need`` bytes) cannot fit in this machine's RAM, before
    any is allocated (NumPy's MemoryError names no argument, and a near miss swaps)."""
    ram = physical_memory()
    if ram is not None and need > ram:
        raise ValueError(f"{name}: {what} need ~{need / 2**30:.1f} GiB, more than this "
                         f"machine's {ram / 2**30:.1f} GiB; {fix}")


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f">= {low}" if low is not None else f"<= {high}"


#: Largest total count: N and every n_k are exact in float64 up to here.
_MAX_TOTAL = 2**53


def check_counts(counts, name: str = "counts") -> np.ndarray:
    """Validate a count vector and return its positive entries as int64.

    Parameters
    ----------
    counts : array_like
        1-D non-negative integer counts with a positive sum.
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of the non-zero counts: ``counts`` itself when it already is a
        positive int64 vector (never modified), else a new array.
    """
    if isinstance(counts, Mapping):  # a Counter of states: np.asarray makes one object
        raise TypeError(f"{name}: got a {type(counts).__name__}; pass its counts, e.g. "
                        f"list({name}.values())")
    # a masked count was read as the value under the mask; an iterator as one object
    arr = np.asarray(unwrap(counts, name))
    if arr.dtype == object and arr.ndim == 1:
        try:  # Python integers (a list built by hand, pandas object columns)
            arr = arr.astype(np.int64) if all(isinstance(v, numbers.Integral)
                                              for v in arr.tolist()) else arr
        except OverflowError:
            raise ValueError(f"{name}: a count beyond int64; pass sample counts (at most "
                             "2**53 in all)") from None
    if (arr.dtype == np.int64 and arr.ndim == 1 and arr.size and arr.min() > 0
            and arr.max() <= _MAX_TOTAL // arr.size):
        return arr  # the usual case (output of counting): no copy, the total cannot overflow
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric counts, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D count vector, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: empty count vector; pass at least one count")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{name}: counts must be finite whole numbers (no NaN/inf/fractions)")
    if np.any(arr < 0):
        raise ValueError(f"{name}: counts must be non-negative; found {arr.min()}")
    # totals past 2**53 lose exactness in float64 (every estimator works with n/N) and
    # past 2**63 wrap around in int64: refuse them instead of answering wrongly
    top = arr.max()
    if top > _MAX_TOTAL // arr.size:  # rare: only then can the total pass 2**53
        total = sum(int(v) for v in arr.tolist())  # exact (the values are whole)
        if total > _MAX_TOTAL:
            raise ValueError(f"{name}: counts sum to {total:.4g}, more than 2**53 samples, "
                             "beyond exact float64 arithmetic; pass sample counts (at most "
                             "2**53 in all)")
    out = arr[arr > 0].astype(np.int64)
    if out.size == 0:
        raise ValueError(f"{name}: all counts are zero; there are no samples to estimate from")
    return out
