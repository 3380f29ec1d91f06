"""Bad input: a clear error naming the argument, and nothing modified."""

import math

import numpy as np
import pytest

import mi_regimes as mr

GOOD = np.array([[0, 1], [1, 1], [0, 0]], dtype=np.uint8)


@pytest.mark.parametrize(
    "x,err,match",
    [
        (np.array([[0.0, np.nan], [1.0, 0.0]]), ValueError, "x: values must be binary"),
        (np.array([[0.0, np.inf], [1.0, 0.0]]), ValueError, "x: values must be binary"),
        (np.array([[0, 2], [1, 0]]), ValueError, "x: values must be binary"),
        (np.array([[0.5, 1.0], [1.0, 0.0]]), ValueError, "x: values must be binary"),
        (np.array([[0, -1], [1, 0]]), ValueError, "x: mixes 0 and -1"),
        (np.array([[[0, 1]]]), ValueError, "x: expected a 2-D"),
        (np.zeros((0, 3)), ValueError, "x: empty .* pass at least one sample"),
        (np.zeros((3, 0)), ValueError, "x: empty .* pass at least one bit per row"),
        (np.array([[0, "a"]], dtype=object), TypeError, "x: object array"),
        (np.array([[1 + 1j, 0]]), TypeError, "x: dtype complex"),
        (np.array([["a", "b"]]), TypeError, "x: text values in"),
        (np.array([1, "a", 2.5], dtype=object), TypeError, "x: object array holding"),
        (np.array([1, None, 2], dtype=object), ValueError, "x: missing values"),
        (np.array([0.5, 1.0]), ValueError, "x: float symbols"),
        (np.array(3), ValueError, "x: expected a 2-D"),
        ((v % 3 for v in range(9)), TypeError, r"x: a generator \(an iterator\) is read "),
        (iter([[0, 1], [1, 1]]), TypeError, r"list\(x\)"),
    ],
)
def test_bad_x(x, err, match):
    with pytest.raises(err, match=match):
        mr.entropy(x)


def test_object_array_of_bits_is_accepted():
    assert mr.entropy(np.array([[0, 1], [1, 0]], dtype=object)) == pytest.approx(1.0)


def test_mismatched_n():
    with pytest.raises(ValueError, match="a and b: different numbers of samples"):
        mr.mutual_information(GOOD, np.array([0, 1]))
    with pytest.raises(ValueError, match="x and given"):
        mr.conditional_entropy(GOOD, np.array([0, 1]))


@pytest.mark.parametrize(
    "kwargs,match",
    [({"estimator": "shannon"}, "estimator: unknown name 'shannon'; choose one of plugin"),
     ({"estimator": "bootstrap", "n_boot": 0}, "n_boot"),
     ({"estimator": "bootstrap", "ci": 1.5}, "ci: confidence level"),
     ({"estimator": "bootstrap", "ci": 0.0}, "ci: confidence level")],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mr.entropy_estimate(GOOD, **kwargs)


@pytest.mark.parametrize("rng", [-1, 1.5, True, "seed", object()])
def test_bad_rng_is_named(rng):
    with pytest.raises(TypeError, match="rng: expected None, a non-negative int"):
        mr.entropy_estimate(GOOD, "bootstrap", rng=rng)
    with pytest.raises(TypeError, match="rng: expected None"):
        mr.mutual_information(GOOD, GOOD[:, 0], "bootstrap", rng=rng)


def test_rng_forms_numpy_takes_still_work():
    # a list of ints, a RandomState and a bare bit generator, as np.random.default_rng takes
    for rng in ([1, 2], np.random.RandomState(0), np.random.PCG64(1), np.int64(3)):
        est = mr.entropy_estimate(GOOD, "bootstrap", rng=rng)
        assert math.isfinite(est.value) and est.ci[0] <= est.ci[1]
    assert (mr.entropy_estimate(GOOD, "bootstrap", rng=3).value
            == mr.entropy_estimate(GOOD, "bootstrap", rng=np.random.default_rng(3)).value)


@pytest.mark.parametrize("call", [
    lambda: mr.entropy(GOOD, nboot=10),
    lambda: mr.entropy_estimate(GOOD, "bootstrap", nboot=10),
    lambda: mr.mutual_information(GOOD, GOOD[:, 0], "bootstrap", nboot=10),
    lambda: mr.conditional_entropy(GOOD, GOOD[:, 0], nboot=10),
])
def test_misspelt_option_is_named(call):
    with pytest.raises(TypeError, match="nboot: unknown option; estimators take ci, n_boot"):
        call()


def test_unknown_estimator_in_mi():
    with pytest.raises(ValueError, match="choose one of"):
        mr.mutual_information(GOOD, np.array([0, 1, 0]), estimator="ksg")


def test_inputs_are_not_modified(rng):
    x = rng.integers(0, 2, size=(200, 70)).astype(np.int8)
    s = (2 * x - 1).astype(np.float64)
    y = rng.integers(0, 3, size=200).astype(np.float64)
    copies = [a.copy() for a in (x, s, y)]
    mr.entropy(x)
    mr.entropy_estimate(s, "bootstrap", rng=0)
    mr.mutual_information(x, y, "nsb")
    mr.conditional_entropy(s, y, "jackknife")
    mr.entropy(y)
    for a, b in zip((x, s, y), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    bad = np.array([[0, 3]], dtype=np.int64)
    before = bad.copy()
    with pytest.raises(ValueError):
        mr.entropy(bad)
    np.testing.assert_array_equal(bad, before)
