"""Every form of the same data gives the answer of a C-contiguous int64 ndarray.

Each public function that takes samples is run on the same rows (or symbols) passed as
lists, tuples, pandas objects, memmaps (aligned and not), Fortran order, read-only and
strided views, every integer and float dtype, big-endian, signs and PackedBits, and
must agree exactly with the ndarray answer; the inputs must come back unchanged. Widths
from 1 to 5000 bits run through every estimator against tests/naive.py.
"""

from __future__ import annotations

import math

import naive
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

import mi_regimes as mr
from mi_regimes.estimators import USES_ALPHABET, estimate_counts
from mi_regimes.infoplane import plane_point
from mi_regimes.verdicts import assess

RNG = np.random.default_rng(2024)
# 300 rows of 11 bits drawn from 40 distinct rows: coincidences, so every estimator works
_BASE = RNG.integers(0, 2, size=(40, 11))
ROWS = _BASE[RNG.integers(0, 40, size=300)].astype(np.int64)
LABELS = (ROWS[:, :3].sum(axis=1) + RNG.integers(0, 2, size=300)).astype(np.int64)
SYMBOLS = RNG.integers(-3, 9, size=300).astype(np.int64)


def _memmap(arr, tmp_path, offset=0, order="C"):
    path = tmp_path / f"data-{offset}-{order}.bin"
    mm = np.memmap(path, dtype=arr.dtype, mode="w+", shape=arr.shape, offset=offset,
                   order=order)
    mm[...] = arr
    mm.flush()
    return np.memmap(path, dtype=arr.dtype, mode="r", shape=arr.shape, offset=offset,
                     order=order)


def _read_only(arr):
    out = arr.copy()
    out.flags.writeable = False
    return out


def _strided(arr):
    big = np.repeat(arr, 2, axis=0)  # every other row of a larger array: a strided view
    return big[::2]


ROW_FORMS = {
    "list of lists": lambda a, p: a.tolist(),
    "tuple of tuples": lambda a, p: tuple(tuple(r) for r in a.tolist()),
    "list of arrays": lambda a, p: list(a),
    "DataFrame": lambda a, p: pd.DataFrame(a),
    "DataFrame mixed bool/int": lambda a, p: pd.DataFrame(
        {i: (a[:, i].astype(bool) if i % 2 else a[:, i]) for i in range(a.shape[1])}),
    "memmap": lambda a, p: _memmap(a, p),
    "memmap odd offset uint8": lambda a, p: _memmap(a.astype(np.uint8), p, offset=3),
    "memmap Fortran": lambda a, p: _memmap(a, p, order="F"),
    "Fortran": lambda a, p: np.asfortranarray(a),
    "read-only": lambda a, p: _read_only(a),
    "strided rows": lambda a, p: _strided(a),
    "bool": lambda a, p: a.astype(bool),
    "int8": lambda a, p: a.astype(np.int8),
    "uint8": lambda a, p: a.astype(np.uint8),
    "int16": lambda a, p: a.astype(np.int16),
    "uint32": lambda a, p: a.astype(np.uint32),
    "uint64": lambda a, p: a.astype(np.uint64),
    "float16": lambda a, p: a.astype(np.float16),
    "float32": lambda a, p: a.astype(np.float32),
    "float64": lambda a, p: a.astype(np.float64),
    "big-endian int32": lambda a, p: a.astype(">i4"),
    "object ints": lambda a, p: a.astype(object),
    "signs int8": lambda a, p: (2 * a - 1).astype(np.int8),
    "signs float64": lambda a, p: (2.0 * a - 1.0),
    "signs DataFrame": lambda a, p: pd.DataFrame(2 * a - 1),
    "masked, nothing masked": lambda a, p: np.ma.masked_array(a, mask=False),
    "PackedBits": lambda a, p: mr.pack_bits(a),
    # np.asarray wraps these as one object: refused as "the single value <...>"
    "scipy sparse matrix": lambda a, p: scipy.sparse.csr_matrix(a),
    "scipy sparse array": lambda a, p: scipy.sparse.coo_array(a),
}

