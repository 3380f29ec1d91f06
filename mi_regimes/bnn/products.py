"""Float products whose result never depends on the number of threads.

A BLAS library's own threading can change the order in which a product's terms are
summed (measured with OpenBLAS: a weight gradient differed in the last bit between one
and two threads), so a fit's numbers would depend on the machine's cores and the load.
Here BLAS always runs on one thread (:func:`single_blas` around every public entry point
of the network), and a large product is cut into a fixed number of row blocks that
depend only on its shape; the blocks are spread over our own threads
(:func:`mi_regimes._parallel.run_chunks`). Each block is the same single-threaded BLAS
call whatever thread runs it, so the result is the same bit for bit on 1 or 16 threads.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import numpy as np

from .._parallel import kernel_threads, run_chunks

__all__ = ["BLOCKS", "SPLIT_WORK", "matmul", "one_blas_thread", "single_blas"]

#: Row blocks of a split product (fixed: the partition must not depend on the threads).
BLOCKS = 8
#: Multiply-adds from which a product is split into blocks. Measured on the 2-core
#: machine (AVX2): splitting slowed a digits 64-256-256 epoch from 13.7 to 17.6 ms (one
#: thread) and 22.3 ms (two), and 64-1024-1024 at batch 256 from 106 to 119-143 ms, so only
#: products far beyond a BNN layer's (e.g. 4096 x 4096 at batch 1024) are split.
SPLIT_WORK = 1 << 30

_CONTROLLER = None


def _controller():
    global _CONTROLLER
    if _CONTROLLER is None:  # inspecting the loaded libraries costs ~ms: once
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


_LOCK = threading.Lock()
_DEPTH = 0
_LIMIT = None


@contextlib.contextmanager
def one_blas_thread():
    """BLAS on one thread inside the block; nested blocks cost nothing.

    Setting and restoring the limit through threadpoolctl costs 10-20 µs, several times
    a small network's whole step, so only the outermost block does it (a fit enters
    once, and the forward and backward passes inside find the limit already set).
    """
    global _DEPTH, _LIMIT
    with _LOCK:
        if _DEPTH == 0:
            _LIMIT = _controller().limit(limits=1, user_api="blas")
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                _LIMIT.restore_original_limits()
                _LIMIT = None


def single_blas(method):
    """Run ``method`` inside :func:`one_blas_thread`."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return method(*args, **kwargs)
    return wrapper


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (2-D float32), the same bits whatever the number of threads."""
    m, k = a.shape
    n = b.shape[1]
    if out is None:
        out = np.empty((m, n), np.result_type(a, b))
    if m * k * n < SPLIT_WORK or m < 2 * BLOCKS:
        np.matmul(a, b, out=out)
        return out
    edges = [round(i * m / BLOCKS) for i in range(BLOCKS + 1)]

    def block(i: int) -> None:
        np.matmul(a[edges[i]:edges[i + 1]], b, out=out[edges[i]:edges[i + 1]])

    run_chunks(block, BLOCKS, threads=kernel_threads())
    return out
