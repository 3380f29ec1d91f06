"""Binary input: validation and packing of (N, D) rows into uint64 words.

Bit order is little-endian within a row: bit ``j`` of a row lands in word ``j // 64`` at
position ``j % 64``, so a row of D <= 64 bits packs to the integer ``sum_j x_j 2**j``.
Values are checked inside the packing kernel, so validation costs no extra pass over
the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = ["PackedBits", "pack_bits", "unpack_bits", "as_codes", "check_labels",
           "alphabet_size"]

# Kernel status codes.
_OK, _BAD_VALUE, _MIXED_ZERO_MINUS_ONE = 0, 1, 2
# Rows are packed in this many fixed chunks, each a call of a function of its own (Numba
# compiles a loop written inside a prange body much worse), with one flag per chunk.
_N_CHUNKS = 16


@dataclass(frozen=True)
class PackedBits:
    """Rows of D bits packed into uint64 words.

    Attributes
    ----------
    words : numpy.ndarray
        ``uint64[n, ceil(d / 64)]``, C-contiguous, read-only; unused high bits are zero.
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
            raise TypeError("PackedBits.words: expected a uint64 array of shape (n, n_words)")
        if w.shape != (self.n, n_words(self.d)) or self.n < 1 or self.d < 1:
            raise ValueError(
                f"PackedBits: words shape {w.shape} does not match n={self.n}, d={self.d}; "
                "build it with mi_regimes.pack_bits(x)"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, d)``, the shape of the unpacked rows."""
        return (self.n, self.d)

    def unpack(self) -> np.ndarray:
        """Return the rows as ``uint8[n, d]`` of {0, 1}."""
        return unpack_bits(self)


def n_words(d: int) -> int:
    """Number of uint64 words that hold ``d`` bits."""
    return (d + 63) // 64


# Values seen while packing, OR-ed over a chunk of rows.
_SAW_BAD, _SAW_ZERO, _SAW_MINUS = 1, 2, 4


@nb.njit(cache=True)
def _pack_any_rows(x, out, lo, hi):
    """Pack rows ``lo:hi`` of {0,1} or {-1,+1} values of any dtype; return _SAW_* flags."""
    d = x.shape[1]
    bad = zero = minus = False
    for i in range(lo, hi):
        for w in range(out.shape[1]):
            acc = np.uint64(0)
            for b in range(min(64, d - 64 * w)):
                v = x[i, 64 * w + b]
                is_one = v == 1
                is_zero = v == 0
                is_minus = v == -1
                # Branch-free so LLVM can vectorise; NaN fails all three tests.
                acc |= np.uint64(is_one) << np.uint64(b)
                bad |= not (is_one or is_zero or is_minus)
                zero |= is_zero
                minus |= is_minus
            out[i, w] = acc
    return _SAW_BAD * bad + _SAW_ZERO * zero + _SAW_MINUS * minus


@nb.njit(cache=True, parallel=True)
def _pack_kernel(x, out):
    n = x.shape[0]
    chunk = (n + _N_CHUNKS - 1) // _N_CHUNKS
    saw = np.zeros(_N_CHUNKS, np.int64)
    for c in nb.prange(_N_CHUNKS):
        saw[c] = _pack_any_rows(x, out, min(n, c * chunk), min(n, (c + 1) * chunk))
    flags = 0
    for c in range(_N_CHUNKS):
        flags |= saw[c]
    if flags & _SAW_BAD:
        return _BAD_VALUE
    if flags & _SAW_ZERO and flags & _SAW_MINUS:
        return _MIXED_ZERO_MINUS_ONE
    return _OK


_GATHER = np.uint64(0x0102040810204080)
_HIGH7 = np.uint64(0xFEFEFEFEFEFEFEFE)


@nb.njit(cache=True, inline="always")
def _gather_word(x8, base, m):
    """One word from the ``m`` (<= 8) byte-chunks at ``x8[base:]``, and their OR.

    The multiply gathers the low bit of each byte into the top byte, least significant
    byte first; any byte other than 0/1 shows up in ``OR & 0xFEFE...``.
    """
    acc = np.uint64(0)
    seen = np.uint64(0)
    for k in range(m):
        v = x8[base + k]
        seen |= v
        acc |= ((v * _GATHER) >> np.uint64(56)) << np.uint64(8 * k)
    return acc, seen


@nb.njit(cache=True)
def _pack_byte_rows(x8, d, out, lo, hi):
    """Pack rows ``lo:hi``; literal chunk counts let LLVM unroll and vectorise."""
    per_row = d // 8
    seen = np.uint64(0)
    if per_row == 4:
        for i in range(lo, hi):
            out[i, 0], s = _gather_word(x8, 4 * i, 4)
            seen |= s
    elif per_row % 8 == 0:
        for i in range(lo, hi):
            for w in range(out.shape[1]):
                out[i, w], s = _gather_word(x8, per_row * i + 8 * w, 8)
                seen |= s
    else:
        for i in range(lo, hi):
            for w in range(out.shape[1]):
                out[i, w], s = _gather_word(x8, per_row * i + 8 * w, min(8, per_row - 8 * w))
                seen |= s
    return seen


@nb.njit(cache=True, parallel=True)
def _pack_bytes_kernel(x8, d, out):
    """Pack {0,1} bytes read eight at a time (``x8``: the rows' bytes viewed as flat uint64).

    The rows are cut into a fixed number of chunks, each with its own validity flag (a
    flag per row would cost a pass over an N-byte array); each chunk's loop is its own
    function, which Numba compiles much better than a loop written inside ``prange``.
    """
    n = out.shape[0]
    chunk = (n + _N_CHUNKS - 1) // _N_CHUNKS
    seen = np.zeros(_N_CHUNKS, np.uint64)
    for c in nb.prange(_N_CHUNKS):
        seen[c] = _pack_byte_rows(x8, d, out, c * chunk, min(n, (c + 1) * chunk))
    for c in range(_N_CHUNKS):
        if seen[c] & _HIGH7:
            return _BAD_VALUE
    return _OK


@nb.njit(cache=True, parallel=True)
def _unpack_kernel(words, d, out):
    n = words.shape[0]
    for i in nb.prange(n):
        for j in range(d):
            out[i, j] = np.uint8((words[i, j // 64] >> np.uint64(j % 64)) & np.uint64(1))


def _as_array(x, name: str) -> np.ndarray:
    """Convert ``x`` to a NumPy array without copying when possible; reject odd dtypes."""
    arr = np.asarray(x)
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name}: object array with non-numeric entries; pass a numeric array of "
                "{0,1} or {-1,+1}, e.g. np.asarray(x, dtype=np.uint8)"
            ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: dtype {arr.dtype} is not supported; pass bool, integer or float "
            "values in {0,1} or {-1,+1}"
        )
    if arr.size == 0:
        raise ValueError(f"{name}: empty array of shape {arr.shape}; pass at least one sample")
    return arr


def pack_bits(x, name: str = "x") -> PackedBits:
    """Validate binary rows and pack them into uint64 words.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` array of {0, 1} (bool, integer or float dtype) or of {-1, +1}
        (signs: +1 -> bit 1, -1 -> bit 0). A ``PackedBits`` is returned unchanged.
    name : str
        Argument name used in error messages.

    Returns
    -------
    PackedBits
        ``words`` of shape ``(N, ceil(D / 64))``.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D, is empty, or holds values other than {0,1} / {-1,+1}
        (including NaN and inf), or mixes 0 with -1.
    TypeError
        If the dtype is not bool, integer or float.

    Examples
    --------
    >>> import numpy as np, mi_regimes as mr
    >>> p = mr.pack_bits(np.array([[1, 0, 1], [0, 0, 1]], dtype=np.uint8))
    >>> p.words.ravel().tolist(), p.n, p.d
    ([5, 4], 2, 3)
    """
    if isinstance(x, PackedBits):
        return x
    words, d = _pack_words(x, name, np.empty)
    words.flags.writeable = False
    return PackedBits(words=words, n=words.shape[0], d=d)


def _pack_words(x, name: str, allocate) -> tuple[np.ndarray, int]:
    """Validate and pack rows into ``allocate((n, n_words), np.uint64)``; words and D."""
    arr = _as_array(x, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D (samples, bits) array, got {arr.ndim}-D shape {arr.shape}; "
            "reshape to (N, D) or pass 1-D integer symbols to the entropy functions"
        )
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    arr = np.ascontiguousarray(arr)
    n, d = arr.shape
    words = allocate((n, n_words(d)), np.uint64)
    if arr.dtype.itemsize == 1 and arr.dtype.kind in "bu" and d % 8 == 0:
        status = _pack_bytes_kernel(arr.reshape(-1).view(np.uint64), d, words)
    else:
        status = _pack_kernel(arr, words)
    if status == _BAD_VALUE:
        raise ValueError(
            f"{name}: values must be binary, {{0,1}} or {{-1,+1}}; found other values "
            "(or NaN/inf); threshold or sign-binarise the data first"
        )
    if status == _MIXED_ZERO_MINUS_ONE:
        raise ValueError(
            f"{name}: mixes 0 and -1; use either {{0,1}} or {{-1,+1}} coding, not both"
        )
    return words, d


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
    _unpack_kernel(np.ascontiguousarray(packed.words), packed.d, out)
    return out


def check_labels(y, name: str = "labels") -> np.ndarray:
    """Validate a 1-D array of discrete symbols and return it as int64.

    Parameters
    ----------
    y : array_like
        1-D array of integers (or bool, or floats holding whole numbers).
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``int64[N]`` (a new array; ``y`` is not modified).
    """
    arr = _as_array(y, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of symbols, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or not np.array_equal(arr, np.round(arr)):
            raise ValueError(
                f"{name}: float symbols must be finite whole numbers; found NaN, inf or "
                "fractions; pass integer class labels"
            )
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name}: uint64 symbols above 2**63-1 are not supported")
    return arr.astype(np.int64)


def as_codes(x, name: str = "x") -> tuple[np.ndarray, float]:
    """Turn any accepted input into row words and the size of its alphabet.

    Parameters
    ----------
    x : array_like or PackedBits
        ``(N, D)`` binary rows, ``PackedBits``, or 1-D integer symbols.
    name : str
        Argument name used in error messages.

    Returns
    -------
    words : numpy.ndarray
        ``uint64[N, W]``, each row one sample (for symbols, ``W = 1``).
    alphabet_size : float
        ``2**D`` for binary rows; for symbols, ``max - min + 1`` (a lower bound on the
        true alphabet, used only by estimators that need one, such as NSB).
    """
    return codes_into(x, name, np.empty)


def codes_into(x, name: str, allocate) -> tuple[np.ndarray, float]:
    """:func:`as_codes`, packing binary rows into ``allocate(shape, dtype)``.

    ``allocate`` may hand out a reused scratch buffer (see ``mi_regimes._scratch``): the
    words are then new and writeable, and valid until that buffer is handed out again.
    ``PackedBits`` input is returned as is, symbols as a new int64 copy.
    """
    if isinstance(x, PackedBits):
        return x.words, 2.0**x.d
    arr = _as_array(x, name)
    if arr.ndim == 1:
        sym = check_labels(arr, name)
        return sym.view(np.uint64).reshape(-1, 1), float(sym.max() - sym.min() + 1)
    words, d = _pack_words(arr, name, allocate)
    return words, 2.0**d


def alphabet_size(x, name: str = "x") -> float:
    """The alphabet size :func:`as_codes` would report, without packing.

    ``2**D`` for ``(N, D)`` rows or a ``PackedBits``; ``max - min + 1`` for 1-D symbols.
    """
    if isinstance(x, PackedBits):
        return 2.0**x.d
    arr = _as_array(x, name)
    if arr.ndim == 2:
        return 2.0 ** arr.shape[1]
    sym = check_labels(arr, name)
    return float(sym.max() - sym.min() + 1)
