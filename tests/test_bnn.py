import math

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mi_regimes.bnn import (
    Adam,
    BinaryMLP,
    Recorder,
    binary_sign,
    datasets,
    fit,
    load_recording,
    log_spaced_epochs,
    train_step,
)
from mi_regimes.bnn.kernels import sign_pack, xnor_matmul, xnor_matmul_masked


def packed(z):
    out = np.empty((z.shape[0], (z.shape[1] + 63) // 64), np.uint64)
    sign_pack(np.ascontiguousarray(z, dtype=np.float32), out)
    return out


def test_sign_of_zero_is_plus_one():
    z = np.array([[0.0, -0.0, -1e-30, 1e-30, -2.0]], np.float32)
    np.testing.assert_array_equal(binary_sign(z), [[1, 1, -1, 1, -1]])
    assert int(packed(z)[0, 0]) == 0b01011


@given(st.integers(1, 9), st.integers(1, 200), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_packed_xnor_equals_float_sign_product(n, k, m, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, k)).astype(np.float32)
    w = rng.normal(size=(m, k)).astype(np.float32)
    a[rng.random((n, k)) < 0.1] = 0.0  # exercise sign(0) = +1
    out = np.empty((n, m), np.int32)
    xnor_matmul(packed(a), packed(w), k, out)
    np.testing.assert_array_equal(out, naive.xnor_dot(a, w))
    keep = rng.random((n, k)) < 0.7
    masked = np.empty((n, m), np.int32)
    xnor_matmul_masked(packed(a), packed(np.where(keep, 1, -1)), packed(w), masked)
    np.testing.assert_array_equal(masked, (naive.sign(a) * keep) @ naive.sign(w).T)


def test_xnor_large_matches_blas():
    rng = np.random.default_rng(0)
    a = np.where(rng.random((300, 1000)) < 0.5, -1, 1).astype(np.float32)
    w = np.where(rng.random((130, 1000)) < 0.5, -1, 1).astype(np.float32)
    out = np.empty((300, 130), np.int32)
    xnor_matmul(packed(a), packed(w), 1000, out)
    np.testing.assert_array_equal(out, (a @ w.T).astype(np.int32))


def _words(n, w):
    return np.zeros((n, w), np.uint64)


@pytest.mark.parametrize("call, match", [
    # the kernels do not bounds-check: each of these wrote or read past an array
    (lambda: sign_pack(np.zeros((4, 130), np.float32), _words(4, 2)), r"out: .*shape \(4, 3\)"),
    (lambda: sign_pack(np.zeros((4, 10), np.int64), _words(4, 1)), "z: expected a 2-D float"),
    (lambda: xnor_matmul(_words(4, 2), _words(3, 2), 100, np.empty((4, 2), np.int32)),
     r"out: .*shape \(4, 3\)"),
    (lambda: xnor_matmul(_words(4, 2), _words(3, 1), 100, np.empty((4, 3), np.int32)),
     r"w: expected packed .* shape \(N, 2\)"),
    (lambda: xnor_matmul(_words(4, 2), _words(3, 2), 300, np.empty((4, 3), np.int32)),
     r"k: the number of real columns must lie in \(64, 128\]"),
    (lambda: xnor_matmul(_words(4, 2), _words(3, 2), 100, np.empty((4, 3), np.int64)),
     "out: expected a writable int32 or float32"),
    (lambda: xnor_matmul(np.zeros((4, 2), np.int64), _words(3, 2), 100,
                         np.empty((4, 3), np.int32)), "a: expected packed"),
    (lambda: xnor_matmul_masked(_words(4, 2), _words(3, 2), _words(3, 2),
                                np.empty((4, 3), np.int32)), r"keep: .*shape \(4, 2\)"),
])
def test_kernel_wrappers_refuse_arrays_they_would_overrun(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("k", [10, 64, 200])  # one word per row (its own loop), and more
def test_xnor_parallel_kernel_matches_reference(k):
    # enough rows that the product takes the parallel driver (work >= PARALLEL_WORK), with
    # float32 output as the network uses it; the hypothesis test above covers the serial one
    from mi_regimes.bnn.kernels import PARALLEL_WORK
    from mi_regimes.bnn.threads import use_threads

    rng = np.random.default_rng(k)
    m = 40
    n = PARALLEL_WORK // (m * ((k + 63) // 64)) + 7
    a = rng.normal(size=(n, k)).astype(np.float32)
    w = rng.normal(size=(m, k)).astype(np.float32)
    expected = naive.xnor_dot(a, w)
    keep = rng.random((n, k)) < 0.6
    for threads in (1, 2):
        with use_threads(threads):
            out = np.full((n, m), np.nan, np.float32)
            xnor_matmul(packed(a), packed(w), k, out)
            np.testing.assert_array_equal(out, expected)
            masked = np.full((n, m), np.nan, np.float32)
            xnor_matmul_masked(packed(a), packed(np.where(keep, 1, -1)), packed(w), masked)
            np.testing.assert_array_equal(masked, (naive.sign(a) * keep) @ naive.sign(w).T)


@pytest.mark.parametrize("binarize_input", [False, True])
@pytest.mark.parametrize("widths", [[5, 7, 6], [70, 65, 3, 9]])
def test_gradients_match_plain_reference(widths, binarize_input):
    rng = np.random.default_rng(1)
    model = BinaryMLP(widths, n_classes=3, binarize_input=binarize_input, rng=4)
    for k in model.params:  # non-trivial batch-norm parameters
        if k.startswith(("gamma", "beta")):
            model.params[k] = rng.uniform(0.5, 1.5, model.params[k].shape).astype(np.float32)
    x = rng.random((11, widths[0])).astype(np.float32)
    y = rng.integers(0, 3, size=11)
    logits, cache = model.forward(x, train=True)
    loss, grads = model.backward(cache, y)
    ref_loss, ref_grads, ref_logits = naive.bnn_step(model.params, widths, x, y,
                                                     binarize_input=binarize_input)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-5)
    assert set(grads) == set(ref_grads)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=2e-3, atol=1e-5, err_msg=k)


def test_dropout_gradients_match_plain_reference():
    widths = [6, 10, 8]
    model = BinaryMLP(widths, n_classes=4, dropout=0.3, rng=2)
    x = np.random.default_rng(3).random((9, 6)).astype(np.float32)
    y = np.arange(9) % 4
    _, cache = model.forward(x, train=True, rng=np.random.default_rng(5))
    _, grads = model.backward(cache, y)
    _, ref, _ = naive.bnn_step(model.params, widths, x, y, keep=cache["keep"], dropout=0.3)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref[k], rtol=2e-3, atol=1e-5, err_msg=k)


