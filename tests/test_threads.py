"""Thread control of fits: the tuner's choices, and results independent of threads."""

import numba
import numpy as np
import pytest
from blas_threads import numpy_blas_threads

from mi_regimes.bnn import BinaryMLP, Recorder, datasets, fit, products
from mi_regimes.bnn.products import matmul, single_blas
from mi_regimes.bnn.threads import RECHECK, SMALL_WORK, ThreadTuner, thread_budget, use_threads


def test_small_products_stay_on_one_thread():
    assert ThreadTuner(2, SMALL_WORK - 1).choices == (1,)
    assert ThreadTuner(1, 10 * SMALL_WORK).choices == (1,)
    assert ThreadTuner(4, SMALL_WORK, fixed=True).choices == (4,)
    assert 1 <= thread_budget() <= numba.config.NUMBA_NUM_THREADS


def test_tuner_tries_both_then_keeps_the_faster_and_rechecks():
    tuner = ThreadTuner(2, SMALL_WORK)
    assert tuner.next_threads() == 2
    tuner.report(2, 1.0)
    assert tuner.next_threads() == 1  # the untried setting next
    tuner.report(1, 0.5)
    for _ in range(RECHECK):  # one thread was faster: it stays until the recheck
        assert tuner.next_threads() == 1
        tuner.report(1, 0.5)
    assert tuner.next_threads() == 2  # the recheck tries the budget again
    tuner.report(2, 0.3)  # the machine got quieter: the budget wins now
    assert tuner.next_threads() == 2


def test_tuner_reacts_when_the_load_changes():
    tuner = ThreadTuner(2, SMALL_WORK)
    tuner.report(tuner.next_threads(), 0.3)
    tuner.report(tuner.next_threads(), 0.5)
    assert tuner.next_threads() == 2
    tuner.report(2, 1.2)  # a core became busy: 2 threads now 4x slower
    assert tuner.next_threads() == 1  # switches at once, without waiting for the recheck


def test_use_threads_restores_and_blas_is_single_inside_the_model():
    before = numba.get_num_threads()
    blas_before = numpy_blas_threads()
    with use_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    seen = []

    @single_blas
    def probe():
        seen.extend(numpy_blas_threads())

    probe()
    assert seen and all(t == 1 for t in seen)
    assert numpy_blas_threads() == blas_before


@pytest.mark.parametrize("shape", [(4096, 64, 1024), (300, 2000, 17), (3, 5, 7)])
@pytest.mark.parametrize("split_work", [1 << 16, 1 << 30])
def test_split_product_equals_numpy_and_ignores_threads(shape, split_work, monkeypatch):
    monkeypatch.setattr(products, "SPLIT_WORK", split_work)
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m)).astype(np.float32).T  # a transposed view, as d.T
    b = rng.standard_normal((k, n)).astype(np.float32)
    results = []
    for t in (1, 2):
        with use_threads(t):
            results.append(single_blas(matmul)(a, b))
    assert np.array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], a @ b, rtol=1e-4, atol=1e-4)


def _wide_fit(threads):
    data = datasets.load("digits", rng=0)
    model = BinaryMLP([64, 1024, 1024], n_classes=10, rng=0)
    history = fit(model, data, 2, 256, rng=0, record=Recorder(epochs=[0, 2]), threads=threads)
    return ({k: v.copy() for k, v in model.params.items()},
            history.recording.sets["train"].snapshots[-1], history.train_loss)


@pytest.mark.parametrize("split_work", [1 << 16, None])
def test_fit_results_do_not_depend_on_threads(split_work, monkeypatch):
    # wide enough that the parallel XNOR kernels run with 2 threads; with a small
    # SPLIT_WORK every float product is cut into blocks spread over the threads too
    if split_work is not None:
        monkeypatch.setattr(products, "SPLIT_WORK", split_work)
    params, layers, loss = _wide_fit(1)
    for threads in (2, None):
        other_params, other_layers, other_loss = _wide_fit(threads)
        for k, v in other_params.items():
            assert np.array_equal(v, params[k]), (threads, k)
        assert all(np.array_equal(a.words, b.words)
                   for a, b in zip(other_layers, layers, strict=True))
        assert other_loss == loss


