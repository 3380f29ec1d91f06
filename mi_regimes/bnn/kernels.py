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

from ..bits import words_mismatch

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


_GATHER = np.uint64(0x0102040810204080)


@nb.njit(cache=True, inline="always")
def pack_row_bits(eight, out_row, n_values):
    """Pack ``n_values`` {0,1} bytes, read as uint64 ``eight`` (8 bytes each), into words.

    ``(v * 0x0102040810204080) >> 56`` gathers the low bit of each of the 8 bytes of v
    into one byte, least significant byte first. Bytes past ``n_values`` must be 0; the
    last word reads only the 8-byte groups that hold values (a 10-unit layer: 2 of 8,
    which made packing most of a narrow layer's batch-norm pass). Callers make the
    uint64 view of their byte buffer once: a view per row costs an array allocation.
    """
    n_words = out_row.shape[0]
    for t in range(n_words - 1):  # full words: a fixed trip count, unrolled
        acc = np.uint64(0)
        for k in range(8):
            acc |= ((eight[8 * t + k] * _GATHER) >> np.uint64(56)) << np.uint64(8 * k)
        out_row[t] = acc
    t = n_words - 1
    acc = np.uint64(0)
    for k in range((n_values - 64 * t + 7) // 8):
        acc |= ((eight[8 * t + k] * _GATHER) >> np.uint64(56)) << np.uint64(8 * k)
    out_row[t] = acc


@nb.njit(cache=True)
def _sign_pack_rows(z, out, lo, hi):
    positive = np.zeros(64 * out.shape[1], np.uint8)  # padding bytes stay 0
    eight = positive.view(np.uint64)
    for i in range(lo, hi):
        for j in range(z.shape[1]):  # a plain compare: vectorises
            positive[j] = z[i, j] >= 0
        pack_row_bits(eight, out[i], z.shape[1])


@nb.njit(cache=True, error_model="numpy")
def _xnor_rows(a, keep, w_t, k, out, lo, hi):
    """Rows ``lo:hi`` of the product; ``keep`` (packed, like ``a``) or None.

    Weights are transposed to (words, outputs): the inner loop runs over outputs, which
    LLVM vectorises (AVX-512 VPOPCNTQ where available). Numba compiles the ``keep is
    None`` branch away, so the plain product pays nothing for the masked one. The
    accumulators are int64, the width ``ctpop`` returns: int32 ones cost a narrowing
    shuffle per vector (measured on AVX2: 4000 x 1024 x 1024 25.3 -> 18.1 ms).
    """
    m = w_t.shape[1]
    if keep is None and a.shape[1] == 1:  # one word per row: no accumulator pass
        for i in range(lo, hi):  # (3276 x 10 x 7: 55 -> 23 us)
            x = a[i, 0]
            for j in range(m):
                out[i, j] = k - 2 * popcount(x ^ w_t[0, j])
        return
    acc = np.empty(m, np.int64)  # one row's scratch: an allocation per row cost as much
    for i in range(lo, hi):
        acc[:] = 0
        kept = k
        if keep is None:
            for t in range(a.shape[1]):
                x = a[i, t]
                for j in range(m):
                    acc[j] += popcount(x ^ w_t[t, j])
        else:
            kept = 0
            for t in range(a.shape[1]):
                x = a[i, t]
                mask = keep[i, t]
                kept += popcount(mask)
                for j in range(m):
                    acc[j] += popcount(mask & (x ^ w_t[t, j]))
        for j in range(m):
            out[i, j] = kept - 2 * acc[j]


# Serial and parallel drivers are separate functions on purpose: two dispatchers built
# from one Python function share a cache entry, so the "serial" one could load the
# parallel code (seen: 15x slower training from thread contention with BLAS). Parallel
# drivers hand fixed chunks of rows to functions of their own: Numba compiles a loop
# written inside a prange body much worse.
_N_CHUNKS = 64


@nb.njit(cache=True)
def _sign_pack_serial(z, out):
    _sign_pack_rows(z, out, 0, z.shape[0])


@nb.njit(cache=True, parallel=True)
def _sign_pack_parallel(z, out):
    step = (z.shape[0] + _N_CHUNKS - 1) // _N_CHUNKS
    for c in nb.prange(_N_CHUNKS):
        _sign_pack_rows(z, out, min(z.shape[0], c * step), min(z.shape[0], (c + 1) * step))


@nb.njit(cache=True)
def _xnor_serial(a, keep, w_t, k, out):
    _xnor_rows(a, keep, w_t, k, out, 0, a.shape[0])


@nb.njit(cache=True, parallel=True)
def _xnor_parallel(a, keep, w_t, k, out):
    step = (a.shape[0] + _N_CHUNKS - 1) // _N_CHUNKS
    for c in nb.prange(_N_CHUNKS):
        _xnor_rows(a, keep, w_t, k, out, min(a.shape[0], c * step),
                   min(a.shape[0], (c + 1) * step))


_SIGN_PACK = (_sign_pack_serial, _sign_pack_parallel)
_XNOR = (_xnor_serial, _xnor_parallel)


def sign_pack(z: np.ndarray, out: np.ndarray) -> None:
    """Pack sign(z) row-wise into ``out``: bit j of row i is 1 iff z[i, j] >= 0.

    sign(0) = +1. ``z`` is a C-contiguous float array (n, d); ``out`` is
    ``uint64[n, ceil(d / 64)]``, overwritten.

    Raises
    ------
    TypeError, ValueError
        When the arrays do not have these types and shapes (the kernel does not
        bounds-check, so a short ``out`` would be written past).
    """
    _check_float2d("z", z)
    _check_out("out", out, (z.shape[0], (z.shape[1] + 63) // 64), (np.uint64,))
    _SIGN_PACK[threaded(z.size)](z, out)


def xnor_matmul(a: np.ndarray, w: np.ndarray, k: int, out: np.ndarray) -> None:
    """out[i, j] = Σ_t a_it w_jt for ±1 rows packed in ``a`` (N, W) and ``w`` (M, W).

    ``k`` is the number of real columns (padding bits are 0 in both operands);
    ``out`` is ``int32[N, M]`` (or ``float32[N, M]``, to feed float layers directly),
    overwritten. Shapes and types are checked as for :func:`sign_pack`.
    """
    _check_words("a", a)
    _check_words("w", w, a.shape[1])
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not (
            64 * (a.shape[1] - 1) < k <= 64 * a.shape[1]):
        raise ValueError(f"k: the number of real columns must lie in "
                         f"({64 * (a.shape[1] - 1)}, {64 * a.shape[1]}] for "
                         f"{a.shape[1]}-word rows, got {k!r}")
    _check_out("out", out, (a.shape[0], w.shape[0]), (np.int32, np.float32))
    _xnor(a, None, w, k, out)


def xnor_matmul_masked(a: np.ndarray, keep: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """Like :func:`xnor_matmul` for ternary rows: values where ``keep`` is 0 count as 0.

    Dot = popcount(keep) - 2·popcount(keep & (a XOR w)); used for dropout.
    """
    _check_words("a", a)
    _check_words("keep", keep, a.shape[1], a.shape[0])
    _check_words("w", w, a.shape[1])
    _check_out("out", out, (a.shape[0], w.shape[0]), (np.int32, np.float32))
    _xnor(a, keep, w, 0, out)


def _xnor(a, keep, w, k, out) -> None:
    w_t = np.ascontiguousarray(w.T)
    _XNOR[threaded(a.shape[0] * w.shape[0] * a.shape[1])](
        a, keep, w_t, k, out)


def _check_words(name: str, x, n_words: int | None = None, n_rows: int | None = None):
    got = words_mismatch(x, n_rows, n_words)
    if got is not None:
        want = f"({'N' if n_rows is None else n_rows}, {n_words or 'W'})"
        raise ValueError(f"{name}: expected packed ±1 rows, uint64 of shape {want}, got {got}; "
                         f"pack them with sign_pack")


def _check_float2d(name: str, x) -> None:
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2):
        got = (f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__)
        raise ValueError(f"{name}: expected a 2-D float array, got {got}")


def _check_out(name: str, out, shape: tuple[int, int], dtypes) -> None:
    if not (isinstance(out, np.ndarray) and out.dtype in dtypes and out.shape == shape
            and out.flags.writeable):
        got = (f"{out.dtype} {out.shape}, writeable={out.flags.writeable}"
               if isinstance(out, np.ndarray) else type(out).__name__)
        kinds = " or ".join(np.dtype(d).name for d in dtypes)
        raise ValueError(f"{name}: expected a writable {kinds} array of shape {shape}, got "
                         f"{got}; allocate it with np.empty({shape}, ...)")


def threaded(work: int) -> bool:
    """Whether ``work`` word operations (or values) go to a parallel driver: only from
    :data:`PARALLEL_WORK` up, and only with more than one thread (with one, the serial
    driver, without the parallel one's scheduling overhead)."""
    return work >= PARALLEL_WORK and nb.get_num_threads() > 1
