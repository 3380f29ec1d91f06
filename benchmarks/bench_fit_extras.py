"""What a fit costs beyond its epochs: forward-only work, the recording, memory, accuracy.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_fit_extras.py [PART ...]

1. Forward-only (evaluation, recording, predict) on wide layers: ``BinaryMLP.infer`` on the
   training inputs vs the PyTorch peer's eval forward (benchmarks/torch_bnn.py), median of
   repeats, when torch is installed.
2. Recording overhead: a 300-epoch tishby12 fit with a 100-snapshot Recorder vs none.
3. Recording size: mnist5k 784-1024x3 over 100 snapshots of the training inputs (bits).
4. Peak memory of a fit (max RSS of a fresh process), and that it does not grow per epoch.
5. Test accuracy at equal epochs and settings, ours vs the PyTorch peer (small networks),
   over several seeds and both a constant and a cosine learning rate.

6. Wide layers (4096 units) and batch sizes 32 to 1024: time per epoch and memory.

7. The float floor: the step's float products alone, against the inner loop.

PARTs: forward, recording, size, memory, accuracy, wide, floor (default: all).

``--conditions quiet,busy,two`` runs the parts asked in each condition: quiet; with one
core kept busy by a spinning process this script starts and stops; and as two copies of
the script running at once (each prints its own lines; in the forward part the two
start each timed block together).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_fit import _spin  # noqa: E402
from timing import median_time  # noqa: E402

from mi_regimes.bnn import BinaryMLP, Recorder, datasets, fit  # noqa: E402

try:
    import torch_bnn
except ImportError:
    torch_bnn = None


_BARRIER = None  # set in each process of the two-at-once condition


def _together() -> None:
    """In the two-at-once condition, start the next timed block with the other process,
    so that each copy's ours overlaps the other's ours and its PyTorch the other's."""
    if _BARRIER is not None:
        _BARRIER.wait()


def forward_only() -> None:
    """``infer`` (every binary layer kept, packed) vs the PyTorch peer's eval forward.

    With real-valued inputs the first layer is a float product for both, the same
    multiply-adds in BLAS; the binary layers after it are where ours can be faster. For
    mnist5k 784-1024x3 that first product is 3.2 of the peer's 11.6 G multiply-adds, so
    even free binary layers give at most 11.6 / 3.2 = 3.6x at equal float speed. Hence
    also: the same network on binarised inputs (sign(x - 0.5); the peer is handed the ±1
    inputs ready-made), and one wide binary layer alone.
    """
    print("1. forward-only over the training inputs (eval mode, every binary layer kept)")
    cases = (("digits", [64, 1024, 1024], False), ("mnist5k", [784, 1024, 1024, 1024], False),
             ("mnist5k", [784, 1024, 1024, 1024], True), ("one layer", [1024, 1024], True))
    for name, widths, binary in cases:
        if name == "one layer":  # 1024 -> 1024 on N = 4000 random ±1 inputs (and 10 outputs)
            x = np.where(np.random.default_rng(0).random((4000, 1024)) < 0.5, 0.0, 1.0)
            x, n_classes = x.astype(np.float32), 10
        else:
            data = datasets.load(name, rng=0)
            x, n_classes = data.x_train, data.n_classes
        model = BinaryMLP(widths, n_classes=n_classes, rng=0, binarize_input=binary)
        x = model.check_inputs(x)
        model.infer(x)  # warm-up (compilation)
        _together()
        ours = median_time(lambda m=model, x=x: m.infer(x), 9)
        label = f"{name} {'-'.join(map(str, widths))}{' binary in' if binary else ''}"
        line = f"  {label:38s} N={x.shape[0]}: ours {ours * 1e3:7.1f} ms"
        if torch_bnn is not None:
            peer, _ = torch_bnn.make(widths, n_classes)
            ready = np.where(x >= model.input_threshold, 1.0, -1.0) if binary else x
            xt = torch_bnn.torch.from_numpy(np.ascontiguousarray(ready, np.float32))
            torch_bnn.forward_only(peer, xt)
            _together()
            theirs = median_time(lambda p=peer, xt=xt: torch_bnn.forward_only(p, xt), 9)
            line += f"   torch {theirs * 1e3:7.1f} ms   ratio {theirs / ours:5.2f}x (target >= 3x)"
        print(line, flush=True)