def _wide_model():
    return BinaryMLP([64, 1024, 1024], n_classes=10, rng=0)


def test_repeated_evaluations_pick_their_threads_by_timing():
    data = datasets.load("digits", rng=0)
    model = _wide_model()
    x = model.check_inputs(data.x_train)
    first = model.infer(x)
    for _ in range(3):
        logits, layers = model.infer(x)
        np.testing.assert_array_equal(logits, first[0])  # threads never change a result
        for a, b in zip(layers, first[1], strict=True):
            np.testing.assert_array_equal(a.words, b.words)
    model.predict(data.x_test)
    tuners = model.__dict__["_evaluation_tuners"]
    assert set(tuners) == {x.shape[0], data.x_test.shape[0]}  # one per input size
    tuner = tuners[x.shape[0]]
    if thread_budget() > 1:  # 1438 x 1024 x 1024 is far above SMALL_WORK: both timed
        assert tuner.choices == (thread_budget(), 1) and set(tuner.best) == {thread_budget(), 1}
    else:
        assert tuner.choices == (1,)


def test_a_chosen_thread_budget_is_not_tuned_over():
    data = datasets.load("digits", rng=0)
    model = _wide_model()
    with use_threads(1):
        with_one = model.infer(data.x_train)
        assert numba.get_num_threads() == 1
    assert "_evaluation_tuners" not in model.__dict__
    np.testing.assert_array_equal(model.infer(data.x_train)[0], with_one[0])
    # a fit times its epochs (evaluation included) itself: no evaluation tuner of its own
    fitted = _wide_model()
    fit(fitted, data, 1, 256, record=Recorder(epochs=[0, 1]))
    assert "_evaluation_tuners" not in fitted.__dict__


def test_tuner_ignores_its_warmup_reports():
    tuner = ThreadTuner(2, SMALL_WORK, warmup=1)
    assert tuner.next_threads() == 2
    tuner.report(2, 9.0)  # a first call: fresh buffers, compilation
    assert tuner.best == {} and tuner.next_threads() == 2
    tuner.report(2, 1.0)
    assert tuner.next_threads() == 1
    tuner.report(1, 1.5)
    assert tuner.next_threads() == 2 and tuner.best == {2: 1.0, 1: 1.5}


def _in_thread(function):
    import threading

    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", function()))
    thread.start()
    thread.join()
    return box["value"]


def test_one_blas_thread_holds_on_any_thread():
    # OpenBLAS ignored openblas_set_num_threads from a thread other than the one that set
    # the count last: inside the block such a thread's products ran on two threads (a
    # weight gradient's shape, whose last bits depend on BLAS's threads)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    d = rng.standard_normal((64, 256)).astype(np.float32)
    a = np.sign(rng.standard_normal((64, 256))).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        one_thread = d.T @ a
    with products.one_blas_thread():  # the main thread sets the count (and sets it back)
        pass
    before = numpy_blas_threads()

    def inside():
        with products.one_blas_thread():
            return d.T @ a

    np.testing.assert_array_equal(_in_thread(inside), one_thread)
    assert numpy_blas_threads() == before


def test_fits_on_threads_give_the_main_threads_bits():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    data = datasets.load("digits", rng=0)

    def run(seed):
        model = BinaryMLP([64, 256, 256], n_classes=10, rng=seed)
        fit(model, data, epochs=2, batch_size=64, rng=seed, progress=False)
        return model.flat_parameters()[0].copy()

    with threadpool_limits(limits=1, user_api="blas"):
        pass
    alone = [run(seed) for seed in range(3)]
    assert np.array_equal(_in_thread(lambda: run(0)), alone[0])
    for _ in range(2):  # at once: one thread's exit must not lift another's limit
        with ThreadPoolExecutor(3) as pool:
            together = list(pool.map(run, range(3)))
        for got, expected in zip(together, alone, strict=True):
            np.testing.assert_array_equal(got, expected)