def test_eval_forward_and_activations_match_reference():
    rng = np.random.default_rng(8)
    model = BinaryMLP([20, 130, 70], n_classes=5, rng=1)
    for key in model.buffers:
        model.buffers[key] = rng.uniform(0.5, 2, model.buffers[key].shape).astype(np.float32)
    x = rng.random((40, 20)).astype(np.float32)
    a = x.astype(float)
    expected = []
    for layer in (1, 2):
        pre = a @ naive.sign(model.params[f"W{layer}"]).T
        z = ((pre - model.buffers[f"mean{layer}"]) / np.sqrt(model.buffers[f"var{layer}"] + 1e-5)
             * model.params[f"gamma{layer}"] + model.params[f"beta{layer}"])
        a = naive.sign(z)
        expected.append((a > 0).astype(np.uint8))
    for got, exp in zip(model.activations(x), expected, strict=True):
        np.testing.assert_array_equal(got, exp)
    logits = a @ model.params["W_out"].T.astype(float) + model.params["b_out"]
    np.testing.assert_array_equal(model.predict(x), np.argmax(logits, axis=1))


def test_adam_step_matches_formula():
    params = {"W1": np.array([0.5, -0.99], np.float32), "W_out": np.array([2.0], np.float32)}
    grads = {"W1": np.array([0.1, 0.9], np.float32), "W_out": np.array([0.3], np.float32)}
    opt = Adam(params, lr=0.1, weight_decay=0.5)
    opt.step(params, grads)
    g = np.array([0.1 + 0.5 * 0.5, 0.9 + 0.5 * -0.99])  # L2 decay on latent weights only
    m, v = 0.1 * g, 0.001 * g * g
    expected = np.clip(np.array([0.5, -0.99]) - 0.1 * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8),
                       -1, 1)
    np.testing.assert_allclose(params["W1"], expected, rtol=1e-5)  # float32 arithmetic
    assert params["W1"][1] == -1.0  # -0.99 - 0.1 clipped to -1
    assert params["W_out"][0] == pytest.approx(2.0 - 0.1, rel=1e-6)


