"""Parallel execution: one way to map work over tasks, and one budget of threads.

* :func:`map_tasks` maps a function over tasks in this process, in a process pool, or
  on a Dask ``distributed.Client`` the caller passes (the engine is the user's; we only
  submit). Each worker gets its share of the cores (:func:`limit_threads`), so N
  workers never run N × cores threads of BLAS and Numba fighting over the machine.
* :func:`limit_threads` sets the thread budget of BLAS (threadpoolctl) and of Numba
  together, for a block of code or a worker's life.
* ``N_CHUNKS`` and :func:`run_chunks`: every parallel kernel cuts its work into this
  fixed number of chunks, so its results never depend on the number of threads; the
  chunks are serial ``nogil`` Numba functions run on a small thread pool. (Numba's
  ``parallel=True`` would compile each kernel several times slower, and its threads
  cannot be shared with BLAS's or limited per call.)

Results never depend on the number of workers: work is seeded by keys
(:mod:`mi_regimes._random`), not by who runs it or when.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

__all__ = ["N_CHUNKS", "cpu_count", "limit_threads", "map_tasks", "threads_per_worker",
           "run_chunks", "kernel_threads", "threads_chosen"]

#: Fixed number of work chunks of every parallel kernel.
N_CHUNKS = 16


def cpu_count() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


_POOL = None
_POOL_SIZE = 0


def kernel_threads() -> int:
    """Threads our chunked kernels may use now: Numba's setting for this thread.

    :func:`limit_threads` (and every worker of :func:`map_tasks`) lowers it.
    """
    import numba

    return max(1, numba.get_num_threads())


def run_chunks(chunk: Callable[[int], object], n_chunks: int = N_CHUNKS,
               threads: int | None = None) -> list:
    """``[chunk(0), ..., chunk(n_chunks - 1)]``, the calls spread over threads.

    ``chunk`` should release the GIL (a ``nogil`` Numba function) for the threads to run
    at once. Each thread takes a contiguous block of chunk indices, so there is one
    hand-off per thread, not per chunk. With one thread everything runs here.
    """
    global _POOL, _POOL_SIZE
    threads = min(n_chunks, threads or kernel_threads())
    if threads <= 1:
        return [chunk(c) for c in range(n_chunks)]
    if _POOL is None or _POOL_SIZE < threads:
        from concurrent.futures import ThreadPoolExecutor

        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mi_regimes")
        _POOL_SIZE = threads
    bounds = [round(i * n_chunks / threads) for i in range(threads + 1)]

    def block(i: int) -> list:
        return [chunk(c) for c in range(bounds[i], bounds[i + 1])]

    futures = [_POOL.submit(block, i) for i in range(1, threads)]
    first = block(0)  # this thread does a block too
    return first + [r for f in futures for r in f.result()]


def threads_per_worker(workers: int) -> int:
    """Each of ``workers`` processes' share of the cores (at least 1)."""
    return max(1, cpu_count() // max(1, workers))


@contextlib.contextmanager
def limit_threads(threads: int, blas: bool = True):
    """Limit Numba (and BLAS, unless ``blas`` is False) to ``threads`` threads inside the block.

    Parameters
    ----------
    threads : int
        Thread budget (>= 1); Numba is capped at its launch-time maximum.
    blas : bool
        Limit BLAS too. The BNN trainer passes False: it keeps BLAS on one thread itself
        (:mod:`mi_regimes.bnn.products`) and tunes only our kernels' threads.
    """
    import numba
    from threadpoolctl import threadpool_limits

    threads = max(1, int(threads))
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    _CHOSEN.depth = getattr(_CHOSEN, "depth", 0) + 1
    try:
        with threadpool_limits(limits=threads) if blas else contextlib.nullcontext():
            yield threads
    finally:
        _CHOSEN.depth -= 1
        numba.set_num_threads(previous)


# per thread, as Numba's own setting is: how deep this thread is in limit_threads blocks
_CHOSEN = threading.local()


def threads_chosen() -> bool:
    """Whether the calling thread runs inside :func:`limit_threads`: a budget chosen by
    the caller (or a fit's tuner, or a worker's share), which tuning must not override."""
    return getattr(_CHOSEN, "depth", 0) > 0


_WORKER_LIMIT = None  # a worker process's limit, kept alive for the process's life


def _init_worker(threads: int, warmups: tuple = (), seat=None, barrier=None) -> None:
    global _WORKER_LIMIT
    _WORKER_LIMIT = limit_threads(threads)
    _WORKER_LIMIT.__enter__()
    if warmups:
        _warm_up(warmups, seat, barrier)


#: Longest a worker waits for the others' warm-ups before it starts its tasks anyway.
WARMUP_WAIT_S = 300.0


def _warm_up(warmups: tuple, seat, barrier) -> None:
    """Run this worker's share of ``warmups``, then wait until every worker has run its.

    A cold start (an empty Numba cache, as after a fresh install) compiles each kernel in
    every worker, all at once. Split up, each kernel is compiled by one worker and written
    to the cache; after the barrier the others load it (~0.1 s) instead of compiling it
    (~1-5 s). Warm-ups only save time: one that fails warns, and the tasks compile what
    they need as before.
    """
    with seat.get_lock():
        mine = seat.value
        seat.value += 1
    for warmup in warmups[mine::barrier.parties]:
        try:
            warmup()
        except Exception as exc:  # noqa: BLE001 - a warm-up must never stop the work
            warnings.warn(f"warm-up {warmup!r} failed ({exc!r}); its kernels compile on "
                          "first use instead", RuntimeWarning, stacklevel=1)
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(WARMUP_WAIT_S)


def _call_limited(fn: Callable, task, threads: int):
    """Run ``fn(task)`` under a thread limit (a Dask worker's share of its machine)."""
    with limit_threads(threads):
        return fn(task)


def map_tasks(fn: Callable, tasks: Iterable, *, jobs: int = 1, client=None,
              threads: int | None = None,
              warmups: Sequence[Callable[[], object]] = ()) -> Iterator[tuple[int, object]]:
    """Run ``fn`` on every task; yield ``(index, result)`` as each one finishes.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for worker processes).
    tasks : iterable
        Arguments, one per call.
    jobs : int
        Worker processes (1 = in this process, one task after the other). Ignored when
        ``client`` is given.
    client : distributed.Client, optional
        A Dask client: tasks are submitted to its cluster.
    threads : int, optional
        BLAS/Numba threads per task; default the worker's share of the cores (all of
        them in this process with ``jobs=1``).
    warmups : sequence of callables, optional
        Callables without arguments (module-level functions, or ``functools.partial``
        of them: they are pickled) that compile (or load) the kernels the tasks use,
        each worth compiling once rather than in every worker. With worker
        processes they are dealt out among the workers, and every worker waits for all
        of them before its first task (:func:`_warm_up`); otherwise they are not run.

    Yields
    ------
    (int, object)
        The task's position in ``tasks`` and ``fn``'s result, in completion order.
        A task's exception is raised here.
    """
    tasks = list(tasks)
    if client is not None:
        yield from _map_dask(fn, tasks, client, threads)
        return
    workers = min(int(jobs), len(tasks)) if tasks else 1
    if workers <= 1:
        context = limit_threads(threads) if threads else contextlib.nullcontext()
        with context:
            for i, task in enumerate(tasks):
                yield i, fn(task)
        return
    share = threads or threads_per_worker(workers)
    # spawn, not fork: forking after Numba's or BLAS's threads have started is unsafe
    context = multiprocessing.get_context("spawn")
    initargs: tuple = (share,)
    if warmups:
        initargs = (share, tuple(warmups), context.Value("i", 0), context.Barrier(workers))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                               initargs=initargs, mp_context=context)
    with _sigterm_as_exit(), pool:
        futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            _stop_workers(pool)
            raise


@contextlib.contextmanager
def _sigterm_as_exit():
    """SIGTERM raises SystemExit inside the block (main thread, default handler only).

    By default SIGTERM ends this process at once and leaves the pool's workers running
    their tasks to the end (a `kill` of `mi-regimes study run` left two workers busy for
    minutes); as an exception it reaches the cleanup of :func:`map_tasks`.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes: a task already running is not waited for (the
    results that matter are written atomically by the tasks themselves)."""
    # the executor has no public way to stop running tasks before Python 3.14
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()


def _map_dask(fn, tasks, client, threads):
    from distributed import as_completed as dask_completed

    share = threads or 1
    futures = client.map(_call_limited, [fn] * len(tasks), tasks, [share] * len(tasks),
                         pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for future, result in dask_completed(futures, with_results=True):
            yield index[future.key], result
    except BaseException:
        client.cancel(futures)
        raise
