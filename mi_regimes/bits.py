"""Binary input: every container users pass, validated once and packed into uint64 words.

Two kinds of samples are accepted by every function that takes data:

* **rows**: an ``(N, D)`` array-like of {0, 1} (bool, integer or float) or of {-1, +1}
  (signs: +1 -> bit 1), packed into ``uint64[N, ceil(D / 64)]``, any D;
* **symbols**: a 1-D array-like of integers (any size or sign), whole floats, strings or
  other labels, one per sample. An ``(N, 1)`` column of other values is refused like any
  non-binary row (DESIGN.md), with a hint to pass labels 1-D; arguments that can only be
  labels (``check_labels``) take a column as well.

Containers: NumPy arrays in any order, dtype or byte order (read-only views and memmaps
included), lists, tuples, lists of lists, pandas Series / DataFrame / Index and masked
arrays without masked entries. Already packed rows are recognised only as
:class:`PackedBits`, never guessed from a dtype. Inputs are never modified.

Bit order is little-endian within a row: bit ``j`` lands in word ``j // 64`` at position
``j % 64``, so a row of D <= 64 bits packs to the integer ``sum_j x_j 2**j``. Values are
checked inside the packing kernel: validation costs no extra pass over the data.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._containers import to_array
from ._packing import BAD_VALUE, MIXED_ZERO_MINUS_ONE, pack_rows_into, unpack_into

__all__ = ["PackedBits", "Samples", "pack_bits", "unpack_bits", "as_samples", "check_labels",
           "n_words", "words_mismatch"]

# The generic packing kernel is compiled for these dtypes only; others are converted
# first (fewer specialisations to compile; uint64 goes through float64, where 0 and 1
# stay exact and every other value stays non-binary).
_KERNEL_DTYPES = (np.uint8, np.int8, np.int64, np.float32, np.float64)


def words_mismatch(x, n_rows: int | None = None, n_words: int | None = None) -> str | None:
    """What keeps ``x`` from being packed rows, ``uint64[N, W]`` of the given shape, said
    for an error message ("list", "float64 array of shape (3, 2)"); None when it is fine.

    The one check behind every function that takes packed words directly (counting, the
    XNOR kernels): their kernels read them unchecked.
    """
    if not isinstance(x, np.ndarray):
        return type(x).__name__
    if (x.dtype != np.uint64 or x.ndim != 2 or n_rows is not None and x.shape[0] != n_rows
            or n_words is not None and x.shape[1] != n_words):
        return f"{x.dtype} array of shape {x.shape}"
    return None


@dataclass(frozen=True)
class PackedBits:
    """Rows of D bits packed into uint64 words.

    Attributes
    ----------
    words : numpy.ndarray
        ``uint64[n, ceil(d / 64)]``, C-contiguous; unused high bits are zero.
    n : int
        Number of rows (samples).
    d : int
        Number of bits per row.
    """

    words: np.ndarray
    n: int
    d: int

    def __post_init__(self) -> None:
        w = self.words
        if not isinstance(w, np.ndarray) or w.dtype != np.uint64 or w.ndim != 2:
            raise TypeError("PackedBits.words: expected a uint64 array of shape (n, n_words); "
                            "build it with mi_regimes.pack_bits(x)")
        if (not isinstance(self.n, numbers.Integral) or not isinstance(self.d, numbers.Integral)
                or w.shape != (self.n, n_words(self.d)) or self.n < 1 or self.d < 1):
            raise ValueError(
                f"PackedBits: words shape {w.shape} does not match n={self.n}, d={self.d}; "
                "build it with mi_regimes.pack_bits(x)"
            )
        if not w.flags.c_contiguous:
            object.__setattr__(self, "words", np.ascontiguousarray(w))
        tail = self.d % 64
        if tail and np.any(self.words[:, -1] >> np.uint64(tail)):
            raise ValueError(f"PackedBits.words: bits above bit {self.d - 1} are set; unused "
                             "high bits must be zero (pack with mi_regimes.pack_bits)")

    @classmethod
    def _trusted(cls, words: np.ndarray, d: int) -> PackedBits:
        """Wrap words this package packed itself (C-contiguous, zero padding): no checks."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "words", words)
        object.__setattr__(obj, "n", int(words.shape[0]))
        object.__setattr__(obj, "d", int(d))
        return obj

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, d)``, the shape of the unpacked rows."""
        return (self.n, self.d)

    def unpack(self) -> np.ndarray:
        """Return the rows as ``uint8[n, d]`` of {0, 1}."""
        return unpack_bits(self)


def n_words(d: int) -> int:
    """Number of uint64 words that hold ``d`` bits."""
    return (int(d) + 63) // 64


# ------------------------------------------------------------------ packing


def pack_bits(x, name: str = "x") -> PackedBits:
    """Validate binary rows and pack them into uint64 words.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` rows of {0, 1} (bool, integer or float) or of {-1, +1} (signs: +1 ->
        bit 1, -1 -> bit 0), in any container (see the module docstring). A
        ``PackedBits`` is returned unchanged.
    name : str
        Argument name used in error messages.

    Returns
    -------
    PackedBits
        ``words`` of shape ``(N, ceil(D / 64))``, read-only.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D, is empty, or holds values other than {0,1} / {-1,+1}
        (including NaN and inf), or mixes 0 with -1.
    TypeError
        If the values are not numbers.

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> p = mr.pack_bits([[1, 0, 1], [0, 0, 1]])
    >>> p.words.ravel().tolist(), p.n, p.d
    ([5, 4], 2, 3)
    """
    if isinstance(x, PackedBits):
        return x
    arr = to_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D (samples, bits) array, got 1-D shape "
                         f"{arr.shape}; reshape to (N, 1) for one bit per sample")
    words = _pack_rows(arr, name, np.empty)
    words.flags.writeable = False
    return PackedBits._trusted(words, arr.shape[1])


def _pack_rows(arr: np.ndarray, name: str, allocate) -> np.ndarray:
    """Validate and pack a 2-D numeric array into ``allocate((n, n_words), np.uint64)``."""
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: values must be binary numbers, {{0,1}} or {{-1,+1}}; got "
                        f"dtype {arr.dtype}")
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    elif arr.dtype == np.uint64:
        arr = arr.astype(np.float64)
    elif arr.dtype.type not in _KERNEL_DTYPES:
        arr = arr.astype(np.int64)
    arr = np.ascontiguousarray(arr)
    n, d = arr.shape
    words = allocate((n, n_words(d)), np.uint64)
    status = pack_rows_into(arr, words)
    if status == BAD_VALUE:
        hint = (" (one column of labels? pass it 1-D: y.ravel(), or df['label'] instead of "
                "df[['label']])" if d == 1 else "")
        raise ValueError(
            f"{name}: values must be binary, {{0,1}} or {{-1,+1}}; found other values "
            f"(or NaN/inf); threshold or sign-binarise the data first, or pass 1-D symbols"
            f"{hint}"
        )
    if status == MIXED_ZERO_MINUS_ONE:
        raise ValueError(
            f"{name}: mixes 0 and -1; use either {{0,1}} or {{-1,+1}} coding, not both"
        )
    return words


def unpack_bits(packed: PackedBits) -> np.ndarray:
    """Unpack a ``PackedBits`` back to ``uint8[N, D]`` of {0, 1}.

    Parameters
    ----------
    packed : PackedBits
        Output of :func:`pack_bits`.

    Returns
    -------
    numpy.ndarray
        ``uint8[N, D]``.
    """
    if not isinstance(packed, PackedBits):
        raise TypeError(f"packed: expected PackedBits, got {type(packed).__name__}")
    out = np.empty((packed.n, packed.d), dtype=np.uint8)
    unpack_into(packed.words, packed.d, out)
    return out


# ------------------------------------------------------------------ symbols



_INT64_MAX = np.iinfo(np.int64).max


def _symbol_codes(arr: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """1-D symbols as new int64 values (equal symbols, equal values) and a guess of K.

    Integers keep their values and the guess is ``max - min + 1``; text, exact big
    integers and uint64 values beyond int64 are numbered in sorted order and the
    guess is the number of distinct symbols.
    """
    kind = arr.dtype.kind
    if kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{name}: float symbols must be finite whole numbers; found NaN "
                             "(missing values), inf or fractions; pass integer labels")
        if np.abs(arr).max() >= 2.0**63:
            raise ValueError(f"{name}: float symbols beyond 2**63; pass them as integers")
        values = arr.astype(np.int64)
    elif kind == "u" and arr.dtype.itemsize == 8 and int(arr.max()) > _INT64_MAX:
        values = None
    elif kind in "biu":
        values = arr.astype(np.int64)
    else:
        values = None
    if values is None:  # text, big integers: number the distinct symbols
        try:
            uniques, codes = np.unique(arr, return_inverse=True)
        except TypeError as exc:
            raise TypeError(f"{name}: symbols of mixed types cannot be compared ({exc}); "
                            "pass one type of label") from None
        return codes.reshape(-1).astype(np.int64), int(uniques.size)
    return values, int(values.max()) - int(values.min()) + 1


def check_labels(y, name: str = "labels") -> np.ndarray:
    """Validate 1-D symbols (class labels) and return them as new int64 values.

    Parameters
    ----------
    y : array_like
        One symbol per sample: integers of any size or sign, whole floats, bools, text,
        in any container.
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64[N]``, equal exactly where the symbols are equal (``y`` is not modified).

    Examples
    --------
    >>> check_labels(["cat", "dog", "cat"]).tolist()
    [0, 1, 0]
    """
    if getattr(y, "ndim", None) == 2 and y.shape[1] == 1:  # y[:, None], df[["label"]]
        y = y.iloc[:, 0] if hasattr(y, "iloc") else y[:, 0]  # before text is refused in 2-D
    arr = to_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]  # a list of one-element rows
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of symbols, got shape {arr.shape}; "
                         "pass one label per sample")
    return _symbol_codes(arr, name)[0]


# ------------------------------------------------------------------ samples


@dataclass(frozen=True)
class Samples:
    """Validated samples as one uint64 word row per sample: what counting consumes.

    Attributes
    ----------
    words : numpy.ndarray
        ``uint64[N, W]``, C-contiguous. For symbols ``W = 1`` (int64 values reinterpreted).
    d : int or None
        Bits per row; None for symbols.
    alphabet_size : int, float or None
        The number of possible states K when known: given by the caller, else ``2**D``
        for rows (an exact integer, any D); None for symbols without a given K.
    alphabet_guess : int or None
        For symbols without a given K: ``max - min + 1`` of integer symbols, or the number
        of distinct symbols otherwise. Only a guess: results that use it say so.
    owned : bool
        ``words`` were made for this call (not the caller's memory): counting may
        overwrite them.
    """

    words: np.ndarray
    d: int | None
    alphabet_size: int | float | None
    alphabet_guess: int | None
    owned: bool

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.words.shape[0])

    @property
    def nsb_alphabet(self) -> tuple[int | float, bool]:
        """``(K, known)``: K for estimators that need one, and whether it was known."""
        if self.alphabet_size is not None:
            return self.alphabet_size, True
        return self.alphabet_guess, False

    def packed(self) -> PackedBits:
        """The rows as :class:`PackedBits` (binary rows only)."""
        if self.d is None:
            raise ValueError("samples are 1-D symbols, not binary rows")
        return PackedBits._trusted(self.words, self.d)


def as_samples(x, name: str = "x", *, alphabet_size=None, allocate=np.empty) -> Samples:
    """Validate any accepted input and turn it into :class:`Samples`.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` binary rows, ``PackedBits``, or 1-D symbols (see the module docstring).
    name : str
        Argument name used in error messages.
    alphabet_size : int or float, optional
        The number of possible states K, if known (default ``2**D`` for rows).
    allocate : callable
        ``allocate(shape, dtype)`` for the packed words; may hand out a reused scratch
        buffer (see ``mi_regimes._scratch``), valid until that buffer is handed out again.

    Returns
    -------
    Samples

    Examples
    --------
    >>> s = as_samples([3, -7, 3, 2**40])
    >>> s.n, s.d, s.alphabet_size, s.alphabet_guess
    (4, None, None, 1099511627784)
    >>> as_samples([[0, 1], [1, 1]]).alphabet_size
    4
    """
    from ._validation import check_alphabet_size

    alphabet_size = check_alphabet_size("alphabet_size", alphabet_size)
    if isinstance(x, PackedBits):
        k = alphabet_size if alphabet_size is not None else 1 << x.d
        return Samples(x.words, x.d, k, None, False)
    arr = to_array(x, name)
    if arr.ndim == 2:
        words = _pack_rows(arr, name, allocate)
        d = int(arr.shape[1])
        k = alphabet_size if alphabet_size is not None else 1 << d
        return Samples(words, d, k, None, True)
    values, guess = _symbol_codes(arr, name)
    return Samples(values.view(np.uint64).reshape(-1, 1), None, alphabet_size,
                   None if alphabet_size is not None else guess, True)
