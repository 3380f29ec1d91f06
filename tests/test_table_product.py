"""The table product of evaluation's real-valued first layer (mi_regimes.bnn.table_product)."""

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_regimes.bnn import BinaryMLP
from mi_regimes.bnn.ops import sign_weights
from mi_regimes.bnn.table_product import sign_table_matmul, use_table
from mi_regimes.bnn.threads import use_threads


def packed_signs(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, np.float32)
    bits = np.empty((w.shape[0], (w.shape[1] + 63) // 64), np.uint64)
    sign_weights(w, np.empty_like(w), bits)
    return bits


# shapes: one sample, part of a group of four, a pass of 16, a word of 64, more than one
# block of 64 samples (the parallel driver), more than one pass of 512 units
SHAPES = [(1, 1, 1), (5, 3, 2), (7, 17, 33), (64, 64, 9), (65, 65, 513), (300, 784, 40),
          (130, 1030, 600)]


@pytest.mark.parametrize(("n", "k", "d"), SHAPES)
def test_matches_the_documented_sum_order_bit_for_bit(n, k, d):
    rng = np.random.default_rng(n + k + d)
    x = rng.normal(size=(n, k)).astype(np.float32)
    w = rng.normal(size=(d, k)).astype(np.float32)
    w[0, 0] = 0.0  # sign(0) = +1
    expected = naive.sign_table_product(x, w)
    exact = x.astype(np.float64) @ naive.sign(w).T
    for threads in (1, 2):
        with use_threads(threads):
            out = np.full((n, d), np.nan, np.float32)
            sign_table_matmul(x, packed_signs(w), out)
        np.testing.assert_array_equal(out, expected)
        # and it is the product: float32 rounding of a K-term sum
        np.testing.assert_allclose(out, exact, rtol=0, atol=1e-5 * k * np.abs(x).max())


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 90), st.integers(1, 140), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_integer_inputs_give_the_exact_product(n, k, d, seed):
    # sums of small integers are exact in float32, whatever the order
    rng = np.random.default_rng(seed)
    x = rng.integers(-20, 21, size=(n, k)).astype(np.float32)
    w = rng.integers(-2, 3, size=(d, k)).astype(np.float32)  # zeros: sign +1
    out = np.empty((n, d), np.float32)
    sign_table_matmul(x, packed_signs(w), out)
    np.testing.assert_array_equal(out, x.astype(np.int64) @ naive.sign(w).T.astype(np.int64))


def test_rows_do_not_depend_on_their_block_or_layout():
    rng = np.random.default_rng(1)
    x = rng.random((333, 300), dtype=np.float32)
    bits = packed_signs(rng.normal(size=(70, 300)))
    whole = sign_table_matmul(x, bits, np.empty((333, 70), np.float32))
    for lo, hi in ((0, 1), (5, 69), (64, 128), (100, 333)):
        part = sign_table_matmul(x[lo:hi], bits, np.empty((hi - lo, 70), np.float32))
        np.testing.assert_array_equal(part, whole[lo:hi])
    fortran = np.asfortranarray(x)
    read_only = x.copy()
    read_only.flags.writeable = False
    for form in (fortran, read_only, np.repeat(x, 2, axis=1)[:, ::2]):
        np.testing.assert_array_equal(
            sign_table_matmul(form, bits, np.empty((333, 70), np.float32)), whole)


@pytest.mark.parametrize("bad", ["x dtype", "bits words", "out shape", "out order"])
def test_bad_arguments_raise_and_leave_out_alone(bad):
    rng = np.random.default_rng(2)
    x = rng.random((10, 70), dtype=np.float32)
    bits = packed_signs(rng.normal(size=(4, 70)))
    out = np.full((10, 4), 7.0, np.float32)
    if bad == "x dtype":
        x = x.astype(np.float64)
    elif bad == "bits words":
        bits = bits[:, :1]
    elif bad == "out shape":
        out = np.full((10, 5), 7.0, np.float32)
    else:
        out = np.asfortranarray(np.full((10, 4), 7.0, np.float32))
    with pytest.raises(ValueError, match="x, w_bits, out"):
        sign_table_matmul(x, bits, out)
    assert np.all(out == 7.0)


def test_use_table_only_where_measured_faster():
    assert use_table(784, 1024) and use_table(256, 256)
    # the study's real-valued inputs (digits 64, mnist1d 40) keep BLAS: same bits as before
    assert not use_table(64, 1024) and not use_table(40, 512) and not use_table(784, 128)


def test_evaluation_first_layer_is_the_table_product(monkeypatch):
    import mi_regimes.bnn.model as model_module

    calls = []

    def spy(x, w_bits, out):
        calls.append(x.shape)
        return sign_table_matmul(x, w_bits, out)

    monkeypatch.setattr(model_module, "sign_table_matmul", spy)
    rng = np.random.default_rng(3)
    model = BinaryMLP([300, 256, 16], 3, rng=0)
    x = rng.normal(size=(150, 300)).astype(np.float32)
    _, layers = model.infer(x)
    assert calls == [(150, 300)]  # the first layer only: the others are XNOR products
    w_name, g_name, b_name, m_name, v_name = model._names[0]
    pre = naive.sign_table_product(x, model.params[w_name])
    inv_std = np.float32(1) / np.sqrt(model.buffers[v_name] + np.float32(model.eps))
    z = model.params[g_name] * ((pre - model.buffers[m_name]) * inv_std) + model.params[b_name]
    np.testing.assert_array_equal(layers[0].unpack(), (z >= 0).astype(np.uint8))
    model.forward(x, train=True, rng=np.random.default_rng(0))  # training keeps BLAS
    BinaryMLP([64, 256, 16], 3, rng=0).infer(x[:, :64])  # below the measured threshold
    assert calls == [(150, 300)]


@pytest.mark.parametrize("k", [5, 64, 784, 1030])
def test_error_within_the_bound_of_its_summation_tree_on_wild_magnitudes(k):
    # values spread over 40 decades with random signs: cancellation everywhere. Each
    # output is a tree of depth 4 + passes (two levels in a group, two across groups,
    # then the passes in sequence), so |error| <= (4 + passes) * 2^-24 * sum |x| (to
    # first order); BLAS's own bound, K * 2^-24 * sum |x|, is looser
    rng = np.random.default_rng(k)
    n, d = 130, 300
    x = (10.0 ** rng.uniform(-20, 20, size=(n, k)) * rng.choice([-1, 1], size=(n, k)))
    x = x.astype(np.float32)
    w = rng.normal(size=(d, k))
    out = sign_table_matmul(x, packed_signs(w), np.empty((n, d), np.float32))
    exact = x.astype(np.float64) @ naive.sign(w).T
    passes = -(-k // 16)
    bound = (4 + passes) * 2.0**-24 * np.abs(x).astype(np.float64).sum(axis=1, keepdims=True)
    assert np.all(np.abs(out - exact) <= 1.01 * bound)


def test_evaluations_from_several_python_threads_at_once_agree():
    # a thread pool evaluating models (dask's threaded scheduler, a web server): the
    # parallel table product launched from two threads at once gives the serial bits
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    two = [BinaryMLP([300, 512, 16], 3, rng=s) for s in range(2)]
    x = rng.normal(size=(700, 300)).astype(np.float32)
    for models in (two, [two[0], two[0]]):  # two models, and one model shared
        alone = [m.infer(x) for m in models]
        with ThreadPoolExecutor(2) as pool:
            together = list(pool.map(lambda m: m.infer(x), models))
            together += list(pool.map(lambda m: m.infer(x), models))
        for (lg, layers), (lg0, layers0) in zip(together, alone * 2, strict=True):
            np.testing.assert_array_equal(lg, lg0)
            for a, b in zip(layers, layers0, strict=True):
                np.testing.assert_array_equal(a.words, b.words)
