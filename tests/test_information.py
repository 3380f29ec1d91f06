import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import mutual_info_score

import mi_regimes as mr
from mi_regimes.estimators import USES_ALPHABET

binary_rows = hnp.arrays(
    np.uint8, st.tuples(st.integers(2, 60), st.integers(1, 12)), elements=st.integers(0, 1)
)


def test_fair_bit_is_one_bit():
    x = np.array([[0], [1]] * 50)
    assert mr.entropy(x) == pytest.approx(1.0)
    assert mr.entropy(x, base=math.e) == pytest.approx(math.log(2))


def test_copy_gives_mi_equal_to_entropy(rng):
    t = rng.integers(0, 2, size=(500, 3))
    codes = t @ np.array([1, 2, 4])
    h = mr.entropy(t)
    assert mr.mutual_information(t, codes) == pytest.approx(h, abs=1e-12)
    assert mr.mutual_information(t, t) == pytest.approx(h, abs=1e-12)
    assert mr.conditional_entropy(t, codes) == pytest.approx(0.0, abs=1e-12)


def test_independent_plugin_mi_tends_to_zero(rng):
    values = []
    for n in (1_000, 10_000, 100_000):
        a = rng.integers(0, 2, size=(n, 3))
        b = rng.integers(0, 4, size=n)
        values.append(mr.mutual_information(a, b))
    # plug-in MI bias ~ (Ka-1)(Kb-1)/(2N ln2) = 21/(2N ln 2)
    assert values[0] > values[1] > values[2] >= 0
    assert values[2] < 5 * 21 / (2 * 100_000 * math.log(2))


def test_mi_matches_sklearn(rng):
    for _ in range(10):
        n = int(rng.integers(10, 3000))
        t = rng.integers(0, 2, size=(n, int(rng.integers(1, 12))), dtype=np.uint8)
        y = rng.integers(0, int(rng.integers(2, 10)), size=n)
        codes = t @ (1 << np.arange(t.shape[1]))
        ref = mutual_info_score(codes, y) / math.log(2)
        assert mr.mutual_information(t, y) == pytest.approx(ref, abs=1e-10)


def test_entropy_matches_naive_counts(rng):
    x = (rng.random((2000, 70)) < 0.03).astype(np.uint8)
    expected = naive.plugin(naive.counts_of_rows(x)) / math.log(2)
    assert mr.entropy(x) == pytest.approx(expected, abs=1e-10)
    assert mr.entropy(mr.pack_bits(x)) == pytest.approx(expected, abs=1e-10)


def test_symbols_and_signs_accepted(rng):
    y = rng.integers(0, 5, size=400)
    assert mr.entropy(y) == pytest.approx(mr.entropy(y[:, None].astype(np.int64) == np.arange(5)))
    s = 2 * rng.integers(0, 2, size=(300, 6)) - 1
    assert mr.entropy(s) == pytest.approx(mr.entropy((s > 0).astype(int)))


def test_entropy_estimate_fields(rng):
    x = rng.integers(0, 2, size=(256, 20))
    est = mr.entropy_estimate(x, "plugin")
    assert est.n == 256 and est.k_observed == 256 and est.n_coincidences == 0
    assert est.value == pytest.approx(8.0) and est.saturation == pytest.approx(1.0)
    assert est.ci is None and est.stderr is None and est.estimator == "plugin"
    boot = mr.entropy_estimate(x, "bootstrap", ci=0.9, rng=1, n_boot=200)
    assert boot.ci is not None and boot.stderr is not None
    nsb = mr.entropy_estimate(x, "nsb")  # alphabet defaults to 2**20
    assert nsb.value > 8.0 and nsb.stderr > 0


@pytest.mark.parametrize("name", mr.ESTIMATORS)
def test_every_estimator_runs_on_rows_and_mi(name, rng):
    t = rng.integers(0, 2, size=(300, 4))
    y = t[:, 0] + 2 * rng.integers(0, 2, size=300)
    h = mr.entropy(t, name, rng=0) if name == "bootstrap" else mr.entropy(t, name)
    assert 3.5 < h < 4.5
    mi = mr.mutual_information(t, y, name, **({"rng": 0} if name == "bootstrap" else {}))
    assert 0.7 < mi < 1.3  # true I = 1 bit


