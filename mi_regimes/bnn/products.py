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
_HOLDERS = 0     # threads inside an outermost one_blas_thread block
_RESTORE = None  # undoes the limit when the last holder leaves
_THREAD = threading.local()  # this thread's nesting of one_blas_thread
# numpy's scipy-openblas exports this one setter without its prefix
_SETTER_SYMBOLS = ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_",
                   "scipy_openblas_set_num_threads_local", "openblas_set_num_threads_local64_")


@functools.cache
def _setters_for_any_thread() -> tuple | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` of every BLAS loaded (checked to take
    effect), or None when a library lacks it: then threadpoolctl's limit is used.

    Why not threadpoolctl's ``openblas_set_num_threads``: with OpenBLAS 0.3.31
    (pthreads), once the main thread has set the count, that call made from any other
    thread does not take effect (measured: a fit run in a ``threading.Thread`` took two
    BLAS threads inside the limit, and its weights differed in the last bits from the
    same fit in the main thread). The ``_local`` setter takes effect from any thread.
    Despite its name its effect is process-wide (it writes global state; measured: set in
    one thread, it changed the products of another), so it is used exactly like a
    process-wide limit: set by the first holder, restored by the last.
    """
    import ctypes

    setters = []
    for lib in _controller().lib_controllers:
        if lib.user_api != "blas":
            continue
        if lib.internal_api != "openblas":
            return None
        try:
            library = ctypes.CDLL(lib.filepath)
        except OSError:
            return None
        found = next((getattr(library, name) for name in _SETTER_SYMBOLS
                      if hasattr(library, name)), None)
        if found is None:
            return None
        found.argtypes, found.restype = [ctypes.c_int], ctypes.c_int
        previous = found(1)
        works = lib.get_num_threads() == 1
        found(previous)
        if not works:
            return None
        setters.append(found)
    return tuple(setters) if setters else None


@contextlib.contextmanager
def one_blas_thread():
    """BLAS on one thread while any thread is inside such a block; nested blocks cost nothing.

    The limit is process-wide (BLAS libraries keep one thread count): the first thread
    to enter sets it, the last to leave restores the previous count, so fits running on
    several threads at once all keep one BLAS thread throughout. Only a thread's
    outermost block touches the shared count (a fit enters once, and the forward and
    backward passes inside find the limit already set).
    """
    depth = getattr(_THREAD, "depth", 0)
    if depth == 0:
        _hold()
    _THREAD.depth = depth + 1
    try:
        yield
    finally:
        _THREAD.depth = depth
        if depth == 0:
            _release()


def _hold() -> None:
    global _HOLDERS, _RESTORE
    with _LOCK:
        if _HOLDERS == 0:
            setters = _setters_for_any_thread()
            if setters is not None:
                previous = [set_threads(1) for set_threads in setters]

                def restore() -> None:
                    for set_threads, value in zip(setters, previous, strict=True):
                        set_threads(value)
                _RESTORE = restore
            else:
                _RESTORE = _controller().limit(limits=1, user_api="blas").restore_original_limits
        _HOLDERS += 1


def _release() -> None:
    global _HOLDERS, _RESTORE
    with _LOCK:
        _HOLDERS -= 1
        if _HOLDERS == 0:
            _RESTORE()
            _RESTORE = None


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
        with one_blas_thread():  # held by the caller already: a counter, no BLAS call
            np.matmul(a[edges[i]:edges[i + 1]], b, out=out[edges[i]:edges[i + 1]])

    run_chunks(block, BLOCKS, threads=kernel_threads())
    return out
