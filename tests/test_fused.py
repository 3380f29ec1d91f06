"""The compiled training step equals the Python step bit for bit, and knows its limits."""

import numpy as np
import pytest
from blas_threads import numpy_blas_threads
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mi_regimes.bnn.training as training
from mi_regimes.bnn import Adam, BinaryMLP, datasets, fit, train_step
from mi_regimes.bnn._cblas import mm_nn, mm_nt, mm_tn, sgemm_address
from mi_regimes.bnn.fused import fused_step
from mi_regimes.bnn.products import one_blas_thread
from mi_regimes.bnn.threads import use_threads


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


def test_numpys_sgemm_is_found():
    # NumPy's wheels link scipy-openblas64; if this fails the compiled step never runs
    address, ilp64 = sgemm_address()
    assert address != 0 and ilp64


@settings(deadline=None, max_examples=40)
@given(m=st.integers(2, 70), k=st.integers(2, 70), n=st.integers(2, 70),
       seed=st.integers(0, 2**32 - 1))
def test_products_equal_numpy_matmul_bit_for_bit(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    address, ilp64 = sgemm_address()
    with one_blas_thread():
        for fn, x, y, want in ((mm_nn, a, b, a @ b),
                               (mm_nt, a, np.ascontiguousarray(b.T), a @ b),
                               (mm_tn, np.ascontiguousarray(a.T), b, a @ b)):
            got = np.full((m, n), np.nan, np.float32)
            fn(address, ilp64, x, y, got)
            ref = np.matmul(x, y.T) if fn is mm_nt else (np.matmul(x.T, y) if fn is mm_tn
                                                          else want)
            np.testing.assert_array_equal(_bits(got), _bits(ref))


def _run_steps(widths, binarize_input, batch, fused, monkeypatch, n_steps=4, n_classes=3):
    rng = np.random.default_rng(7)
    x = rng.random((batch * n_steps, widths[0])).astype(np.float32)
    y = rng.integers(0, n_classes, batch * n_steps)
    model = BinaryMLP(widths, n_classes, binarize_input=binarize_input, rng=3)
    opt = Adam(model.params, 0.05, flat=model.flat_parameters())
    calls = []

    def counting(*args):
        out = fused_step(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(training, "fused_step", counting if fused else lambda *a: None)
    with use_threads(1):  # with more, large XNOR products go to the parallel Python step
        losses = [train_step(model, x[s * batch:(s + 1) * batch],
                             y[s * batch:(s + 1) * batch], opt) for s in range(n_steps)]
    return model, losses, calls


@pytest.mark.parametrize("widths, binarize_input, batch", [
    ([12, 10, 7, 5, 4], False, 256),  # tishby12
    ([64, 256, 256], False, 64),  # digits
    ([64, 65, 130, 2], True, 3),  # odd widths across word edges, binary inputs
    ([5, 3], True, 2),  # the smallest batch
    ([200, 70, 129], False, 33),
    ([70, 4096, 200], False, 1024),  # a wide layer at a large batch (one thread)
])
def test_compiled_step_equals_python_step(widths, binarize_input, batch, monkeypatch):
    compiled, losses_c, calls = _run_steps(widths, binarize_input, batch, True, monkeypatch)
    plain, losses_p, _ = _run_steps(widths, binarize_input, batch, False, monkeypatch)
    assert calls and all(calls)  # the compiled step did run
    assert losses_c == losses_p
    for k in compiled.params:
        np.testing.assert_array_equal(_bits(compiled.params[k]), _bits(plain.params[k]),
                                      err_msg=k)
    for k in compiled.buffers:
        np.testing.assert_array_equal(_bits(compiled.buffers[k]), _bits(plain.buffers[k]),
                                      err_msg=k)


def test_input_threshold_change_is_seen(monkeypatch):
    a, _, _ = _run_steps([6, 9], True, 8, True, monkeypatch)
    a.input_threshold = 0.7
    b = BinaryMLP([6, 9], 3, binarize_input=True, input_threshold=0.7, rng=3)
    for k in a.params:  # same weights, the new threshold
        b.params[k][...] = a.params[k]
    for k in a.buffers:
        b.buffers[k][...] = a.buffers[k]
    x = np.random.default_rng(1).random((8, 6)).astype(np.float32)
    y = np.arange(8) % 3
    ga, gb = a.new_gradients(), b.new_gradients()
    with one_blas_thread():
        assert fused_step(a, x, y, ga) == fused_step(b, x, y, gb)
    np.testing.assert_array_equal(ga.flat, gb.flat)


@pytest.mark.parametrize("case", ["dropout", "width one", "replaced parameter",
                                  "replaced statistic", "other model's gradients"])
def test_cases_left_to_the_python_step(case):
    model = BinaryMLP([6, 1 if case == "width one" else 8, 4], 3,
                      dropout=0.2 if case == "dropout" else 0.0, rng=0)
    grads = model.new_gradients()
    if case == "replaced parameter":
        model.params["W1"] = model.params["W1"].copy()
    if case == "replaced statistic":
        model.buffers["mean1"] = model.buffers["mean1"].copy()
    if case == "other model's gradients":
        grads = BinaryMLP([6, 8, 4], 3, rng=0).new_gradients()
    before = {k: v.copy() for k, v in model.params.items()}
    x = np.random.default_rng(0).random((5, 6)).astype(np.float32)
    with one_blas_thread():
        assert fused_step(model, x, np.arange(5) % 3, grads) is None
    for k, v in before.items():  # nothing was changed
        np.testing.assert_array_equal(model.params[k], v)
    if case == "other model's gradients":  # and the Python step still refuses them
        opt = Adam(model.params, 0.01, flat=model.flat_parameters())
        with pytest.raises(ValueError, match="out: expected gradients"):
            train_step(model, x, np.arange(5) % 3, opt, grads=grads)


def test_fits_with_and_without_the_compiled_step_agree(monkeypatch):
    data = datasets.load("tishby12", rng=0)
    runs = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(training, "fused_step", lambda *a: None)
        model = BinaryMLP([12, 10, 7, 5, 4], 2, rng=1)
        runs.append((model, fit(model, data, 3, 256, rng=2).as_dict()))
    assert runs[0][1] == runs[1][1]
    for k in runs[0][0].params:
        np.testing.assert_array_equal(runs[0][0].params[k], runs[1][0].params[k])


def test_one_blas_thread_nests_and_restores():
    before = numpy_blas_threads()
    with one_blas_thread():
        with one_blas_thread():
            inner = numpy_blas_threads()
        still = numpy_blas_threads()
    after = numpy_blas_threads()
    assert inner == [1] and still == [1]
    assert after == before


@pytest.mark.parametrize("n, d, threads", [(7, 10, 1), (50, 64, 1), (300, 65, 1),
                                            (1200, 1024, 2)])
def test_eval_kernel_equals_the_training_kernel_in_eval_mode(n, d, threads):
    from mi_regimes.bnn.ops import bn_sign_eval, bn_sign_forward

    rng = np.random.default_rng(d)
    pre = (rng.standard_normal((n, d)) * 3).astype(np.float32)
    pre[0, :] = 0.0  # z exactly at beta: sign(0) = +1 on both paths
    gamma = rng.uniform(0.5, 1.5, d).astype(np.float32)
    beta = rng.uniform(-0.5, 0.5, d).astype(np.float32)
    mean = rng.standard_normal(d).astype(np.float32)
    var = rng.uniform(0.1, 4, d).astype(np.float32)
    words = (d + 63) // 64
    outs = [np.empty((n, d), np.float32) for _ in range(3)]
    bits_ref = np.empty((n, words), np.uint64)
    bn_sign_forward(pre, gamma, beta, 1e-5, False, 0.1, mean.copy(), var.copy(), outs[0],
                    outs[1], outs[2], bits_ref, np.empty(d, np.float32))
    bits = np.full((n, words), 123, np.uint64)
    signs = np.zeros((n, d), np.float32)
    with use_threads(threads):
        bn_sign_eval(pre, gamma, beta, 1e-5, mean, var, bits, signs)
    np.testing.assert_array_equal(bits, bits_ref)
    np.testing.assert_array_equal(signs, outs[2])
    # and both against NumPy's own packing of z >= 0 (bit j of a row's word is unit j)
    positive = np.zeros((n, 64 * words), np.uint8)
    positive[:, :d] = outs[1] >= 0
    expected = np.packbits(positive, axis=1, bitorder="little").view("<u8")
    np.testing.assert_array_equal(bits, expected)


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 3000), k=st.integers(1, 1100), classes=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
@example(n=1438, k=1024, classes=10, seed=0)  # past PARALLEL_WORK: the threaded driver
@example(n=4001, k=300, classes=3, seed=1)
def test_parallel_output_layer_equals_the_training_kernel(n, k, classes, seed):
    # evaluation spreads the output layer's rows over threads; each row must keep the
    # training kernel's logits bit for bit (and both must be the product itself)
    from mi_regimes.bnn.ops import output_layer, output_logits

    rng = np.random.default_rng(seed)
    a = np.where(rng.random((n, k)) < 0.5, -1, 1).astype(np.float32)
    w = rng.standard_normal((classes, k)).astype(np.float32)
    bias = rng.standard_normal(classes).astype(np.float32)
    reference = np.empty((n, classes), np.float32)
    output_logits(a, w, bias, reference)
    for threads in (1, 2):
        got = np.full((n, classes), np.nan, np.float32)
        with use_threads(threads):
            output_layer(a, w, bias, got)
        np.testing.assert_array_equal(_bits(got), _bits(reference))
    exact = a.astype(np.float64) @ w.T.astype(np.float64) + bias
    np.testing.assert_allclose(reference, exact, rtol=0, atol=1e-4 * np.sqrt(k) + 1e-5)


@settings(deadline=None, max_examples=40)
@given(d=st.integers(1, 70), k=st.integers(1, 200), seed=st.integers(0, 2**32 - 1))
def test_weight_bits_alone_equal_the_bits_beside_the_float_signs(d, k, seed):
    from mi_regimes.bnn.ops import sign_weight_bits, sign_weights

    rng = np.random.default_rng(seed)
    w = rng.uniform(-1.5, 1.5, (d, k)).astype(np.float32)
    w[rng.random((d, k)) < 0.1] = 0.0  # sign(0) = +1 on both paths
    words = (k + 63) // 64
    bits_ref, bits = np.empty((d, words), np.uint64), np.full((d, words), 7, np.uint64)
    signs = np.empty_like(w)
    outside = sign_weights(w, signs, bits_ref)
    sign_weight_bits(w, bits)
    np.testing.assert_array_equal(bits, bits_ref)
    np.testing.assert_array_equal(signs, np.where(w >= 0, 1.0, -1.0).astype(np.float32))
    assert outside == bool((np.abs(w) > 1).any())
    positive = np.zeros((d, 64 * words), np.uint8)
    positive[:, :k] = w >= 0
    np.testing.assert_array_equal(
        bits, np.packbits(positive, axis=1, bitorder="little").view("<u8"))


@pytest.mark.parametrize("labels, columns", [([0, 1, 3, 0], 6), ([0, -1, 2, 0], 6),
                                             ([0, 1, 2, 0], 5)])
def test_unchecked_batches_raise_before_anything_changes(labels, columns):
    # validate=False promises checked data; a broken promise must not write out of bounds
    model = BinaryMLP([6, 8, 4], 3, rng=0)
    opt = Adam(model.params, 0.01, flat=model.flat_parameters())
    before = {k: v.copy() for k, v in {**model.params, **model.buffers}.items()}
    x = np.random.default_rng(0).random((4, columns)).astype(np.float32)
    with pytest.raises(ValueError, match="yb|xb"):
        train_step(model, x, np.array(labels), opt, validate=False)
    for k, v in {**model.params, **model.buffers}.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