SYMBOL_FORMS = {
    "list": lambda s, p: s.tolist(),
    "tuple": lambda s, p: tuple(s.tolist()),
    "Series": lambda s, p: pd.Series(s),
    "Series Int64": lambda s, p: pd.Series(s, dtype="Int64"),
    "Series category": lambda s, p: pd.Series(s).astype("category"),
    "Index": lambda s, p: pd.Index(s),
    "memmap": lambda s, p: _memmap(s, p),
    "memmap odd offset": lambda s, p: _memmap(s, p, offset=5),
    "read-only": lambda s, p: _read_only(s),
    "strided": lambda s, p: _strided(s),
    "int8": lambda s, p: s.astype(np.int8),
    "int32": lambda s, p: s.astype(np.int32),
    "float64 whole": lambda s, p: s.astype(np.float64),
    "big-endian": lambda s, p: s.astype(">i8"),
    "object ints": lambda s, p: s.astype(object),
    "shifted by 2**40": lambda s, p: s + 2**40,
    "negative": lambda s, p: s - 7,
    "text": lambda s, p: np.array([f"class-{v}" for v in s]),
    "text list": lambda s, p: [f"c{v}" for v in s.tolist()],
    "python big ints": lambda s, p: [v + 2**70 for v in s.tolist()],
    "uint64 above 2**63": lambda s, p: (s + 10).astype(np.uint64) + np.uint64(2**63),
}


def _snapshot(x):
    if isinstance(x, np.ndarray | pd.DataFrame | pd.Series | pd.Index):
        return np.array(x, copy=True)
    if isinstance(x, mr.PackedBits):
        return x.words.copy()
    return None


def _unchanged(x, before) -> bool:
    if before is None:
        return True
    now = x.words if isinstance(x, mr.PackedBits) else np.asarray(x)
    return np.array_equal(now, before)


# the reference answers, from C-contiguous int64 arrays
REF_ROWS = {
    "entropy": mr.entropy(ROWS, "miller_madow"),
    "entropy_estimate": mr.entropy_estimate(ROWS, "bootstrap", rng=7),
    "conditional_entropy": mr.conditional_entropy(ROWS, LABELS, "plugin"),
    "mutual_information": mr.mutual_information(ROWS, LABELS, "nsb"),
    "assess": assess(ROWS, "plugin")[0],
    "plane_point": plane_point(ROWS, LABELS, "plugin", n_boot=20, rng=3),
}
ROW_CALLS = {
    "entropy": lambda x: mr.entropy(x, "miller_madow"),
    "entropy_estimate": lambda x: mr.entropy_estimate(x, "bootstrap", rng=7),
    "conditional_entropy": lambda x: mr.conditional_entropy(x, LABELS, "plugin"),
    "mutual_information": lambda x: mr.mutual_information(x, LABELS, "nsb"),
    "assess": lambda x: assess(x, "plugin")[0],
    "plane_point": lambda x: plane_point(x, LABELS, "plugin", n_boot=20, rng=3),
}


@pytest.mark.parametrize("function", ROW_CALLS)
@pytest.mark.parametrize("form", ROW_FORMS)
def test_row_forms_agree_with_int64(form, function, tmp_path):
    x = ROW_FORMS[form](ROWS, tmp_path)
    before = _snapshot(x)
    assert ROW_CALLS[function](x) == REF_ROWS[function]
    assert _unchanged(x, before)


REF_SYMBOLS = {
    "entropy": mr.entropy(SYMBOLS, "grassberger"),
    "entropy_estimate": mr.entropy_estimate(SYMBOLS, "jackknife"),
    "conditional_entropy": mr.conditional_entropy(SYMBOLS, LABELS, "miller_madow"),
    "mutual_information (as labels)": mr.mutual_information(ROWS, SYMBOLS, "plugin"),
    "assess": assess(SYMBOLS, "plugin")[0],
    "plane_point (as labels)": plane_point(ROWS, SYMBOLS, "plugin", n_boot=10, rng=1),
}
SYMBOL_CALLS = {
    "entropy": lambda s: mr.entropy(s, "grassberger"),
    "entropy_estimate": lambda s: mr.entropy_estimate(s, "jackknife"),
    "conditional_entropy": lambda s: mr.conditional_entropy(s, LABELS, "miller_madow"),
    "mutual_information (as labels)": lambda s: mr.mutual_information(ROWS, s, "plugin"),
    "assess": lambda s: assess(s, "plugin")[0],
    "plane_point (as labels)": lambda s: plane_point(ROWS, s, "plugin", n_boot=10, rng=1),
}


def _same(a, b) -> bool:
    # Forms that renumber or shift symbols (text, big integers) may be counted by the
    # hash table instead of the dense histogram: the same counts in another order, so
    # sums may differ in the last bit. Alphabet guesses differ too (max - min + 1 of
    # other numbers); everything else must not.
    if hasattr(b, "value"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in (
            "value", "ci", "stderr", "n", "k_observed", "estimator", "saturation"))
    if isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    if isinstance(b, float):
        return a == pytest.approx(b, rel=1e-13, abs=1e-13, nan_ok=True)
    return a == b


