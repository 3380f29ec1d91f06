"""Numba kernels that pack binary rows into uint64 words, and unpack them.

Each kernel handles a range of rows and releases the GIL; :func:`pack_rows_into` runs
``N_CHUNKS`` fixed chunks of rows on the thread pool of :mod:`mi_regimes._parallel`,
each chunk reporting what values it saw, so validation needs no extra pass and the
result does not depend on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._parallel import N_CHUNKS, run_chunks

__all__ = ["pack_rows_into", "unpack_into", "OK", "BAD_VALUE", "MIXED_ZERO_MINUS_ONE"]

# Status codes.
OK, BAD_VALUE, MIXED_ZERO_MINUS_ONE = 0, 1, 2
# Below this many values a single chunk is cheaper than handing chunks to threads.
_SERIAL_VALUES = 1 << 16

# Values seen while packing, OR-ed over a chunk of rows.
_SAW_BAD, _SAW_ZERO, _SAW_MINUS = 1, 2, 4


@nb.njit(cache=True, nogil=True)
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


_GATHER = np.uint64(0x0102040810204080)
_HIGH7 = np.uint64(0xFEFEFEFEFEFEFEFE)


@nb.njit(cache=True)
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


@nb.njit(cache=True, nogil=True)
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


@nb.njit(cache=True, nogil=True)
def _unpack_rows(words, d, out, lo, hi):
    for i in range(lo, hi):
        for j in range(d):
            out[i, j] = np.uint8((words[i, j // 64] >> np.uint64(j % 64)) & np.uint64(1))


def _chunks(n: int, values: int) -> tuple[int, int]:
    """(number of chunks, rows per chunk): one chunk for small inputs."""
    n_chunks = 1 if values < _SERIAL_VALUES else N_CHUNKS
    return n_chunks, (n + n_chunks - 1) // n_chunks


def pack_rows_into(arr: np.ndarray, words: np.ndarray) -> int:
    """Pack a C-contiguous 2-D array of {0,1} / {-1,+1} values into ``words``; a status.

    ``arr`` is uint8 (read eight bytes at a time when D % 8 == 0 and the data are
    8-byte aligned), int8, int64, float32 or float64.
    """
    n, d = arr.shape
    n_chunks, step = _chunks(n, arr.size)
    bounds = [(min(n, c * step), min(n, (c + 1) * step)) for c in range(n_chunks)]
    if arr.dtype == np.uint8 and d % 8 == 0 and arr.ctypes.data % 8 == 0:
        x8 = arr.reshape(-1).view(np.uint64)
        seen = run_chunks(lambda c: _pack_byte_rows(x8, d, words, *bounds[c]), n_chunks)
        return BAD_VALUE if any(int(s) & int(_HIGH7) for s in seen) else OK
    flags = 0
    for f in run_chunks(lambda c: _pack_any_rows(arr, words, *bounds[c]), n_chunks):
        flags |= int(f)
    if flags & _SAW_BAD:
        return BAD_VALUE
    if flags & _SAW_ZERO and flags & _SAW_MINUS:
        return MIXED_ZERO_MINUS_ONE
    return OK


def unpack_into(words: np.ndarray, d: int, out: np.ndarray) -> None:
    """Unpack ``uint64[N, W]`` words of D-bit rows into ``uint8[N, D]``."""
    n = words.shape[0]
    n_chunks, step = _chunks(n, n * d)
    run_chunks(lambda c: _unpack_rows(words, d, out, min(n, c * step),
                                      min(n, (c + 1) * step)), n_chunks)
