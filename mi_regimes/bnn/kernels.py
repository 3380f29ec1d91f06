"""Numba kernels of the binary layers: sign-and-pack, and XNOR-popcount products.

For rows a, w of K values in {-1, +1}, packed one bit per value (bit 1 = +1, padding
bits 0 in both), the dot product is K - 2·popcount(a XOR w): each mismatching bit turns a
+1 term into a -1. ``popcount`` is LLVM's ``ctpop`` intrinsic, which compiles to the
POPCNT (or AVX-512 VPOPCNTQ) instruction rather than a loop over bits.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["popcount", "sign_pack", "xnor_matmul", "xnor_matmul_masked"]

# Below this many word operations a kernel runs on one thread: waking threads costs more,
# and alternating Numba's threads with BLAS's spinning ones slows both down (measured:
# a 64x256 sign_pack took 1 ms in parallel, ~5 us serial).
PARALLEL_WORK = 1 << 20


@intrinsic
def _ctpop64(typingctx, x):
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


@nb.njit(cache=True, inline="always")
def popcount(x):
    """Number of set bits of a uint64 (LLVM ctpop)."""
    return _ctpop64(x)


@nb.njit(cache=True, inline="always")
def _sign_pack_row(z, out, i):
    d = z.shape[1]
    for w in range(out.shape[1]):
        acc = np.uint64(0)
        for b in range(min(64, d - 64 * w)):
            acc |= np.uint64(z[i, 64 * w + b] >= 0) << np.uint64(b)
        out[i, w] = acc


@nb.njit(cache=True, inline="always")
def _xnor_row(a, w, k, out, i):
    # four output columns per pass reuse each loaded word of ``a``
    n_w = a.shape[1]
    m = w.shape[0]
    m4 = m - m % 4
    for j in range(0, m4, 4):
        c0 = 0
        c1 = 0
        c2 = 0
        c3 = 0
        for t in range(n_w):
            x = a[i, t]
            c0 += popcount(x ^ w[j, t])
            c1 += popcount(x ^ w[j + 1, t])
            c2 += popcount(x ^ w[j + 2, t])
            c3 += popcount(x ^ w[j + 3, t])
        out[i, j] = k - 2 * c0
        out[i, j + 1] = k - 2 * c1
        out[i, j + 2] = k - 2 * c2
        out[i, j + 3] = k - 2 * c3
    for j in range(m4, m):
        c = 0
        for t in range(n_w):
            c += popcount(a[i, t] ^ w[j, t])
        out[i, j] = k - 2 * c


@nb.njit(cache=True, inline="always")
def _xnor_masked_row(a, keep, w, out, i):
    n_w = a.shape[1]
    kept = 0
    for t in range(n_w):
        kept += popcount(keep[i, t])
    for j in range(w.shape[0]):
        c = 0
        for t in range(n_w):
            c += popcount(keep[i, t] & (a[i, t] ^ w[j, t]))
        out[i, j] = kept - 2 * c


# Serial and parallel drivers are separate functions on purpose: two dispatchers built
# from one Python function share a cache entry, so the "serial" one could load the
# parallel code (seen: 15x slower training from thread contention with BLAS).
@nb.njit(cache=True)
def _sign_pack_serial(z, out):
    for i in range(z.shape[0]):
        _sign_pack_row(z, out, i)


@nb.njit(cache=True, parallel=True)
def _sign_pack_parallel(z, out):
    for i in nb.prange(z.shape[0]):
        _sign_pack_row(z, out, i)


@nb.njit(cache=True)
def _xnor_serial(a, w, k, out):
    for i in range(a.shape[0]):
        _xnor_row(a, w, k, out, i)


@nb.njit(cache=True, parallel=True)
def _xnor_parallel(a, w, k, out):
    for i in nb.prange(a.shape[0]):
        _xnor_row(a, w, k, out, i)


@nb.njit(cache=True)
def _xnor_masked_serial(a, keep, w, out):
    for i in range(a.shape[0]):
        _xnor_masked_row(a, keep, w, out, i)


@nb.njit(cache=True, parallel=True)
def _xnor_masked_parallel(a, keep, w, out):
    for i in nb.prange(a.shape[0]):
        _xnor_masked_row(a, keep, w, out, i)


_SIGN_PACK = (_sign_pack_serial, _sign_pack_parallel)
_XNOR = (_xnor_serial, _xnor_parallel)
_XNOR_MASKED = (_xnor_masked_serial, _xnor_masked_parallel)


def sign_pack(z: np.ndarray, out: np.ndarray) -> None:
    """Pack sign(z) row-wise into ``out``: bit j of row i is 1 iff z[i, j] >= 0.

    sign(0) = +1. ``z`` is a C-contiguous float array (n, d); ``out`` is
    ``uint64[n, ceil(d / 64)]``, overwritten.
    """
    _SIGN_PACK[z.size >= PARALLEL_WORK](z, out)


def xnor_matmul(a: np.ndarray, w: np.ndarray, k: int, out: np.ndarray) -> None:
    """out[i, j] = Σ_t a_it w_jt for ±1 rows packed in ``a`` (N, W) and ``w`` (M, W).

    ``k`` is the number of real columns (padding bits are 0 in both operands);
    ``out`` is ``int32[N, M]``, overwritten.
    """
    _XNOR[a.shape[0] * w.shape[0] * a.shape[1] >= PARALLEL_WORK](a, w, k, out)


def xnor_matmul_masked(a: np.ndarray, keep: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """Like :func:`xnor_matmul` for ternary rows: values where ``keep`` is 0 count as 0.

    Dot = popcount(keep) - 2·popcount(keep & (a XOR w)); used for dropout.
    """
    _XNOR_MASKED[a.shape[0] * w.shape[0] * a.shape[1] >= PARALLEL_WORK](a, keep, w, out)