@pytest.mark.parametrize("function", SYMBOL_CALLS)
@pytest.mark.parametrize("form", SYMBOL_FORMS)
def test_symbol_forms_agree_with_int64(form, function, tmp_path):
    s = SYMBOL_FORMS[form](SYMBOLS, tmp_path)
    before = _snapshot(s)
    got, ref = SYMBOL_CALLS[function](s), REF_SYMBOLS[function]
    assert _same(got, ref)
    assert _unchanged(s, before)


def test_list_of_symbols_regression():
    # was 0.918 bits: the list was read as packed words of a 3-state alphabet
    assert mr.entropy([1, 2, 3, 1]) == pytest.approx(1.5)
    assert mr.entropy((1, 2, 3, 1)) == pytest.approx(1.5)  # a tuple corrupted the heap
    assert mr.entropy(pd.Series([1, 2, 3, 1])) == pytest.approx(1.5)
    assert mr.entropy((3, 50_000, 3, 7)) == pytest.approx(1.5)


def test_symbol_alphabet_guess_is_reported_and_can_be_given():
    est = mr.entropy_estimate([0, 5, 5, 9], "nsb")
    assert (est.alphabet_size, est.alphabet_known) == (10, False)
    given_k = mr.entropy_estimate([0, 5, 5, 9], "nsb", alphabet_size=16)
    assert (given_k.alphabet_size, given_k.alphabet_known) == (16, True)
    assert given_k.value == mr.entropy([0, 5, 5, 9], "nsb", alphabet_size=16)
    assert given_k.value != est.value
    rows = mr.entropy_estimate(ROWS, "nsb")
    assert (rows.alphabet_size, rows.alphabet_known) == (2**11, True)


# ----------------------------------------------------------------------------- widths

WIDTHS = [1, 63, 64, 65, 1023, 1024, 1100, 4096, 5000]


