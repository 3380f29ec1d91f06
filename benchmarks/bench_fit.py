"""Whole-fit speed: ``fit`` per epoch, quiet, with a core kept busy, and two fits at once.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_fit.py \
        [--quick] [--repeats 3]

(the two OpenBLAS variables this machine may set are unset for this command only.)

Per network, median ms per epoch of ``mi_regimes.bnn.fit`` *including* its per-epoch
evaluation (train and test loss and accuracy) and a recording of every binary layer at
every epoch (the worst case: a 100-snapshot schedule records fewer), next to

* the inner loop alone (the training steps of one epoch on one thread, no evaluation,
  no recording);
* ``fit`` with the threads fixed at the budget (``threads=2``), the pre-tuner behaviour;
* the plain-NumPy float trainer of benchmarks/numpy_bnn.py (same maths, float32 BLAS on
  NumPy's default threads), doing the same per-epoch evaluation and recording;
* a PyTorch CPU binary MLP, when torch is installed (it is an optional benchmark
  dependency, never a package one; the column says "absent" otherwise).

Each in three conditions: quiet; one core kept busy by a spinning process this script
starts and stops; two fits at once (two processes, each timing its own epochs). Per-epoch
times are fit's own clock (``History.epoch_seconds``), median over at least ``SECONDS`` of
epochs; every process warms up (JIT compile, reported separately) and calibrates first,
then waits, so the timed parts of two fits start together and overlap throughout (an
earlier version timed 6 epochs as the difference of two fit totals: on 5 ms epochs the
two processes barely overlapped, or overlapped with the other's compilation).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time

SECONDS = 2.0  # timed wall time per measurement (at least --epochs epochs)

CASES = {
    "tishby12 12-10-7-5-4 b256": ("tishby12", [12, 10, 7, 5, 4], 256),
    "digits 64-256-256 b64": ("digits", [64, 256, 256], 64),
    "digits 64-1024-1024 b256": ("digits", [64, 1024, 1024], 256),
    "mnist1d 40-512-512 b128": ("mnist1d", [40, 512, 512], 128),
    "mnist5k 784-1024-1024-1024 b128": ("mnist5k", [784, 1024, 1024, 1024], 128),
}


def _spin(stop) -> None:  # a busy core: another user's process
    x = 0
    while not stop.is_set():
        x += 1


def time_torch(case: str, epochs: int) -> dict:
    """Median seconds per epoch of the PyTorch peer (training + evaluation + recording)."""
    import numpy as np
    import torch_bnn

    from mi_regimes.bnn import datasets

    name, widths, batch = CASES[case]
    data = datasets.load(name, rng=0)
    model, opt = torch_bnn.make(widths, data.n_classes)
    x, y, xt, yt = torch_bnn.tensors(data)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    torch_bnn.epoch(model, opt, x, y, xt, yt, batch, rng)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    torch_bnn.epoch(model, opt, x, y, xt, yt, batch, rng)
    length = _timed_epochs(epochs, time.perf_counter() - start)
    _wait_for_start()
    times = []
    for _ in range(length):
        start = time.perf_counter()
        torch_bnn.epoch(model, opt, x, y, xt, yt, batch, rng)
        times.append(time.perf_counter() - start)
    return {"epoch_s": statistics.median(times), "compile_s": warm}


def time_numpy(case: str, epochs: int) -> dict:
    """Median seconds per epoch of the plain-NumPy float trainer (benchmarks/numpy_bnn.py)."""
    import numpy as np
    from numpy_bnn import NumpyBNN

    from mi_regimes.bnn import BinaryMLP, datasets

    name, widths, batch = CASES[case]
    data = datasets.load(name, rng=0)
    init = BinaryMLP(widths, n_classes=data.n_classes, rng=0)  # the same initial weights
    peer = NumpyBNN(init.params, init.buffers, init.n_layers, 1e-2)
    x = np.ascontiguousarray(data.x_train, np.float32)
    xt = np.ascontiguousarray(data.x_test, np.float32)
    y, yt = data.y_train.astype(np.int64), data.y_test.astype(np.int64)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    peer.epoch(x, y, xt, yt, batch, rng)
    length = _timed_epochs(epochs, time.perf_counter() - start)
    _wait_for_start()
    times = []
    for _ in range(length):
        start = time.perf_counter()
        peer.epoch(x, y, xt, yt, batch, rng)
        times.append(time.perf_counter() - start)
    return {"epoch_s": statistics.median(times), "compile_s": 0.0}


def time_fit(case: str, epochs: int, threads: int | None, inner: bool) -> dict:
    """Median seconds per epoch of fit (or of its inner loop) on one case."""
    import numpy as np

    from mi_regimes.bnn import BinaryMLP, Recorder, datasets, fit
    from mi_regimes.bnn.threads import use_threads
    from mi_regimes.bnn.training import Adam, train_step

    name, widths, batch = CASES[case]
    data = datasets.load(name, rng=0)
    model = BinaryMLP(widths, n_classes=data.n_classes, rng=0)
    if inner:
        x, y = model.check_inputs(data.x_train), data.y_train
        opt = Adam(model.params, 1e-2, flat=model.flat_parameters())
        grads = model.new_gradients()
        rng = np.random.default_rng(0)

        def epoch():
            order = rng.permutation(x.shape[0])
            for s in range(0, x.shape[0] - 1, batch):
                idx = order[s:s + batch]
                if idx.size >= 2:
                    train_step(model, x[idx], y[idx], opt, rng=rng, grads=grads,
                               validate=False)

        start = time.perf_counter()
        epoch()
        compile_s = time.perf_counter() - start
        times = []
        with use_threads(threads or 1):  # the reference: one thread, nothing else
            start = time.perf_counter()
            epoch()
            length = _timed_epochs(epochs, time.perf_counter() - start)
            _wait_for_start()
            for _ in range(length):
                start = time.perf_counter()
                epoch()
                times.append(time.perf_counter() - start)
        return {"epoch_s": statistics.median(times), "compile_s": compile_s,
                "epochs": length}
    start = time.perf_counter()
    fit(model, data, 1, batch, record=Recorder(epochs=[0, 1]), threads=threads)
    compile_s = time.perf_counter() - start
    # per-epoch times from fit's own clock (History.epoch_seconds: steps, evaluation and
    # recording); enough epochs for SECONDS of timing, so that two fits started together
    # overlap for the whole measurement
    calibrate = fit(BinaryMLP(widths, n_classes=data.n_classes, rng=0), data, 2, batch,
                    record=Recorder(epochs=[0, 1, 2]), threads=threads)
    length = _timed_epochs(epochs, min(calibrate.epoch_seconds))
    _wait_for_start()
    model = BinaryMLP(widths, n_classes=data.n_classes, rng=0)
    history = fit(model, data, length, batch, record=Recorder(epochs=list(range(length + 1))),
                  threads=threads)
    return {"epoch_s": statistics.median(history.epoch_seconds), "compile_s": compile_s,
            "epochs": length}


def _timed_epochs(epochs: int, one_epoch_s: float) -> int:
    """Epochs to time: at least ``epochs``, and enough for SECONDS of timing."""
    return max(epochs, math.ceil(SECONDS / one_epoch_s))


def _wait_for_start() -> None:
    """Tell the parent this process is warm, and wait for its go (a line on stdin)."""
    print("ready", flush=True)
    sys.stdin.readline()


def _worker(args) -> None:
    case, epochs, threads, inner = args
    if inner == "torch":
        print(json.dumps(time_torch(case, epochs)))
    elif inner == "numpy":
        print(json.dumps(time_numpy(case, epochs)))
    else:
        print(json.dumps(time_fit(case, epochs, threads, inner)))


def run_child(case, epochs, threads, inner) -> subprocess.Popen:
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys, json; sys.path.insert(0, {here!r}); import bench_fit; "
            "bench_fit._worker(json.loads(sys.argv[1]))")
    return subprocess.Popen([sys.executable, "-c", code,
                             json.dumps([case, epochs, threads, inner])],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _run_together(procs) -> list[dict]:
    """Wait until every child is warm, start their timed parts together, collect."""
    for p in procs:
        while p.stdout.readline().strip() != "ready":
            pass
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    return [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def measure(case, epochs, threads, inner, condition) -> float:
    """ms per epoch under ``condition`` (quiet, busy, two)."""
    if condition == "two":
        outs = _run_together([run_child(case, epochs, threads, inner) for _ in range(2)])
        return 1e3 * max(o["epoch_s"] for o in outs)
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,)) if condition == "busy" else None
    if spinner:
        spinner.start()
    try:
        out = _run_together([run_child(case, epochs, threads, inner)])[0]
    finally:
        if spinner:
            stop.set()
            spinner.join()
    return 1e3 * out["epoch_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6, help="timed epochs per measurement")
    ap.add_argument("--quick", action="store_true", help="the two small networks only")
    ap.add_argument("--cases", default=None, help="comma-separated case names")
    ap.add_argument("--conditions", default="quiet,busy,two",
                    help="the first is the reference of 'vs quiet'")
    ap.add_argument("--peer-conditions", default=None,
                    help="conditions that time the two peers (default: all); under "
                         "contention PyTorch runs 5-30x slower and takes most of the run")
    ap.add_argument("--repeats", type=int, default=1,
                    help="interleaved repeats of every condition; medians are printed "
                         "(this VM's run-to-run spread is up to 1.6x: see machine_noise.py)")
    args = ap.parse_args()
    cases = list(CASES)[:2] if args.quick else list(CASES)
    if args.cases:
        cases = [c for c in CASES if any(k in c for k in args.cases.split(","))]
    try:
        import torch

        torch_state = f"{torch.__version__}, {torch.get_num_threads()} threads"
        has_torch = True
    except ImportError:
        torch_state = "absent: the PyTorch column is skipped"
        has_torch = False
    print(f"torch: {torch_state}; cores: {os.cpu_count()}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    print(f"{'case':34s} {'cond':6s} {'inner':>8s} {'fit':>8s} {'fit/inner':>9s} "
          f"{'fit thr=2':>9s} {'vs quiet':>8s} {'numpy':>8s} {'numpy/fit':>9s} "
          f"{'torch':>8s} {'torch/fit':>9s}")
    conditions = args.conditions.split(",")
    peer_conditions = (args.peer_conditions or args.conditions).split(",")
    for case in cases:
        got = {c: {k: [] for k in ("inner", "tuned", "fixed", "numpy", "peer")}
               for c in conditions}
        for _ in range(args.repeats):  # interleaved: a slow spell of the VM hits every one
            for condition in conditions:
                g = got[condition]
                g["inner"].append(measure(case, args.epochs, None, True, condition))
                g["tuned"].append(measure(case, args.epochs, None, False, condition))
                g["fixed"].append(measure(case, args.epochs, 2, False, condition))
                g["numpy"].append(measure(case, args.epochs, None, "numpy", condition)
                                  if condition in peer_conditions else float("nan"))
                g["peer"].append(measure(case, args.epochs, None, "torch", condition)
                                 if has_torch and condition in peer_conditions
                                 else float("nan"))
        med = {c: {k: statistics.median(v) for k, v in g.items()} for c, g in got.items()}
        quiet = med[conditions[0]]["tuned"]
        for condition in conditions:
            m = med[condition]
            print(f"{case:34s} {condition:6s} {m['inner']:8.1f} {m['tuned']:8.1f} "
                  f"{m['tuned'] / m['inner']:9.2f} {m['fixed']:9.1f} "
                  f"{m['tuned'] / quiet:8.2f} {m['numpy']:8.1f} {m['numpy'] / m['tuned']:9.2f} "
                  f"{m['peer']:8.1f} {m['peer'] / m['tuned']:9.2f}", flush=True)


if __name__ == "__main__":
    main()
