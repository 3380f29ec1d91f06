"""Small linear programmes solved by HiGHS, without ``scipy.optimize.linprog``'s overhead.

The verdicts solve thousands of small programmes (two per interval, ~60 columns). Through
``linprog`` each cost ~6.9 ms, of which HiGHS's own solve was ~2.1 ms: the rest is Python
around it (option checks per call, a loop over the columns for marginals we do not read).
:func:`minimise` hands the same model, with the same options, to the HiGHS binding that
SciPy ships (``scipy.optimize._highspy._core``, SciPy >= 1.15), as arrays through its
``passModel`` overload that reads their buffers (~2.7 ms a programme; 4.1 ms when it set a
``HighsLp``'s fields, which the binding converted element by element), and applies
``linprog``'s own feasibility check to the result. Same library, same model,
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
_OPTIONS = None  # built once: HighsOptions() costs ~0.15 ms, and passOptions copies it


def _core():
    global _CORE, _CORE_FAILED
    if _CORE is None and not _CORE_FAILED:
        try:
            from scipy.optimize._highspy import _core as core

            for name in ("_Highs", "HighsOptions", "MatrixFormat", "ObjSense", "HighsStatus",
                         "HighsModelStatus", "kHighsInf"):
                getattr(core, name)
            _CORE = core
        except (ImportError, AttributeError):
            _CORE_FAILED = True
    return _CORE


def fast_path_available() -> bool:
    """Whether :func:`minimise` calls HiGHS directly (else through ``linprog``)."""
    return _core() is not None


def _columns(a_ub, a_eq) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stacked constraint rows in compressed-column form: (start, index, value).

    The arrays ``scipy.sparse.csc_array`` makes of the dense matrix (the nonzeros of each
    column by increasing row, int32 indices), in a quarter of its time: its checks took
    ~0.4 ms a programme. Sparse inputs go through scipy.
    """
    if sparse.issparse(a_ub) or sparse.issparse(a_eq):
        a = sparse.csc_array(sparse.vstack([a_ub, a_eq]))
        return a.indptr, a.indices, a.data
    dense = np.vstack([a_ub, a_eq]).astype(np.float64, copy=False)
    flat = dense.ravel(order="F")
    where = np.flatnonzero(flat)
    n_row = dense.shape[0]
    col = where // n_row
    start = np.searchsorted(col, np.arange(dense.shape[1] + 1)).astype(np.int32)
    return start, (where - col * n_row).astype(np.int32), flat[where]


def _options(core):
    """linprog(method="highs")'s options that are not left at HiGHS's defaults."""
    global _OPTIONS
    if _OPTIONS is None:
        options = core.HighsOptions()
        options.presolve = "on"
        options.highs_debug_level = 0   # kHighsDebugLevelNone
        options.log_to_console = False
        options.output_flag = False
        options.simplex_strategy = 1    # kSimplexStrategyDual
        _OPTIONS = options
    return _OPTIONS


def _direct(core, c, a_ub, b_ub, a_eq, b_eq):
    start, index, value = _columns(a_ub, a_eq)
    n_col = c.size
    inf = core.kHighsInf
    highs = core._Highs()
    highs.passOptions(_options(core))
    # The model as arrays (the binding takes their buffers), not as HighsLp fields, which
    # it converted element by element (~0.4 ms a programme). Every column continuous: an
    # LP, as linprog passes it; kWarning is HiGHS dropping |values| <= 1e-9, as there.
    status = highs.passModel(
        n_col, b_ub.size + b_eq.size, value.size, int(core.MatrixFormat.kColwise),
        int(core.ObjSense.kMinimize), 0.0, c, np.zeros(n_col), np.full(n_col, inf),
        np.concatenate([np.full(b_ub.size, -inf), b_eq]), np.concatenate([b_ub, b_eq]),
        start, index, value, np.zeros(n_col, np.int32))
    if status == core.HighsStatus.kError:
        return None  # refused: linprog takes this one, and says why
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

    Raises
    ------
    ValueError
        For NaN or infinite coefficients (``linprog``'s message, naming the argument).
    """
    global _CORE, _CORE_FAILED, _OPTIONS
    c, b_ub, b_eq = (np.asarray(v, dtype=np.float64) for v in (c, b_ub, b_eq))
    core = _core()
    # HiGHS answers a programme with NaN or inf coefficients (a NaN constraint row was
    # "optimal"); linprog raises ValueError naming the argument, so those go to linprog
    finite = all(np.isfinite(v.data if sparse.issparse(v) else v).all()
                 for v in (c, a_ub, b_ub, a_eq, b_eq))
    if core is not None and finite:
        try:
            result = _direct(core, c, a_ub, b_ub, a_eq, b_eq)
            if result is not None:
                return result
        except (TypeError, AttributeError, ValueError, RuntimeError):
            # the binding changed: linprog from now on
            _CORE, _CORE_FAILED, _OPTIONS = None, True, None
    res = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                           method="highs")
    return res.status == 0, res.fun, res.x