def test_tishby12_facts():
    x, y = datasets.tishby12()
    assert x.shape == (4096, 12) and x.dtype == np.uint8 and y.dtype == np.uint8
    np.testing.assert_array_equal(x[5], [0] * 9 + [1, 0, 1])  # binary counting order
    assert int(y.sum()) == 2118
    n = x.sum(axis=1)
    positives = [int(y[n == k].sum()) for k in range(13)]
    totals = [int((n == k).sum()) for k in range(13)]
    assert positives[:5] == [0] * 5
    assert (positives[5], totals[5]) == (60, 792)
    assert (positives[6], totals[6]) == (532, 924)
    assert (positives[7], totals[7]) == (732, 792)
    assert positives[8:] == totals[8:]


@pytest.mark.parametrize("name,shape,n_classes", [
    ("tishby12", 12, 2), ("digits", 64, 10), ("mnist1d", 40, 10), ("mnist5k", 784, 10)])
def test_datasets_load_stratified(name, shape, n_classes):
    data = datasets.load(name, rng=0)
    n = data.x_train.shape[0] + data.x_test.shape[0]
    assert data.x_train.shape[1] == shape and data.n_classes == n_classes
    assert datasets.N_FEATURES[name] == data.n_features  # what study configs are checked with
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.x_test.shape[0] == pytest.approx(0.2 * n, abs=n_classes)
    share_train = np.bincount(data.y_train) / data.y_train.size
    share_test = np.bincount(data.y_test) / data.y_test.size
    np.testing.assert_allclose(share_train, share_test, atol=0.01)
    again = datasets.load(name, rng=0)
    np.testing.assert_array_equal(data.x_test, again.x_test)
    assert not np.array_equal(datasets.load(name, rng=1).x_test, data.x_test)


def test_digits_reaches_95_percent():
    data = datasets.load("digits", rng=0)
    model = BinaryMLP([64, 256, 256], n_classes=10, rng=0)
    history = fit(model, data, epochs=20, batch_size=64, lr=1e-2, rng=0)
    assert history.test_acc[-1] >= 0.95
    assert np.mean(model.predict(data.x_test) == data.y_test) == history.test_acc[-1]
    for k, w in model.params.items():
        if Adam.is_latent(k):
            assert w.min() >= -1 and w.max() <= 1


