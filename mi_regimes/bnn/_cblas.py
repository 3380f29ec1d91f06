"""NumPy's own single-precision GEMM, callable from Numba-compiled code.

A training step compiled as one Numba function (:mod:`mi_regimes.bnn.fused`) must
multiply its float matrices with the very routine ``numpy.matmul`` calls, with the very
arguments, so that the compiled step and the step written in Python
(:mod:`mi_regimes.bnn.model`) agree bit for bit: a fit must not depend on which of the two
ran. NumPy calls ``cblas_sgemm`` of the BLAS it links (row major, transposition flags
read off the operands' strides); threadpoolctl names that library's file, ctypes finds
the symbol in it, and the compiled code calls it through its address.

Whether this holds is not assumed: :func:`sgemm_address` compares the routine with
``numpy.matmul`` bit for bit on every operand layout the step uses, once per process,
and gives 0 (callers then keep to NumPy) when the symbol is missing or any bit differs.
"""

from __future__ import annotations

import ctypes
import functools

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["sgemm_address", "mm_nn", "mm_nt", "mm_tn"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# NumPy's wheels link scipy-openblas64, whose names carry the suffix of its 64-bit
# integers. A name without it is used only when NumPy's build says how wide its integers
# are: called with the wrong width, the routine would read garbage sizes.
_ILP64_SYMBOLS = ("scipy_cblas_sgemm64_", "cblas_sgemm64_")
_PLAIN_SYMBOLS = ("scipy_cblas_sgemm", "cblas_sgemm")


@intrinsic
def _call(typingctx, address, order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
          beta, c, ldc):
    """Call the C function at ``address`` with these arguments (void result).

    The C prototype is built from the argument types: pointers are passed as integers
    of their width, which the x86-64 and AArch64 calling conventions treat alike.
    """
    sig = types.void(address, order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                     beta, c, ldc)

    def codegen(context, builder, signature, args):
        arg_types = [context.get_value_type(t) for t in signature.args[1:]]
        fn_type = ir.FunctionType(ir.VoidType(), arg_types)
        fn = builder.inttoptr(args[0], fn_type.as_pointer())
        builder.call(fn, args[1:])
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True)
def _gemm(address, ilp64, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    one, zero = np.float32(1.0), np.float32(0.0)
    order, ta, tb = np.int32(_ROW_MAJOR), np.int32(trans_a), np.int32(trans_b)
    if ilp64:
        _call(address, order, ta, tb, np.int64(m), np.int64(n), np.int64(k), one,
              a.ctypes.data, np.int64(lda), b.ctypes.data, np.int64(ldb), zero,
              c.ctypes.data, np.int64(ldc))
    else:
        _call(address, order, ta, tb, np.int32(m), np.int32(n), np.int32(k), one,
              a.ctypes.data, np.int32(lda), b.ctypes.data, np.int32(ldb), zero,
              c.ctypes.data, np.int32(ldc))


# The flags below are those numpy.matmul derives for C-contiguous operands and their
# transposed views when every dimension is at least 2 (a dimension of 1 takes NumPy's
# gemv or dot path instead, so callers must not use these then).

@nb.njit(cache=True)
def mm_nn(address, ilp64, a, b, c):
    """c = a @ b for C-contiguous float32 a (m, k), b (k, n), c (m, n)."""
    m, k = a.shape
    n = b.shape[1]
    _gemm(address, ilp64, _NO_TRANS, _NO_TRANS, m, n, k, a, k, b, n, c, n)


@nb.njit(cache=True)
def mm_nt(address, ilp64, a, b_t, c):
    """c = a @ b_t.T (NumPy's ``matmul(a, b_t.T)``) for C-contiguous a (m, k), b_t (n, k)."""
    m, k = a.shape
    n = b_t.shape[0]
    _gemm(address, ilp64, _NO_TRANS, _TRANS, m, n, k, a, k, b_t, k, c, n)


@nb.njit(cache=True)
def mm_tn(address, ilp64, a_t, b, c):
    """c = a_t.T @ b (NumPy's ``matmul(a_t.T, b)``) for C-contiguous a_t (k, m), b (k, n)."""
    k, m = a_t.shape
    n = b.shape[1]
    _gemm(address, ilp64, _TRANS, _NO_TRANS, m, n, k, a_t, m, b, n, c, n)


def _numpy_ilp64() -> bool | None:
    """Whether NumPy's OpenBLAS takes 64-bit integers, from its build record (None: unknown)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - an unusual build: not knowing is the answer
        return None
    config = str(blas.get("openblas configuration", ""))
    if "openblas" not in str(blas.get("name", "")).lower() or not config:
        return None
    return "USE64BITINT" in config


def _candidates():
    """(path, symbol, 64-bit integers) of each BLAS library loaded, most likely first."""
    from .products import _controller

    plain = _numpy_ilp64()
    for lib in _controller().lib_controllers:
        if lib.user_api != "blas":
            continue
        for name in _ILP64_SYMBOLS:
            yield lib.filepath, name, True
        if plain is not None:
            for name in _PLAIN_SYMBOLS:
                yield lib.filepath, name, plain


@nb.njit(cache=True)
def _three_layouts(address, ilp64, a, b, a_t, b_t, nn, nt, tn):
    # one compiled function for the self-test: a process loads one cache entry, not three
    mm_nn(address, ilp64, a, b, nn)
    mm_nt(address, ilp64, a, b_t, nt)
    mm_tn(address, ilp64, a_t, b, tn)


def _agrees(address: int, ilp64: bool) -> bool:
    """Bit-for-bit agreement with numpy.matmul on each layout, tiny to step-sized."""
    rng = np.random.default_rng(12345)
    for m, k, n in ((2, 2, 2), (3, 5, 2), (17, 12, 10), (64, 64, 256), (256, 64, 256),
                    (10, 64, 256), (129, 300, 7)):
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        a_t, b_t = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
        got = [np.empty((m, n), np.float32) for _ in range(3)]
        _three_layouts(address, ilp64, a, b, a_t, b_t, *got)
        wanted = (a @ b, np.matmul(a, b_t.T), np.matmul(a_t.T, b))
        if not all(np.array_equal(g.view(np.uint32), w.view(np.uint32))
                   for g, w in zip(got, wanted, strict=True)):
            return False
    return True


@functools.cache
def sgemm_address() -> tuple[int, bool]:
    """Address of NumPy's ``cblas_sgemm`` and whether it takes 64-bit integers.

    ``(0, False)`` when it cannot be found or does not agree bit for bit with
    ``numpy.matmul``; the compiled step is then not used.
    """
    from .products import one_blas_thread

    with one_blas_thread():
        for path, name, ilp64 in _candidates():
            try:
                fn = getattr(ctypes.CDLL(path), name)
            except (OSError, AttributeError):
                continue
            address = ctypes.cast(fn, ctypes.c_void_p).value
            if address and _agrees(address, ilp64):
                return address, ilp64
    return 0, False