def test_mi_reproducible_with_seed(rng):
    t = rng.integers(0, 2, size=(300, 6))
    y = rng.integers(0, 3, size=300)
    a = mr.mutual_information(t, y, "bootstrap", rng=11)
    assert a == mr.mutual_information(t, y, "bootstrap", rng=11)


@given(binary_rows, st.randoms(use_true_random=False))
def test_invariances(x, random):
    h = mr.entropy(x)
    perm_rows = list(range(x.shape[0]))
    random.shuffle(perm_rows)
    perm_cols = list(range(x.shape[1]))
    random.shuffle(perm_cols)
    flip = np.array([random.random() < 0.5 for _ in range(x.shape[1])])
    assert mr.entropy(x[perm_rows]) == pytest.approx(h, abs=1e-12)
    assert mr.entropy(x[:, perm_cols]) == pytest.approx(h, abs=1e-12)
    assert mr.entropy(x ^ flip.astype(np.uint8)) == pytest.approx(h, abs=1e-12)
    assert mr.entropy(x[perm_rows], "bootstrap", rng=3) == pytest.approx(
        mr.entropy(x, "bootstrap", rng=3), abs=1e-12)


@given(binary_rows)
def test_plugin_bounds(x):
    n, d = x.shape
    h = mr.entropy(x)
    assert -1e-12 <= h <= min(math.log2(n), d) + 1e-12
    assert mr.entropy(x, "miller_madow") >= h


@given(binary_rows, st.integers(1, 5), st.integers(0, 2**31))
def test_mi_symmetric_and_bounded(x, n_classes, seed):
    y = np.random.default_rng(seed).integers(0, n_classes, size=x.shape[0])
    mi = mr.mutual_information(x, y)
    assert mi == pytest.approx(mr.mutual_information(y, x), abs=1e-12)
    assert 0.0 <= mi <= min(mr.entropy(x), mr.entropy(y)) + 1e-12


@pytest.mark.parametrize("name", mr.ESTIMATORS)
def test_mi_from_counts_equals_mi_from_rows(name, rng):
    from mi_regimes.counting import joint_counts
    from mi_regimes.information import mutual_information_from_counts

    t = rng.integers(0, 2, size=(400, 5))
    y = rng.integers(0, 3, size=400)
    opts = {"rng": 4} if name == "bootstrap" else {}
    sizes = (2.0**5, 3.0) if name in USES_ALPHABET else None
    from_counts = mutual_information_from_counts(*joint_counts(t, y), name,
                                                 alphabet_sizes=sizes, **opts)
    assert from_counts == pytest.approx(mr.mutual_information(t, y, name, **opts), abs=1e-12)


@pytest.mark.parametrize("n,d", [(60_000, 20), (400_000, 24)])
def test_same_value_whatever_the_thread_count(n, d):
    """NumPy sums (not BLAS dots) and fixed kernel chunks: no rounding depends on threads."""
    from mi_regimes._parallel import limit_threads

    x = np.random.default_rng(d).integers(0, 2, size=(n, d), dtype=np.uint8)
    with limit_threads(1):
        one = [mr.entropy(x, e, **({"rng": 0} if e == "bootstrap" else {}))
               for e in ("plugin", "miller_madow", "jackknife", "bootstrap")]
        one_est = mr.entropy_estimate(x, "jackknife")
    many = [mr.entropy(x, e, **({"rng": 0} if e == "bootstrap" else {}))
            for e in ("plugin", "miller_madow", "jackknife", "bootstrap")]
    assert one == many
    assert one_est == mr.entropy_estimate(x, "jackknife")


def test_saturation_of_a_single_sample_is_nan_as_documented():
    # log2 1 = 0 is the ceiling: the ratio is undefined, and the docstring says so
    est = mr.entropy_estimate([[0, 1, 1]])
    assert est.n == 1 and math.isnan(est.saturation)
    assert "NaN for a single sample" in type(est).__doc__