def test_reproducible_with_seed():
    data = datasets.load("tishby12", rng=0)
    runs = []
    for _ in range(2):
        model = BinaryMLP([12, 20, 10], n_classes=2, dropout=0.1, rng=3)
        fit(model, data, epochs=2, batch_size=32, lr=1e-2, rng=7, label_noise=0.1)
        runs.append(model)
    for k in runs[0].params:
        np.testing.assert_array_equal(runs[0].params[k], runs[1].params[k])
    for a, b in zip(runs[0].activations(data.x_train), runs[1].activations(data.x_train),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_regularisers_and_early_stopping():
    data = datasets.load("digits", rng=0)
    y = datasets.corrupt_labels(data.y_train, 0.25, 10, rng=1)
    assert np.sum(y != data.y_train) == round(0.25 * data.y_train.size)
    model = BinaryMLP([64, 64], n_classes=10, dropout=0.2, rng=0)
    h = fit(model, data, epochs=60, lr=5e-2, lr_schedule="constant", weight_decay=1e-3,
            label_noise=0.3, validation=0.2, patience=2, rng=0)
    assert h.stopped_early and len(h.epoch) < 60 and len(h.val_loss) == len(h.epoch)
    assert h.test_acc[-1] > 0.5


def _log_spaced_before(epochs, n):
    """log_spaced_epochs as the stored study ran it (it gave n + 1 epochs when none of its
    n log-spaced points coincided)."""
    if epochs + 1 <= n:
        return list(range(epochs + 1))
    points = n
    while True:
        grid = np.round(np.logspace(0, np.log10(epochs), points)).astype(int)
        chosen = sorted({0, epochs, *grid.tolist()})
        if len(chosen) >= n:
            return chosen
        points += max(1, n - len(chosen))


def test_log_spaced_epochs_gives_the_number_asked():
    """Exactly n epochs (0 and the last among them), as many as exist when fewer: 5 gave 6
    and 10 gave 11. The study's settings (100 of 100, 150, 300 epochs) keep their epochs."""
    for epochs in range(1, 601):
        for n in (2, 3, 5, 8, 10, 20, 50, 100, 150):
            got = log_spaced_epochs(epochs, n)
            assert len(got) == min(n, epochs + 1), (epochs, n)
            assert got[0] == 0 and got[-1] == epochs and got == sorted(set(got))
    assert log_spaced_epochs(20, 5) == [0, 1, 3, 7, 20]
    assert log_spaced_epochs(7, 2) == [0, 7]
    for epochs in (100, 150, 300, 1000):
        assert log_spaced_epochs(epochs, 100) == _log_spaced_before(epochs, 100)
    for bad in (1, 0):
        with pytest.raises(ValueError, match="n_snapshots: at least 2, since epoch 0"):
            log_spaced_epochs(10, bad)
        with pytest.raises(ValueError, match="n_snapshots: at least 2"):
            Recorder(n_snapshots=bad)


def test_recorder_snapshots_and_round_trip(tmp_path):
    assert log_spaced_epochs(100, 10)[0] == 0 and log_spaced_epochs(100, 10)[-1] == 100
    assert len(log_spaced_epochs(1000)) > 80
    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 24, 70], n_classes=2, rng=0)
    h = fit(model, data, epochs=6, batch_size=64, lr=1e-2, rng=0, record=Recorder(n=4))
    rec = h.recording
    assert rec.epochs[0] == 0 and rec.epochs[-1] == 6 and len(rec.epochs) == len(rec.layers)
    last = rec.layers[-1]
    assert [p.d for p in last] == [24, 70] and last[0].n == data.x_train.shape[0]
    np.testing.assert_array_equal(last[1].unpack(), model.activations(data.x_train)[1])
    assert last[1].words.nbytes == data.x_train.shape[0] * 2 * 8  # 70 bits -> 2 words
    assert rec.metrics[-1]["test_acc"] == pytest.approx(h.test_acc[-1])
    path = rec.save(str(tmp_path / "run.npz"))
    back = load_recording(path)
    assert back.epochs == rec.epochs and back.header["rng"] == 0
    assert back.header["config"]["widths"] == [12, 24, 70] and "numba" in back.header["versions"]
    for s in range(len(rec.epochs)):
        for a, b in zip(rec.layers[s], back.layers[s], strict=True):
            np.testing.assert_array_equal(a.words, b.words)
    np.testing.assert_array_equal(back.labels, rec.labels)