def recording_overhead() -> None:
    print("2. recording overhead, tishby12 12-10-7-5-4, 300 epochs, batch 256")
    data = datasets.load("tishby12", rng=0)
    out = {}
    for label, record in (("no recording", None), ("100 snapshots", "yes")):
        times = []
        for rep in range(3):
            model = BinaryMLP([12, 10, 7, 5, 4], n_classes=2, rng=rep)
            start = time.perf_counter()
            fit(model, data, 300, 256, rng=rep,
                record=Recorder(n_snapshots=100) if record else None)
            times.append(time.perf_counter() - start)
        out[label] = statistics.median(times)
        print(f"  {label:14s} {out[label]:6.2f} s (median of 3)", flush=True)
    print(f"  overhead {100 * (out['100 snapshots'] / out['no recording'] - 1):+.1f} % "
          "(target <= 20 %)")


def recording_size() -> None:
    print("3. recording size, mnist5k 784-1024x3, 100 snapshots of the training inputs")
    n = datasets.load("mnist5k", rng=0).y_train.size
    words = 3 * ((1024 + 63) // 64)
    raw = 100 * n * words * 8
    print(f"  N = {n}: {raw / 2**20:.1f} MiB packed (bits); as bytes it would be "
          f"{raw * 8 / 2**20:.0f} MiB, as float32 {raw * 32 / 2**20:.0f} MiB")


def memory() -> None:
    print("4. peak memory of a fit (fresh process, max RSS)")
    code = ("import resource, json, sys; from mi_regimes.bnn import *; "
            "d = datasets.load(sys.argv[1], rng=0); w = json.loads(sys.argv[2]); "
            "m = BinaryMLP(w, n_classes=d.n_classes, rng=0); "
            "fit(m, d, int(sys.argv[3]), 128, record=Recorder(n_snapshots=5)); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    for name, widths in (("mnist5k", [784, 1024, 1024, 1024]),):
        rss = {}
        for epochs in (2, 6):
            res = subprocess.run([sys.executable, "-c", code, name, json.dumps(widths),
                                  str(epochs)], capture_output=True, text=True, check=True)
            rss[epochs] = int(res.stdout.strip().splitlines()[-1]) / 1024
        print(f"  {name} {'-'.join(map(str, widths))}: {rss[2]:.0f} MiB after 2 epochs, "
              f"{rss[6]:.0f} MiB after 6 (5 snapshots each)")


def wide() -> None:
    print("6. wide layers and batch sizes 32-1024: ms per fit epoch (evaluation of every epoch "
          "included), max RSS of a fresh process after 2 and 5 epochs (two snapshots each, so "
          "a growth would be the fit's)")
    code = ("import resource, json, sys, statistics; from mi_regimes.bnn import *; "
            "d = datasets.load(sys.argv[1], rng=0); w = json.loads(sys.argv[2]); "
            "m = BinaryMLP(w, n_classes=d.n_classes, rng=0); "
            "h = fit(m, d, int(sys.argv[3]), int(sys.argv[4]), "
            "record=Recorder(epochs=[0, int(sys.argv[3])])); "
            "print(statistics.median(h.epoch_seconds[1:] or h.epoch_seconds), "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    for name, widths, batch in (("digits", [64, 4096, 4096], 32),
                                ("digits", [64, 4096, 4096], 1024),
                                ("mnist5k", [784, 4096, 4096], 1024),
                                ("mnist5k", [784, 1024, 1024, 1024], 32)):
        out = {}
        for epochs in (2, 5):
            res = subprocess.run([sys.executable, "-c", code, name, json.dumps(widths),
                                  str(epochs), str(batch)], capture_output=True, text=True,
                                 check=True)
            seconds, rss = res.stdout.split()
            out[epochs] = (float(seconds), int(rss) / 1024)
        print(f"  {name} {'-'.join(map(str, widths))} b{batch}: {out[5][0] * 1e3:8.1f} ms/epoch, "
              f"{out[2][1]:.0f} MiB after 2 epochs, {out[5][1]:.0f} MiB after 5", flush=True)


def float_floor() -> None:
    print("7. the float floor: a step's float products alone (NumPy, one BLAS thread, the "
          "step's shapes and layouts) per epoch, against the whole inner loop (one thread)")
    from threadpoolctl import threadpool_limits

    from mi_regimes.bnn import Adam, train_step
    from mi_regimes.bnn.threads import use_threads

    rng = np.random.default_rng(0)
    for name, widths, batch in (("digits", [64, 256, 256], 64),
                                ("digits", [64, 1024, 1024], 256),
                                ("mnist5k", [784, 1024, 1024, 1024], 128)):
        data = datasets.load(name, rng=0)
        n = data.y_train.size
        steps = len([s for s in range(0, n - 1, batch) if min(n, s + batch) - s >= 2])
        dims = [*widths, data.n_classes]
        # (m, k, n, a transposed, b transposed) of each product, as the step calls them
        shapes = [(batch, widths[0], widths[1], False, True)]  # first layer, float inputs
        shapes += [(dims[-1], batch, dims[-2], True, False),  # output layer's gradients
                   (batch, dims[-1], dims[-2], False, False)]
        for i in range(len(widths) - 1, 0, -1):
            shapes.append((widths[i], batch, widths[i - 1], True, False))  # weight gradient
            if i > 1:
                shapes.append((batch, widths[i], widths[i - 1], False, False))  # input gradient
        ops = []
        for m, k, p, ta, tb in shapes:
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
            b = rng.standard_normal((p, k) if tb else (k, p)).astype(np.float32)
            ops.append((a.T if ta else a, b.T if tb else b, np.empty((m, p), np.float32)))

        def products(ops=ops):
            for a, b, out in ops:
                np.matmul(a, b, out=out)

        with threadpool_limits(1, user_api="blas"):
            floor = median_time(products, 15) * steps
        model = BinaryMLP(widths, n_classes=data.n_classes, rng=0)
        x, y = model.check_inputs(data.x_train), data.y_train
        opt = Adam(model.params, 1e-2, flat=model.flat_parameters())
        grads = model.new_gradients()

        def inner(model=model, x=x, y=y, opt=opt, grads=grads, batch=batch):
            for s in range(0, x.shape[0] - 1, batch):
                if min(x.shape[0], s + batch) - s >= 2:
                    train_step(model, x[s:s + batch], y[s:s + batch], opt, grads=grads,
                               validate=False)

        with use_threads(1):
            loop = median_time(inner, 5)
        macs = sum(m * k * p for m, k, p, _, _ in shapes)
        rate = macs * steps / floor / 1e9
        print(f"  {name} {'-'.join(map(str, widths))} b{batch}: {macs / 1e6:.1f} M multiply-adds "
              f"per step, floor {floor * 1e3:.1f} ms/epoch ({rate:.1f} G/s), inner loop "
              f"{loop * 1e3:.1f} ms = {loop / floor:.2f}x the floor", flush=True)


def accuracy(seeds: int = 5) -> None:
    if torch_bnn is None:
        print("5. accuracy vs torch: skipped (torch absent)")
        return
    from mi_regimes.bnn.optim import learning_rate

    print(f"5. test accuracy at equal epochs and settings (Adam 0.01, same widths, batch and "
          f"schedule), {seeds} seeds each: median [min, max], seconds per run")
    for name, widths, batch, epochs in (("tishby12", [12, 10, 7, 5, 4], 256, 100),
                                        ("digits", [64, 256, 256], 64, 30)):
        data = datasets.load(name, rng=0)
        x, y, xt, yt = torch_bnn.tensors(data)
        for schedule in ("constant", "cosine"):
            ours, theirs, t_ours, t_theirs = [], [], [], []
            for seed in range(seeds):
                model = BinaryMLP(widths, n_classes=data.n_classes, rng=seed)
                start = time.perf_counter()
                ours.append(fit(model, data, epochs, batch, 1e-2, rng=seed,
                                lr_schedule=schedule).test_acc[-1])
                t_ours.append(time.perf_counter() - start)
                peer, opt = torch_bnn.make(widths, data.n_classes, seed=seed)
                rng = np.random.default_rng(seed)
                start = time.perf_counter()
                for e in range(epochs):
                    for group in opt.param_groups:
                        group["lr"] = learning_rate(schedule, 1e-2, e, epochs)
                    acc = torch_bnn.epoch(peer, opt, x, y, xt, yt, batch, rng)
                theirs.append(acc)
                t_theirs.append(time.perf_counter() - start)
            print(f"  {name} {'-'.join(map(str, widths))} b{batch}, {epochs} epochs, {schedule}: "
                  f"ours {statistics.median(ours):.3f} [{min(ours):.3f}, {max(ours):.3f}] "
                  f"in {statistics.median(t_ours):.2f} s, torch {statistics.median(theirs):.3f} "
                  f"[{min(theirs):.3f}, {max(theirs):.3f}] in {statistics.median(t_theirs):.2f} s "
                  f"({statistics.median(t_theirs) / statistics.median(t_ours):.1f}x)", flush=True)


PARTS = {"forward": forward_only, "recording": recording_overhead, "size": recording_size,
         "memory": memory, "accuracy": accuracy, "wide": wide, "floor": float_floor}


class _MarkedLines:
    """A text stream that writes whole lines, each starting with a mark: the two copies
    share a terminal, and a line written in pieces would interleave with the other's."""

    def __init__(self, stream, mark: str) -> None:
        self.stream, self.mark, self.pending = stream, mark, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        if lines:
            self.stream.write("".join(f"{self.mark}{line}\n" for line in lines))
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _copy(names: list[str], barrier, k: int) -> None:
    """One of the two copies: the parts, its lines marked [k]."""
    global _BARRIER
    _BARRIER = barrier
    sys.stdout = _MarkedLines(sys.stdout, f"  [{k}] ")
    for name in names:
        PARTS[name]()


def run_in_condition(names: list[str], condition: str) -> None:
    """Run the parts ``names`` quiet, with one core busy, or as two processes at once."""
    print(f"== {condition}", flush=True)
    if condition == "two":  # fresh interpreters (spawn), joined at each timed block
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=_copy, args=(names, barrier, k)) for k in (1, 2)]
        for proc in procs:
            proc.start()
        for k, proc in enumerate(procs, 1):
            proc.join()
            if proc.exitcode:
                print(f"  [{k}] FAILED with exit code {proc.exitcode} (its error above)")
        return
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,)) if condition == "busy" else None
    if spinner:
        spinner.start()
    try:
        for name in names:
            PARTS[name]()
    finally:
        if spinner:
            stop.set()
            spinner.join()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="*", default=[],
                    help=f"parts to run, of {', '.join(PARTS)} (default: all)")
    ap.add_argument("--conditions", default="quiet",
                    help="comma-separated, of quiet, busy, two (default: quiet)")
    args = ap.parse_args()
    for part in args.parts:
        if part not in PARTS:
            ap.error(f"part {part!r} unknown; use one of {', '.join(PARTS)}")
    conditions = args.conditions.split(",")
    for condition in conditions:
        if condition not in ("quiet", "busy", "two"):
            ap.error(f"--conditions: unknown condition {condition!r}; use quiet, busy, two")
    for condition in conditions:
        run_in_condition(args.parts or list(PARTS), condition)
