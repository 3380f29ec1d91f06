"""Small linear programmes solved by HiGHS, without ``scipy.optimize.linprog``'s overhead.

The verdicts solve thousands of small programmes (two per interval, ~60 columns). Through
``linprog`` each cost ~6.9 ms, of which HiGHS's own solve was ~2.1 ms: the rest is Python
around it (option checks per call, a loop over the columns for marginals we do not read).
:func:`minimise` hands the same model, with the same options, to the HiGHS binding that
SciPy ships (``scipy.optimize._highspy._core``, SciPy >= 1.15), at ~4.1 ms a programme,
and applies ``linprog``'s own feasibility check to the result. Same library, same model,
same options: the optima are identical bit for bit (tests/test_highs.py compares every
programme of four grids with ``linprog``'s).

That binding is SciPy's private module, so anything unexpected about it (absent in an
older SciPy, or changed) makes :func:`minimise` use ``linprog`` instead, for good.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

__all__ = ["minimise", "fast_path_available"]

# linprog's default tol (1e-9), as its result check widens it: sqrt(tol) * 10
_FEASIBILITY_TOL = np.sqrt(1e-9) * 10
_CORE = None
_CORE_FAILED = False


def _core():
    global _CORE, _CORE_FAILED
    if _CORE is None and not _CORE_FAILED:
        try:
            from scipy.optimize._highspy import _core as core

            for name in ("HighsLp", "_Highs", "HighsOptions", "MatrixFormat",
                         "HighsModelStatus", "kHighsInf"):
                getattr(core, name)
            _CORE = core
        except (ImportError, AttributeError):
            _CORE_FAILED = True
    return _CORE


def fast_path_available() -> bool:
    """Whether :func:`minimise` calls HiGHS directly (else through ``linprog``)."""
    return _core() is not None


def _direct(core, c, a_ub, b_ub, a_eq, b_eq):
    a = sparse.csc_array(np.vstack([a_ub, a_eq]))
    n_col, n_row = c.size, a.shape[0]
    inf = core.kHighsInf
    lp = core.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.format_ = core.MatrixFormat.kColwise
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.full(n_col, inf)
    lp.row_lower_ = np.concatenate([np.full(b_ub.size, -inf), b_eq])
    lp.row_upper_ = np.concatenate([b_ub, b_eq])
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    # linprog(method="highs")'s options that are not left at HiGHS's defaults
    options = core.HighsOptions()
    options.presolve = "on"
    options.highs_debug_level = 0   # kHighsDebugLevelNone
    options.log_to_console = False
    options.output_flag = False
    options.simplex_strategy = 1    # kSimplexStrategyDual
    highs = core._Highs()
    highs.passOptions(options)
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != core.HighsModelStatus.kOptimal:
        return False, np.nan, None
    solution = highs.getSolution()
    x = np.array(solution.col_value)
    rows = np.array(solution.row_value)
    fun = highs.getInfo().objective_function_value
    slack, residual = b_ub - rows[:b_ub.size], b_eq - rows[b_ub.size:]
    feasible = not (np.isnan(x).any() or np.isnan(fun) or (x < -_FEASIBILITY_TOL).any()
                    or (slack < -_FEASIBILITY_TOL).any()
                    or (np.abs(residual) > _FEASIBILITY_TOL).any())
    return feasible, fun, x


def minimise(c, a_ub, b_ub, a_eq, b_eq) -> tuple[bool, float, np.ndarray | None]:
    """min c·x subject to a_ub x <= b_ub, a_eq x = b_eq, x >= 0.

    Returns
    -------
    (optimal, fun, x)
        ``optimal`` is False when HiGHS found no optimum or it fails ``linprog``'s
        feasibility check (``linprog``'s status != 0); ``fun`` and ``x`` are then not
        to be read.
    """
    global _CORE, _CORE_FAILED
    c, b_ub, b_eq = (np.asarray(v, dtype=np.float64) for v in (c, b_ub, b_eq))
    core = _core()
    if core is not None:
        try:
            return _direct(core, c, a_ub, b_ub, a_eq, b_eq)
        except (TypeError, AttributeError, ValueError, RuntimeError):
            _CORE, _CORE_FAILED = None, True  # the binding changed: linprog from now on
    res = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                           method="highs")
    return res.status == 0, res.fun, res.x