@pytest.mark.parametrize("call,err,match", [
    (lambda: BinaryMLP([64, 0], 10), ValueError, "widths"),
    (lambda: BinaryMLP([64], 10), ValueError, "widths"),
    (lambda: BinaryMLP("abc", 10), TypeError, "widths"),
    (lambda: BinaryMLP([4, 4], 1), ValueError, "n_classes"),
    (lambda: BinaryMLP([4, 4], 2, dropout=1.0), ValueError, "dropout"),
    (lambda: BinaryMLP([4, 4], 2, dropout=-0.1), ValueError, "dropout"),
    (lambda: datasets.load("cifar"), ValueError, "name: unknown data set 'cifar'"),
    (lambda: fit(BinaryMLP([12, 4], 2), datasets.load("tishby12"), lr=0), ValueError, "lr"),
    (lambda: fit(BinaryMLP([12, 4], 2), datasets.load("tishby12"), lr=-1), ValueError, "lr"),
    (lambda: fit(BinaryMLP([12, 4], 2), datasets.load("tishby12"), epochs=0), ValueError,
     "epochs"),
    (lambda: fit(BinaryMLP([10, 4], 2), datasets.load("tishby12")), ValueError, "12 features"),
    (lambda: fit(BinaryMLP([12, 4], 2), datasets.load("tishby12"), lr_schedule="exp"),
     ValueError, "lr_schedule"),
    (lambda: fit(BinaryMLP([12, 4], 2), datasets.load("tishby12"), patience=3), ValueError,
     "patience"),
    (lambda: BinaryMLP([3, 4], 2).predict(np.full((2, 3), np.nan)), ValueError, "NaN"),
    (lambda: BinaryMLP([3, 4], 2).predict(np.zeros((2, 5))), ValueError, r"shape \(n, 3\)"),
])
def test_bad_configuration(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_batch_norm_needs_two_samples_and_stats_update():
    model = BinaryMLP([3, 4], 2, rng=0)
    before = model.buffers["mean1"].copy()
    model.forward(np.random.default_rng(0).random((8, 3)), train=True)
    assert not np.array_equal(before, model.buffers["mean1"])
    assert math.isfinite(model.evaluate(np.zeros((1, 3)), np.array([0]))[0])


def test_backward_into_a_reused_gradient_buffer_matches_a_fresh_one():
    model = BinaryMLP([12, 16, 8], n_classes=3, rng=1)
    rng = np.random.default_rng(2)
    x, y = rng.random((20, 12)).astype(np.float32), rng.integers(0, 3, 20)
    _, cache = model.forward(x, train=True)
    loss, fresh = model.backward(cache, y)
    out = model.new_gradients()
    out.flat[:] = np.nan  # every entry must be overwritten
    loss_out, reused = model.backward(cache, y, out=out)
    assert reused is out and loss_out == loss
    for k in fresh:
        np.testing.assert_array_equal(reused[k], fresh[k], err_msg=k)


def test_backward_rejects_gradients_of_another_model():
    a, b = BinaryMLP([4, 6], n_classes=2, rng=0), BinaryMLP([4, 6], n_classes=2, rng=1)
    x = np.zeros((3, 4), np.float32)
    _, cache = a.forward(x, train=True)
    with pytest.raises(ValueError, match="out: expected gradients from this model"):
        a.backward(cache, np.array([0, 1, 0]), out=b.new_gradients())


def test_adam_one_call_equals_the_per_parameter_path():
    rng = np.random.default_rng(3)
    x, y = rng.random((16, 10)).astype(np.float32), rng.integers(0, 3, 16)
    models = [BinaryMLP([10, 12, 8], n_classes=3, rng=5) for _ in range(2)]
    flat_opt = Adam(models[0].params, 0.05, weight_decay=0.1,
                    flat=models[0].flat_parameters())
    dict_opt = Adam(models[1].params, 0.05, weight_decay=0.1)
    for _ in range(3):
        for model, opt in zip(models, (flat_opt, dict_opt), strict=True):
            _, cache = model.forward(x, train=True)
            _, grads = model.backward(cache, y)
            opt.step(model.params, grads if opt is flat_opt else dict(grads))
    for k in models[0].params:
        np.testing.assert_array_equal(models[0].params[k], models[1].params[k], err_msg=k)


def test_saved_model_reloads_bit_identical(tmp_path):
    data = datasets.load("digits", rng=0)
    model = BinaryMLP([64, 40, 30], n_classes=10, dropout=0.1, rng=3)
    fit(model, data, epochs=2, batch_size=64, lr=1e-2, rng=1)
    back = BinaryMLP.load(model.save(tmp_path / "model.npz"))
    assert back.get_config() == model.get_config()
    np.testing.assert_array_equal(back.predict(data.x_test), model.predict(data.x_test))
    np.testing.assert_array_equal(back.forward(data.x_test)[0], model.forward(data.x_test)[0])
    for a, b in zip(back.activations(data.x_train), model.activations(data.x_train),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert BinaryMLP.from_config(model.get_config()).widths == [64, 40, 30]


def test_files_that_are_not_archives_are_named(tmp_path):
    (tmp_path / "garbage.npz").write_bytes(b"not an archive at all")
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "empty.npz").write_bytes(b"")
    for name in ("garbage.npz", "array.npy", "empty.npz"):
        with pytest.raises(ValueError, match="not a saved mi_regimes model") as err:
            BinaryMLP.load(tmp_path / name)
        assert "allow_pickle" not in str(err.value)
        with pytest.raises(ValueError, match="not a mi_regimes recording"):
            load_recording(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        BinaryMLP.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("key, value, match", [
    ("param/W1", lambda v: np.full_like(v, np.nan), "param W1 holds non-finite"),
    ("param/b_out", lambda v: np.where(np.arange(v.size) == 0, np.inf, v), "b_out holds non"),
    ("buffer/var1", lambda v: -v, "buffer var1 holds negative variances"),
    ("param/gamma1", lambda v: v.astype(np.int64), "non-float values"),
    ("param/W2", None, "no param W2; the file is incomplete"),
])
def test_damaged_model_files_are_refused(tmp_path, key, value, match):
    # NaN weights loaded and predicted class 0 for every input; a missing array raised
    # a bare KeyError
    model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
    saved = dict(np.load(model.save(tmp_path / "model.npz")))
    if value is None:
        del saved[key]
    else:
        saved[key] = value(saved[key])
    np.savez(tmp_path / "damaged.npz", **saved)
    with pytest.raises(ValueError, match=match):
        BinaryMLP.load(tmp_path / "damaged.npz")


def _damage(folder, change):
    import json

    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 6, 4], n_classes=2, rng=0)
    history = fit(model, data, epochs=3, batch_size=256, rng=0,
                  record=Recorder(epochs=[0, 1, 2, 3]), progress=False)
    saved = dict(np.load(history.recording.save(folder / "rec.npz")))
    header = json.loads(str(saved["header"]))
    change(saved, header)
    saved["header"] = np.array(json.dumps(header))
    np.savez(folder / "damaged.npz", **saved)
    return folder / "damaged.npz"


