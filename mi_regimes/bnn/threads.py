"""How many threads a fit's products get: chosen by timing, re-checked as the load changes.

Threads buy little on a BNN's small products and cost a great deal when a core is shared:
OpenBLAS and Numba workers spin at barriers, so with one core busy elsewhere a two-thread
product waits for a thread that is not running (measured: 2.5x slower epochs; two fits at
once 3.6-4.6x slower each). No static rule knows whether another process is busy, so a
fit times its epochs:

* the budget is this process's share of the cores: Numba's thread setting, which
  :func:`mi_regimes._parallel.limit_threads` lowers in each worker of a sweep, and at most
  the cores the process may run on; with a budget of one there is nothing to choose;
* products too small to gain from threads (under :data:`SMALL_WORK` multiply-adds per
  step and per evaluation pass) always run on one thread;
* otherwise the first two epochs run with the budget and with one thread, later epochs
  with the faster; the other setting is tried again every :data:`RECHECK` epochs and as
  soon as an epoch is 30 % slower than the best seen with its setting (the load changed).

Evaluations outside a fit (``BinaryMLP.infer``, ``predict``, ...) use the same tuner,
one per model and input size, its first call ignored (:meth:`BinaryMLP._run`), unless a
budget was set around them with :func:`use_threads`.

The thread count never changes a result: the XNOR-popcount kernels are integer sums, and
float products are cut into blocks fixed by their shape, each one single-threaded BLAS
call (:mod:`mi_regimes.bnn.products`); tests/test_threads.py checks fits bit for bit.
"""

from __future__ import annotations

from .._parallel import cpu_count, kernel_threads, limit_threads

__all__ = ["SMALL_WORK", "RECHECK", "thread_budget", "ThreadTuner", "use_threads"]

#: Multiply-adds below which a product gains nothing from a second thread.
SMALL_WORK = 1 << 22
#: Epochs between re-trials of the setting not in use.
RECHECK = 16
_SLOWER = 1.3


def thread_budget() -> int:
    """This process's share of the cores (>= 1): Numba's setting, within the affinity mask."""
    return max(1, min(kernel_threads(), cpu_count()))


def use_threads(threads: int):
    """Run our kernels and split products on ``threads`` threads inside the block.

    BLAS itself always runs on one thread (:mod:`mi_regimes.bnn.products`).
    """
    return limit_threads(threads, blas=False)


class ThreadTuner:
    """Picks, epoch by epoch, the faster of one thread and the budget.

    Parameters
    ----------
    budget : int
        Most threads a product may use (:func:`thread_budget`).
    work : int
        Largest number of multiply-adds of one product in a step or an evaluation pass;
        below :data:`SMALL_WORK` the tuner keeps one thread.
    fixed : bool
        Always ``budget`` threads (the caller chose), no timing.
    warmup : int
        Reports to ignore at first: a first call faults in fresh buffers (and may
        compile), and timed with the budget it would hand the choice to one thread.
    """

    def __init__(self, budget: int, work: int, fixed: bool = False, warmup: int = 0) -> None:
        self._warmup = warmup
        if fixed:
            self.choices: tuple[int, ...] = (budget,)
        else:
            self.choices = (budget, 1) if budget > 1 and work >= SMALL_WORK else (1,)
        self.best: dict[int, float] = {}
        self.current = self.choices[0]
        self._since_check = 0
        self._trial: int | None = None

    def next_threads(self) -> int:
        """Threads for the coming epoch."""
        untried = [c for c in self.choices if c not in self.best]
        if untried:
            return untried[0]
        other = next((c for c in self.choices if c != self.current), None)
        if other is not None and self._since_check >= RECHECK:
            self._trial = other
            return other
        return self.current

    def report(self, threads: int, seconds: float) -> None:
        """Record an epoch's time with ``threads`` threads."""
        if self._warmup > 0:
            self._warmup -= 1
            return
        previous = self.best.get(threads)
        if previous is None:  # a first measurement
            self.best[threads] = seconds
        elif threads == self._trial:
            # a trial replaces its old best: a setting slowed by contention earlier gets
            # a fair chance once the contention is gone
            self._trial = None
            self._since_check = 0
            self.best[threads] = seconds
        elif seconds > _SLOWER * previous:  # the load changed
            self.best[threads] = seconds
            # still the best on its stale rival's time? then time the rival again now
            self._since_check = RECHECK if min(self.best, key=self.best.get) == threads else 0
        else:
            self.best[threads] = min(previous, seconds)
            self._since_check += 1
        self.current = min(self.best, key=self.best.get)
