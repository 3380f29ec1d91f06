"""The trainer takes the containers users really pass, or refuses them clearly.

Lists, tuples, pandas objects, memmaps, Fortran order, read-only and strided views, other
dtypes and 1024+ columns must give exactly what the canonical float32 C array gives; bad
labels must raise (naming the argument) and change nothing. (A read-only batch once made
the compiled training step fail to compile, with a Numba typing error.)
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from mi_regimes.bnn import Adam, BinaryMLP, Recorder, datasets, fit, train_step
from mi_regimes.bnn.datasets import Dataset

DATA = datasets.load("tishby12", rng=0)
X, Y = DATA.x_train[:300], DATA.y_train[:300]


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _memmap(a, tmp_path, mode="r"):
    path = tmp_path / "x.dat"
    out = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
    out[:] = a
    out.flush()
    return np.memmap(path, dtype=a.dtype, mode=mode, shape=a.shape)


def _strided(a):
    big = np.zeros((2 * a.shape[0], a.shape[1]), a.dtype)
    big[::2] = a
    return big[::2]


X_FORMS = {
    "list": lambda a, tmp: a.tolist(),
    "tuple": lambda a, tmp: tuple(map(tuple, a.tolist())),
    "DataFrame": lambda a, tmp: pd.DataFrame(a),
    "Fortran": lambda a, tmp: np.asfortranarray(a),
    "read-only": lambda a, tmp: _read_only(a),
    "memmap read-only": lambda a, tmp: _memmap(a, tmp),
    "strided rows": lambda a, tmp: _strided(a),
    "float64": lambda a, tmp: a.astype(np.float64),
    "uint8": lambda a, tmp: a.astype(np.uint8),  # tishby12 inputs are 0/1
    "bool": lambda a, tmp: a.astype(bool),
    # np.asarray makes object arrays of these three; they must still read as numbers
    "DataFrame nullable Int64": lambda a, tmp: pd.DataFrame(a).astype("Int64"),
    "DataFrame mixed bool/float": lambda a, tmp: pd.DataFrame(
        {i: a[:, i].astype(bool) if i % 2 else a[:, i] for i in range(a.shape[1])}),
    "object array": lambda a, tmp: a.astype(object),
    "masked, nothing masked": lambda a, tmp: np.ma.masked_array(a, mask=False),
    "scipy sparse matrix": lambda a, tmp: scipy.sparse.csr_matrix(a),
}
Y_FORMS = {
    "list": lambda y: y.tolist(),
    "Series": lambda y: pd.Series(y),
    "int32": lambda y: y.astype(np.int32),
    "uint8": lambda y: y.astype(np.uint8),
    "whole floats": lambda y: y.astype(np.float64),
    "read-only": lambda y: _read_only(y),
    "column vector": lambda y: y[:, None],
    "one-column DataFrame": lambda y: pd.DataFrame({"label": y}),
    # np.asarray refused these three (object dtype) or read them as other values
    "object array": lambda y: y.astype(object),
    "nullable Int64 Series": lambda y: pd.Series(y).astype("Int64"),
    "masked, nothing masked": lambda y: np.ma.masked_array(y, mask=False),
    "big-endian": lambda y: y.astype(">i4"),
    "categorical Series": lambda y: pd.Series(y).astype("category"),
}


@pytest.fixture(scope="module")
def trained():
    model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
    fit(model, DATA, 2, 64)
    return model


@pytest.mark.parametrize("form", X_FORMS)
def test_inference_is_the_same_for_every_input_form(form, trained, tmp_path):
    x = X_FORMS[form](X, tmp_path)
    logits, layers = trained.infer(X)
    got_logits, got_layers = trained.infer(x)
    np.testing.assert_array_equal(got_logits, logits)
    for got, want in zip(got_layers, layers, strict=True):
        np.testing.assert_array_equal(got.words, want.words)
    np.testing.assert_array_equal(trained.predict(x), trained.predict(X))
    assert trained.evaluate(x, Y) == trained.evaluate(X, Y)


@pytest.mark.parametrize("form", Y_FORMS)
def test_evaluate_takes_every_label_form(form, trained):
    assert trained.evaluate(X, Y_FORMS[form](Y)) == trained.evaluate(X, Y)


def _one_step(xb, yb):
    model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
    opt = Adam(model.params, 1e-2, flat=model.flat_parameters())
    loss = train_step(model, xb, yb, opt)
    return loss, model.flat_parameters()[0].copy(), model.flat_statistics().copy()


@pytest.mark.parametrize("x_form", X_FORMS)
@pytest.mark.parametrize("y_form", ["list", "Series", "whole floats", "read-only"])
def test_train_step_is_the_same_for_every_batch_form(x_form, y_form, tmp_path):
    xb, yb = X[:64], Y[:64]
    expected = _one_step(xb, yb)
    got = _one_step(X_FORMS[x_form](xb, tmp_path), Y_FORMS[y_form](yb))
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], expected[2])


@pytest.mark.parametrize("labels, err, match", [
    (np.full(64, 0.5), ValueError, "yb: float labels must be whole numbers"),
    (np.r_[np.zeros(63), np.nan], ValueError, "yb: float labels must be whole numbers"),
    (np.array(["a", "b"] * 32), TypeError, "yb: expected integer class labels"),
    (np.r_[np.zeros(63, int), 2], ValueError, r"yb: labels must lie in 0\.\.1"),
    (np.zeros(63, int), ValueError, "yb: expected 64 labels"),
    # masked entries were read as the values under the mask, silently
    (np.ma.masked_array(Y[:64], mask=np.arange(64) == 3), ValueError,
     "yb: masked array with masked entries"),
    (iter(Y[:64].tolist()), TypeError, r"yb: a list_iterator \(an iterator\)"),
])
def test_bad_batch_labels_raise_and_change_nothing(labels, err, match):
    model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
    opt = Adam(model.params, 1e-2, flat=model.flat_parameters())
    params = model.flat_parameters()[0].copy()
    stats = model.flat_statistics().copy()
    with pytest.raises(err, match=match):
        train_step(model, X[:64], labels, opt)
    np.testing.assert_array_equal(model.flat_parameters()[0], params)
    np.testing.assert_array_equal(model.flat_statistics(), stats)


def test_adam_built_on_the_model_steps_like_the_flat_buffer_form():
    a, b = (BinaryMLP([12, 10, 7], n_classes=2, rng=0) for _ in range(2))
    opt_a = Adam(a, 1e-2, weight_decay=1e-3)
    opt_b = Adam(b.params, 1e-2, weight_decay=1e-3, flat=b.flat_parameters())
    assert opt_a._flat is not None  # the one-call path
    for _ in range(3):
        assert train_step(a, X[:64], Y[:64], opt_a) == train_step(b, X[:64], Y[:64], opt_b)
    np.testing.assert_array_equal(a.flat_parameters()[0], b.flat_parameters()[0])


def test_adam_of_another_model_is_refused_and_changes_nothing():
    # the update kernel does not bounds-check: stepping a wider model with moments sized
    # for a narrower one wrote past them and corrupted the heap
    small = BinaryMLP([12, 10, 10], n_classes=2, rng=0)
    wide = BinaryMLP([12, 300, 300], n_classes=2, rng=0)
    for opt in (Adam(small.params, 1e-2), Adam(small, 1e-2)):
        params = wide.flat_parameters()[0].copy()
        with pytest.raises(ValueError, match="params: 'W1' has 3600 entries .* built for 120"):
            train_step(wide, X[:64], Y[:64], opt)
        np.testing.assert_array_equal(wide.flat_parameters()[0], params)
        assert opt.t == 0
    other = BinaryMLP([12, 10, 10, 5], n_classes=2, rng=0)
    with pytest.raises(ValueError, match="params: no parameter 'W3'"):
        Adam(small.params, 1e-2).step(other.params, other.new_gradients())


@pytest.mark.parametrize("kwargs, err, match", [
    ({"lr": -1.0}, ValueError, r"lr: must be a finite number in \(0, inf\)"),
    ({"lr": float("nan")}, ValueError, "lr: must be a finite number"),
    ({"lr": "0.1"}, TypeError, "lr: expected a number"),
    ({"lr": 0.1, "weight_decay": -1e-3}, ValueError, "weight_decay: must be"),
    ({"lr": 0.1, "betas": (0.9, 1.0)}, ValueError, r"betas\[1\]: must be"),
    ({"lr": 0.1, "betas": 0.9}, TypeError, "betas: expected two numbers"),
    ({"lr": 0.1, "eps": 0.0}, ValueError, "eps: must be"),
])
def test_adam_options_are_checked(kwargs, err, match):
    with pytest.raises(err, match=match):
        Adam(BinaryMLP([12, 10], n_classes=2, rng=0), **kwargs)


@pytest.mark.parametrize("params, match", [
    ([np.zeros(3, np.float32)], "params: expected a BinaryMLP or a dict"),
    ({"W1": np.zeros(3)}, "params: 'W1' must be a writable C-contiguous float32 array"),
    ({"W1": np.zeros((4, 4), np.float32).T}, "C-contiguous=False"),
    ({"W1": np.zeros(3, np.float32).tolist()}, "got list"),
])
def test_adam_parameters_must_be_updatable_in_place(params, match):
    with pytest.raises(TypeError, match=match):
        Adam(params, 0.1)
    ro = np.zeros(3, np.float32)
    ro.setflags(write=False)
    with pytest.raises(TypeError, match="writeable=False"):
        Adam({"W1": ro}, 0.1)


def test_evaluate_refuses_fractional_labels_instead_of_truncating(trained):
    with pytest.raises(ValueError, match="y: float labels must be whole numbers"):
        trained.evaluate(X, Y + 0.5)


@pytest.mark.parametrize("form", ["list", "DataFrame", "memmap read-only", "read-only",
                                  "uint8"])
def test_fit_on_a_dataset_built_from_any_container(form, tmp_path):
    def dataset(x, y):
        return Dataset(x_train=x, y_train=y, x_test=x, y_test=y, name="mine", n_classes=2)

    def trained_params(data):
        model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
        history = fit(model, data, 2, 64, record=Recorder(n_snapshots=2))
        return model.flat_parameters()[0], history

    mine = dataset(X_FORMS[form](X, tmp_path), Y.tolist() if form == "list" else Y)
    assert mine.x_train.dtype == np.float32 and mine.y_train.dtype == np.int64
    got, got_history = trained_params(mine)
    expected, history = trained_params(dataset(X, Y))
    np.testing.assert_array_equal(got, expected)
    assert got_history.test_acc == history.test_acc


@pytest.mark.parametrize("change, err, match", [
    ({"x_test": np.zeros((5, 11))}, ValueError, r"x_test: expected shape \(n, 12\)"),
    ({"x_train": np.full((300, 12), np.nan)}, ValueError, "x_train: contains NaN"),
    ({"y_train": np.full(300, 2)}, ValueError, r"y_train: labels must lie in 0\.\.1"),
    ({"y_train": np.full(300, 0.5)}, ValueError, "y_train: float labels must be whole"),
    ({"y_test": np.zeros(299, int)}, ValueError, "y_test: expected 300 labels"),
    ({"x_train": np.array([["a"] * 12] * 300)}, TypeError, "x_train: expected numeric"),
    ({"x_train": pd.DataFrame([["a"] * 12] * 300)}, TypeError, "x_train: expected numeric"),
    ({"x_train": pd.DataFrame(X).astype("Float64").mask(pd.DataFrame(np.eye(300, 12) > 0))},
     ValueError, "x_train: contains NaN"),
    ({"x_test": np.ma.masked_array(X, mask=np.eye(300, 12) > 0)}, ValueError,
     "x_test: masked array with masked entries"),
    ({"y_train": Y[:, None].repeat(2, axis=1)}, ValueError, "y_train: expected 300 labels"),
    ({"y_test": np.ma.masked_array(Y, mask=Y == 0)}, ValueError,
     "y_test: masked array with masked entries"),
    ({"n_classes": 1}, ValueError, "n_classes"),
    # float64 beyond float32's range: NumPy's overflow warning came first
    ({"x_train": np.full((300, 12), 1e300)}, ValueError, "x_train: contains NaN or inf "
                                                         r"\(or values beyond float32\)"),
])
def test_bad_datasets_are_refused_with_the_argument_named(change, err, match):
    import warnings

    fields = {"x_train": X, "y_train": Y, "x_test": X, "y_test": Y, "name": "mine",
              "n_classes": 2, **change}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the message alone, no warning before it
        with pytest.raises(err, match=match):
            Dataset(**fields)


@pytest.mark.parametrize("binarize_input", [False, True])
def test_more_than_1024_input_columns(binarize_input):
    rng = np.random.default_rng(0)
    x = rng.random((64, 1030)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = BinaryMLP([1030, 1100, 70], n_classes=3, rng=0, binarize_input=binarize_input)
    logits, layers = model.infer(x)
    assert [p.words.shape for p in layers] == [(64, 18), (64, 2)]
    np.testing.assert_array_equal(model.infer(np.asfortranarray(x))[0], logits)
    np.testing.assert_array_equal(model.infer(pd.DataFrame(x))[0], logits)
    opt = Adam(model.params, 1e-2, flat=model.flat_parameters())
    loss = train_step(model, np.asfortranarray(x), y.tolist(), opt)
    assert np.isfinite(loss) and 0 < loss < 10


def test_recorder_extra_sets_take_any_container():
    def recorded(extra):
        model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
        history = fit(model, DATA, 2, 64, record=Recorder(n_snapshots=2, extra=extra))
        return history.recording.sets["all"]

    want = recorded({"all": (X, Y)})
    got = recorded({"all": (pd.DataFrame(X), Y.tolist())})
    np.testing.assert_array_equal(got.labels, want.labels)
    for a, b in zip(got.snapshots[-1], want.snapshots[-1], strict=True):
        np.testing.assert_array_equal(a.words, b.words)


@pytest.mark.parametrize("recorder, err, match", [
    (lambda: Recorder(extra={"all": (X, Y + 0.5)}), ValueError,
     r"record\.extra\['all'\] labels: float labels must be whole"),
    (lambda: Recorder(extra={"all": (X[:, :5], Y)}), ValueError,
     r"record\.extra\['all'\] inputs: expected shape \(n, 12\)"),
    (lambda: Recorder(extra={"all": (X, Y[:10])}), ValueError,
     r"record\.extra\['all'\] labels: expected 300 labels"),
])
def test_bad_extra_sets_are_refused_before_training(recorder, err, match):
    model = BinaryMLP([12, 10, 7], n_classes=2, rng=0)
    params = model.flat_parameters()[0].copy()
    with pytest.raises(err, match=match):
        fit(model, DATA, 2, 64, record=recorder())
    np.testing.assert_array_equal(model.flat_parameters()[0], params)


@pytest.mark.parametrize("kwargs, err, match", [
    ({"epochs": [0, 1.5]}, TypeError, "epochs: expected an integer"),
    ({"epochs": [0, -1]}, ValueError, "epochs: must be an integer"),
    ({"epochs": 5}, TypeError, "epochs: expected a sequence of epoch numbers"),
    ({"extra": {"all": X}}, ValueError, r"extra\['all'\]: expected a pair \(x, y\)"),
    # both were taken and n_snapshots (or n) dropped without a word
    ({"epochs": [0, 2], "n_snapshots": 5}, TypeError, "epochs and n_snapshots: pass one"),
    ({"epochs": [0, 2], "n": 5}, TypeError, "epochs and n: pass one"),
    ({"n": 5, "n_snapshots": 7}, TypeError, "n: the old name of n_snapshots; pass one"),
])
def test_bad_recorder_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        Recorder(**kwargs)


@pytest.mark.parametrize("widths, expected", [
    (np.array([12, 10]), [12, 10]), ((12, 10), [12, 10]), ([12.0, 10], [12, 10]),
    (np.array([12.0, 10.0]), [12, 10]), ([np.int32(12), np.uint8(10)], [12, 10]),
])
def test_widths_from_any_integer_sequence(widths, expected):
    assert BinaryMLP(widths, n_classes=2).widths == expected


@pytest.mark.parametrize("widths", [[64.5, 10], ["12", "10"], [True, 3], 12, "12,10"])
def test_widths_that_are_not_integers_are_refused(widths):
    with pytest.raises(TypeError, match="widths: expected a sequence of integers"):
        BinaryMLP(widths, n_classes=2)


def test_empty_inputs(trained):
    empty = np.zeros((0, 12), np.float32)
    assert trained.infer(empty)[0].shape == (0, 2)
    assert trained.predict(empty).shape == (0,)
    with pytest.raises(ValueError, match="x: no samples"):
        trained.evaluate(empty, [])
    with pytest.raises(ValueError, match="need at least 2 training samples"):
        Dataset(x_train=X[:1], y_train=Y[:1], x_test=X, y_test=Y, name="mine", n_classes=2)
    with pytest.raises(ValueError, match="and 1 test sample"):
        Dataset(x_train=X, y_train=Y, x_test=empty, y_test=[], name="mine", n_classes=2)