@pytest.mark.parametrize("change, match", [
    # each raised a bare KeyError, a broadcasting error in the plane, or (the last)
    # loaded one snapshot short without a word
    (lambda z, h: z.pop("train/s0/l0"), "set 'train' holds 7 layer snapshots, but 4 epochs"),
    (lambda z, h: z.__setitem__("train/labels", z["train/labels"][:-5]),
     "set 'train', epoch 0, layer 1: 3276 rows for 3271 labels"),
    (lambda z, h: h.pop("widths"), r"damaged mi_regimes recording \(KeyError: 'widths'\)"),
    (lambda z, h: z.__setitem__("epochs", z["epochs"][:-1]),
     "holds 8 layer snapshots, but 3 epochs x 2 layers"),
])
def test_damaged_recordings_are_refused(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        load_recording(_damage(tmp_path, change))


def test_train_step_without_an_optimizer_changes_nothing():
    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 6], n_classes=2, rng=0)
    params = model.flat_parameters()[0].copy()
    stats = model.flat_statistics().copy()
    with pytest.raises(TypeError, match="optimizer: expected an optimizer with a step"):
        train_step(model, data.x_train[:64], data.y_train[:64], None)
    np.testing.assert_array_equal(model.flat_parameters()[0], params)
    np.testing.assert_array_equal(model.flat_statistics(), stats)
    with pytest.raises(TypeError, match="data: expected a Dataset, got tuple.*Dataset\\("):
        fit(model, (data.x_train, data.y_train), epochs=1)