def _wide_rows(d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    distinct = rng.integers(0, 2, size=(min(30, 2**d), d), dtype=np.uint8)
    rows = distinct[rng.integers(0, distinct.shape[0], size=200)]
    labels = (rows[:, 0].astype(np.int64) + rng.integers(0, 2, size=200)) % 3
    return rows, labels


def _naive_estimate(counts, estimator: str, d: int | None) -> float:
    """The estimator on counts from tests/naive.py, in bits (references where they exist)."""
    plain = {"plugin": naive.plugin, "miller_madow": naive.miller_madow,
             "jackknife": naive.jackknife, "chao_shen": naive.chao_shen,
             "grassberger": naive.grassberger, "jvhw": naive.jvhw}
    k = None if d is None else 2**d
    if estimator in plain:
        value = plain[estimator](counts)
        if estimator == "jvhw" and k is not None:  # capped at log K when K is known
            value = min(value, math.log(k))
        return value / math.log(2)
    if estimator == "unseen":
        return min(naive.unseen(counts), math.inf if k is None else math.log(k)) / math.log(2)
    # bootstrap (random) and nsb (needs no enumeration here): the same counts, fixed options
    return estimate_counts(np.sort(counts), estimator, rng=11, alphabet_size=k).value


def _joint(rows, labels):
    return naive.counts_of_rows(np.column_stack([rows.astype(np.int64), labels]))


@pytest.mark.parametrize("estimator", mr.ESTIMATORS)
@pytest.mark.parametrize("d", WIDTHS)
def test_every_width_and_estimator_against_naive(d, estimator):
    rows, labels = _wide_rows(d, d)
    opts = {"rng": 11} if estimator == "bootstrap" else {}
    h_t = _naive_estimate(naive.counts_of_rows(rows), estimator, d)
    h_y = _naive_estimate(naive.counts_of_rows(labels[:, None]), estimator, None)
    h_ty = _naive_estimate(_joint(rows, labels), estimator, d)
    assert mr.entropy(rows, estimator, **opts) == pytest.approx(h_t, abs=1e-9)
    if estimator in ("bootstrap", *USES_ALPHABET):
        return  # their joint terms use their own alphabets and streams: checked below
    assert mr.conditional_entropy(rows, labels, estimator) == pytest.approx(h_ty - h_y,
                                                                          abs=1e-9)
    assert mr.mutual_information(rows, labels, estimator) == pytest.approx(
        h_t + h_y - h_ty, abs=1e-9)


@pytest.mark.parametrize("d", WIDTHS)
def test_every_width_nsb_mi_uses_exact_alphabets(d):
    rows, labels = _wide_rows(d, d + 1)
    k_y = int(labels.max() - labels.min() + 1)
    ref = (estimate_counts(naive.counts_of_rows(rows), "nsb", alphabet_size=2**d).value
           + estimate_counts(naive.counts_of_rows(labels[:, None]), "nsb",
                             alphabet_size=k_y).value
           - estimate_counts(_joint(rows, labels), "nsb", alphabet_size=2**d * k_y).value)
    assert mr.mutual_information(rows, labels, "nsb") == pytest.approx(ref, abs=1e-9)
    assert math.isfinite(plane_point(rows, labels, "nsb", n_boot=5, rng=0)["i_xt"])


@pytest.mark.parametrize("d", [1024, 4096])
def test_wide_plane_point_and_packed(d):
    rows, labels = _wide_rows(d, 5)
    point = plane_point(mr.pack_bits(rows), labels, "plugin", n_boot=5, rng=0)
    assert point["d"] == d
    assert point["i_xt"] == pytest.approx(naive.plugin(naive.counts_of_rows(rows))
                                          / math.log(2), abs=1e-12)


# ------------------------------------------------------------------ hypothesis: containers

CONTAINERS = {
    "ndarray": lambda a: a,
    "list": lambda a: a.tolist(),
    "tuple": lambda a: tuple(map(tuple, a.tolist())) if a.ndim == 2 else tuple(a.tolist()),
    "pandas": lambda a: pd.DataFrame(a) if a.ndim == 2 else pd.Series(a),
    "fortran": lambda a: np.asfortranarray(a),
    "float": lambda a: a.astype(np.float64),
    "read-only": _read_only,
}


@given(
    st.sampled_from(sorted(CONTAINERS)),
    st.integers(1, 80),
    st.integers(1, 70),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_any_container_same_entropy(container, n, d, symbols, seed):
    rng = np.random.default_rng(seed)
    if symbols:
        data = rng.integers(-(2**40), 2**40, size=n)[rng.integers(0, max(1, n // 3), size=n)]
    else:
        data = rng.integers(0, 2, size=(n, d))
    expected = mr.entropy(np.ascontiguousarray(data, dtype=np.int64))
    assert mr.entropy(CONTAINERS[container](data)) == expected


# ------------------------------------------------------------------ the CLI's estimate

CLI_FORMS = {
    "int64": lambda a: a,
    "bool": lambda a: a.astype(bool),
    "uint64": lambda a: a.astype(np.uint64),
    "float32 Fortran": lambda a: np.asfortranarray(a.astype(np.float32)),
    "big-endian": lambda a: a.astype(">i2"),
    "signs": lambda a: (2 * a - 1).astype(np.int8),
}


@pytest.mark.parametrize("form", CLI_FORMS)
def test_cli_estimate_reads_every_dtype(form, tmp_path, capsys):
    import json

    from mi_regimes.cli import main

    path = tmp_path / "acts.npy"
    np.save(path, CLI_FORMS[form](ROWS))
    labels = tmp_path / "labels.npy"
    np.save(labels, np.array([f"c{v}" for v in LABELS]))  # text labels
    assert main(["estimate", str(path), "--labels", str(labels), "--estimator",
                 "plugin,nsb", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {e["estimator"]: e for e in report["estimates"]}
    assert by_name["plugin"]["entropy_bits"] == mr.entropy(ROWS)
    assert by_name["plugin"]["mutual_information_bits"] == pytest.approx(
        mr.mutual_information(ROWS, LABELS), abs=1e-12)
    assert by_name["nsb"]["entropy_bits"] == mr.entropy(ROWS, "nsb")
    assert report["d"] == ROWS.shape[1] and report["n"] == ROWS.shape[0]


def test_one_column_of_other_values_is_refused_as_samples_with_a_hint():
    # DESIGN.md: an (N, D) array holding other values raises, D = 1 included; the message
    # says how to pass labels
    labels = SYMBOLS[:, None]
    for x in (labels, pd.DataFrame({"label": SYMBOLS})):
        with pytest.raises(ValueError, match=r"x: values must be binary.*pass it 1-D"):
            mr.entropy(x)
        with pytest.raises(ValueError, match=r"b: values must be binary.*y.ravel\(\)"):
            mr.mutual_information(ROWS, x)
    bits = np.array([0, 1, 1, 1, 0, 1])
    assert mr.entropy(bits[:, None]) == mr.entropy(bits)  # a binary column is one bit


@pytest.mark.parametrize("column", [
    lambda s: s[:, None],
    lambda s: pd.DataFrame({"label": s}),
    lambda s: pd.DataFrame({"label": [f"c{v}" for v in s]}),
    lambda s: [[v] for v in s.tolist()],
])
def test_label_arguments_take_a_column(column):
    # an argument that can only hold labels has one reading of an (N, 1) column
    expected = plane_point(ROWS, SYMBOLS, "plugin")
    got = plane_point(ROWS, column(SYMBOLS), "plugin")
    assert got["i_ty"] == pytest.approx(expected["i_ty"], rel=1e-13)
    assert got["i_xt"] == expected["i_xt"]
