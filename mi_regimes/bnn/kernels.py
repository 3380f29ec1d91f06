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


@nb.njit(cache=True, parallel=True)
def sign_pack(z, out):
    """Pack sign(z) row-wise: bit j of row i is 1 iff z[i, j] >= 0 (sign(0) = +1)."""
    n, d = z.shape
    n_w = out.shape[1]
    for i in nb.prange(n):
        for w in range(n_w):
            acc = np.uint64(0)
            for b in range(min(64, d - 64 * w)):
                acc |= np.uint64(z[i, 64 * w + b] >= 0) << np.uint64(b)
            out[i, w] = acc


@nb.njit(cache=True, parallel=True)
def xnor_matmul(a, w, k, out):
    """out[i, j] = Σ_t a_it w_jt for ±1 rows packed in ``a`` (N, W) and ``w`` (M, W).

    Four output columns per pass reuse each loaded word of ``a``.
    """
    n, n_w = a.shape
    m = w.shape[0]
    m4 = m - m % 4
    for i in nb.prange(n):
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


@nb.njit(cache=True, parallel=True)
def xnor_matmul_masked(a, keep, w, out):
    """Like :func:`xnor_matmul` for ternary rows: values where ``keep`` is 0 count as 0.

    Dot = popcount(keep) - 2·popcount(keep & (a XOR w)); used for dropout.
    """
    n, n_w = a.shape
    m = w.shape[0]
    for i in nb.prange(n):
        kept = 0
        for t in range(n_w):
            kept += popcount(keep[i, t])
        for j in range(m):
            c = 0
            for t in range(n_w):
                c += popcount(keep[i, t] & (a[i, t] ^ w[j, t]))
            out[i, j] = kept - 2 * c
