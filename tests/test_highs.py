"""The verdicts' linear programmes solved directly by HiGHS give linprog's answers exactly."""

import numpy as np
import pytest
import scipy
from scipy import optimize

import mi_regimes._fingerprint_lp as fingerprint_lp
from mi_regimes import _highs
from mi_regimes.regimes import run_grid


def _linprog(c, a_ub, b_ub, a_eq, b_eq):
    return optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                            method="highs")


def test_fast_path_is_used_where_scipy_ships_the_binding():
    major, minor = (int(v) for v in scipy.__version__.split(".")[:2])
    assert _highs.fast_path_available() == ((major, minor) >= (1, 15))


def test_every_programme_of_a_grid_has_linprogs_optimum_bit_for_bit(monkeypatch):
    recorded = []
    solve = fingerprint_lp.minimise

    def recording(*args):
        recorded.append(args)
        return solve(*args)

    monkeypatch.setattr(fingerprint_lp, "minimise", recording)
    fingerprint_lp._bias_range.cache_clear()
    run_grid("bernoulli", {}, [2**k for k in (4, 7, 10, 13, 16)], [3, 12, 25, 38],
             ["plugin"], reps=12, jobs=1, verdict_reps=12, progress=False)
    for family, params in (("zipf_codebook", {}), ("heavy_tail", {}),
                           ("markov", {"p_stay": 0.95})):
        run_grid(family, params, [2**k for k in (6, 11, 15)], [8, 20], ["plugin"], reps=6,
                 jobs=1, verdict_reps=6, progress=False)
    fingerprint_lp._bias_range.cache_clear()
    assert len(recorded) > 150
    for c, a_ub, b_ub, a_eq, b_eq in recorded:
        ok, fun, x = _highs.minimise(c, a_ub, b_ub, a_eq, b_eq)
        ref = _linprog(c, a_ub, b_ub, a_eq, b_eq)
        assert ok == (ref.status == 0)
        if ok:
            assert fun == ref.fun
            np.testing.assert_array_equal(x, ref.x)


@pytest.mark.parametrize("fast", [True, False])
def test_infeasible_and_unbounded_programmes_are_not_optimal(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(_highs, "_core", lambda: None)
    a_eq = np.array([[1.0, 1.0]])
    # x1 + x2 = 1 and x1 + x2 <= 0.5: infeasible
    assert not _highs.minimise([1.0, 1.0], np.array([[1.0, 1.0]]), [0.5], a_eq, [1.0])[0]
    # min -x1 with x1 - x2 <= 1 and x2 free above: unbounded
    assert not _highs.minimise([-1.0, 0.0, 0.0], np.array([[1.0, -1.0, 0.0]]), [1.0],
                               np.array([[0.0, 0.0, 1.0]]), [1.0])[0]
    ok, fun, x = _highs.minimise([1.0, 2.0], np.array([[-1.0, 0.0]]), [-0.25], a_eq, [1.0])
    assert ok and fun == pytest.approx(1.0) and x == pytest.approx([1.0, 0.0])


def test_a_binding_that_changed_falls_back_to_linprog(monkeypatch):
    class Changed:  # has every name, but the model no longer takes our fields
        HighsLp = _Highs = HighsOptions = MatrixFormat = HighsModelStatus = object
        kHighsInf = float("inf")

    monkeypatch.setattr(_highs, "_CORE", Changed)
    monkeypatch.setattr(_highs, "_CORE_FAILED", False)
    args = ([1.0, 2.0], np.array([[-1.0, 0.0]]), [-0.25], np.array([[1.0, 1.0]]), [1.0])
    ok, fun, x = _highs.minimise(*args)
    ref = _linprog(*args)
    assert ok and fun == ref.fun and np.array_equal(x, ref.x)
    assert not _highs.fast_path_available()  # and linprog is used from then on


def test_compressed_columns_are_scipys():
    from scipy import sparse

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (3, 7), (69, 177), (5, 2)):
        dense = rng.normal(size=shape) * (rng.random(shape) < 0.3)
        dense[:, 0] = 0.0  # an empty column
        top, bottom = dense[:-1], dense[-1:]
        start, index, value = _highs._columns(top, bottom)
        ref = sparse.csc_array(np.vstack([top, bottom]))
        for ours, theirs in ((start, ref.indptr), (index, ref.indices), (value, ref.data)):
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)
        sparse_start, sparse_index, sparse_value = _highs._columns(sparse.csr_array(top), bottom)
        np.testing.assert_array_equal(sparse_start, ref.indptr)
        np.testing.assert_array_equal(sparse_index, ref.indices)
        np.testing.assert_array_equal(sparse_value, ref.data)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("where", range(5))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_coefficients_raise_as_in_linprog(monkeypatch, fast, where, bad):
    if not fast:
        monkeypatch.setattr(_highs, "_core", lambda: None)
    args = [np.array([1.0, 2.0]), np.array([[-1.0, 0.0]]), np.array([-0.25]),
            np.array([[1.0, 1.0]]), np.array([1.0])]
    args[where] = args[where].copy()
    args[where].flat[0] = bad  # a NaN constraint row was "optimal" through the binding
    before = _highs.fast_path_available()
    with pytest.raises(ValueError, match="must not contain values inf, nan"):
        _highs.minimise(*args)
    assert _highs.fast_path_available() == before  # one bad programme changes nothing


def test_a_model_highs_refuses_goes_to_linprog_for_that_call_only(monkeypatch):
    calls = []
    monkeypatch.setattr(_highs, "_core", lambda: "a binding")  # whatever this SciPy has
    monkeypatch.setattr(_highs, "_CORE_FAILED", False)

    def refused(*args):
        calls.append(args)
        return None

    monkeypatch.setattr(_highs, "_direct", refused)
    args = ([1.0, 2.0], np.array([[-1.0, 0.0]]), [-0.25], np.array([[1.0, 1.0]]), [1.0])
    ok, fun, x = _highs.minimise(*args)
    ref = _linprog(*args)
    assert calls and ok and fun == ref.fun and np.array_equal(x, ref.x)
    assert not _highs._CORE_FAILED  # the next programme tries the binding again