def test_unknown_versions_are_refused(tmp_path):
    import json

    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 6], n_classes=2, rng=0)
    rec = fit(model, data, epochs=2, record=Recorder(n_snapshots=2)).recording
    path = rec.save(tmp_path / "rec.npz")
    with np.load(path) as f:
        arrays = dict(f)
    for version in (1, 3):
        header = json.loads(str(arrays["header"]))
        header["version"] = version
        np.savez(tmp_path / "old.npz", **{**arrays, "header": np.array(json.dumps(header))})
        with pytest.raises(ValueError, match=f"recording format version {version} is not"):
            load_recording(tmp_path / "old.npz")
    np.savez(tmp_path / "v0.npz", epochs=np.arange(3), labels=np.zeros(3))  # no header
    with pytest.raises(ValueError, match="not a mi_regimes recording"):
        load_recording(tmp_path / "v0.npz")
    saved = model.save(tmp_path / "m.npz")
    with np.load(saved) as f:
        arrays = dict(f)
    header = json.loads(str(arrays["header"]))
    header["version"] = 9
    np.savez(tmp_path / "m9.npz", **{**arrays, "header": np.array(json.dumps(header))})
    with pytest.raises(ValueError, match="version 9 is not supported"):
        BinaryMLP.load(tmp_path / "m9.npz")


def test_fit_is_train_step_in_a_loop():
    from mi_regimes.bnn import train_step

    data = datasets.load("tishby12", rng=0)
    a, b = BinaryMLP([12, 10, 5], n_classes=2, rng=2), BinaryMLP([12, 10, 5], 2, rng=2)
    h = fit(a, data, epochs=1, batch_size=256, lr=1e-2, rng=5, lr_schedule="constant")
    # the epoch's wall time is kept, outside the run's (reproducible) metrics
    assert len(h.epoch_seconds) == 1 and 0 < h.epoch_seconds[0] < 60
    assert "epoch_seconds" not in h.as_dict()
    shuffle_seed = np.random.SeedSequence(5).spawn(3)[0]
    order = np.random.default_rng(shuffle_seed).permutation(data.y_train.size)
    opt = Adam(b.params, 1e-2, flat=b.flat_parameters())
    for start in range(0, order.size - 1, 256):
        idx = order[start:start + 256]
        train_step(b, data.x_train[idx], data.y_train[idx], opt)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)
    with pytest.raises(ValueError, match="yb: labels must lie in 0..1"):
        train_step(b, data.x_train[:4], np.array([0, 1, 2, 0]), opt)


def test_recorder_keeps_clean_and_noisy_accuracy_and_test_inputs():
    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 8], n_classes=2, rng=0)
    x_all, y_all = datasets.tishby12()
    h = fit(model, data, epochs=3, label_noise=0.3, rng=0,
            record=Recorder(n_snapshots=3, extra={"population": (x_all, y_all)}))
    rec = h.recording
    assert set(rec.sets) == {"train", "test", "population"}
    train = rec.sets["train"]
    np.testing.assert_array_equal(train.labels, data.y_train)
    assert np.mean(train.noisy_labels != train.labels) == pytest.approx(0.3, abs=1e-3)
    last = rec.metrics[-1]
    acc_clean = np.mean(model.predict(data.x_train) == data.y_train)
    acc_noisy = np.mean(model.predict(data.x_train) == train.noisy_labels)
    assert last["train_acc"] == pytest.approx(acc_clean)
    assert last["train_acc_noisy"] == pytest.approx(acc_noisy)
    assert h.train_acc[-1] == pytest.approx(acc_clean)
    assert rec.sets["population"].snapshots[-1][0].n == 4096
    assert rec.sets["test"].snapshots[-1][0].n == data.x_test.shape[0]


def test_without_label_noise_the_noisy_metrics_are_the_clean_ones():
    # the fit computes them once: both columns must still hold the clean values
    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 8], n_classes=2, rng=0)
    h = fit(model, data, epochs=2, rng=0, record=Recorder(epochs=[0, 1, 2]))
    assert h.recording.sets["train"].noisy_labels is None
    assert h.train_loss_noisy == h.train_loss and h.train_acc_noisy == h.train_acc
    loss, acc = model.evaluate(data.x_train, data.y_train)
    assert h.train_loss[-1] == pytest.approx(loss) and h.train_acc[-1] == pytest.approx(acc)
    for m in h.recording.metrics:
        assert (m["train_loss_noisy"], m["train_acc_noisy"]) == (m["train_loss"],
                                                                 m["train_acc"])


def test_infer_without_validation_matches_infer_on_checked_inputs():
    data = datasets.load("digits", rng=0)
    model = BinaryMLP([64, 32, 16], n_classes=10, rng=0)
    x = model.check_inputs(data.x_test)
    logits, layers = model.infer(data.x_test)
    logits_fast, layers_fast = model.infer(x, validate=False)
    np.testing.assert_array_equal(logits, logits_fast)
    for a, b in zip(layers, layers_fast, strict=True):
        np.testing.assert_array_equal(a.words, b.words)
        assert (a.n, a.d) == (b.n, b.d)


def test_recorder_refuses_requests_it_would_drop_silently():
    # an empty epoch list recorded nothing; epochs past the fit's last were dropped
    # without a word; Recorder(n=0) named n_snapshots, which the caller had not typed
    data = datasets.load("tishby12", rng=0)
    with pytest.raises(ValueError, match="epochs: empty, so nothing would be recorded"):
        Recorder(epochs=[])
    with pytest.raises(ValueError, match=r"n: at least 2, since epoch 0"):
        Recorder(n=0)
    model = BinaryMLP([12, 6], n_classes=2, rng=0)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=r"record: epochs \[7, 10\] come after the last "
                                         r"epoch, 5; ask for epochs 0\.\.5"):
        fit(model, data, 5, 256, rng=0, record=Recorder(epochs=[0, 7, 10]))
    for k, v in model.params.items():  # refused before training
        np.testing.assert_array_equal(v, before[k])
    history = fit(model, data, 5, 256, rng=0, record=Recorder(epochs=[5, 0, 0]))
    assert history.recording.epochs == [0, 5]


def test_fit_names_the_class_count_to_build():
    with pytest.raises(ValueError, match="data: digits has 10 classes but the model has 2; "
                                         "build it with n_classes=10"):
        fit(BinaryMLP([64, 6], n_classes=2, rng=0), datasets.load("digits", rng=0), 1, 64)


def test_save_to_a_folder_is_refused_by_name_and_leaves_nothing(tmp_path):
    # os.replace raised IsADirectoryError naming the temporary file, not the argument
    model = BinaryMLP([4, 3], n_classes=2, rng=0)
    with pytest.raises(IsADirectoryError, match=f"{tmp_path}: is a folder; give the name"):
        model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []
