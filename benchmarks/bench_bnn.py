"""BNN speed, ours vs float BLAS / plain NumPy, side by side in one run.

    python benchmarks/bench_bnn.py [--repeats 31] [--epochs 7] [--blocks 5]

1. One binary layer: packed XNOR-popcount product vs float32 ``@`` (BLAS) on the same ±1
   matrices, 4096x1024 by 1024x1024 (kernel alone, and with packing both operands).
2. Evaluation's real-valued first layer, 5000x784 by ±1 1024x784: the table product
   (mi_regimes.bnn.table_product) vs float32 BLAS as the network calls it
   (products.matmul: one BLAS thread, split over ours only from 2^30 multiply-adds), on
   one thread and on two; and at the shapes of a training step's ±1 products.
3. One training epoch of digits 64-256-256-10, batch 64: mi_regimes.bnn vs the plain-NumPy
   float implementation in numpy_bnn.py (the same maths; checked to agree).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from numpy_bnn import NumpyBNN  # noqa: E402
from timing import alternating_blocks, median_time  # noqa: E402

from mi_regimes.bnn import BinaryMLP, datasets  # noqa: E402
from mi_regimes.bnn.kernels import sign_pack, xnor_matmul  # noqa: E402
from mi_regimes.bnn.ops import sign_weights  # noqa: E402
from mi_regimes.bnn.products import matmul, one_blas_thread  # noqa: E402
from mi_regimes.bnn.table_product import sign_table_matmul  # noqa: E402
from mi_regimes.bnn.threads import use_threads  # noqa: E402
from mi_regimes.bnn.training import Adam, train_step  # noqa: E402


def packed(z):
    out = np.empty((z.shape[0], (z.shape[1] + 63) // 64), np.uint64)
    sign_pack(z, out)
    return out


def real_first_layer(rng, repeats: int) -> None:
    """Part 2: the table product against BLAS on a real-input first layer."""
    x = rng.random((5000, 784), dtype=np.float32)
    w = rng.standard_normal((1024, 784)).astype(np.float32)
    w_sign, w_bits = np.empty_like(w), np.empty((1024, 13), np.uint64)
    sign_weights(w, w_sign, w_bits)
    ours, theirs = np.empty((5000, 1024), np.float32), np.empty((5000, 1024), np.float32)
    t0 = time.perf_counter()
    with use_threads(2):
        sign_table_matmul(x, w_bits, ours)
    with use_threads(1):
        sign_table_matmul(x, w_bits, ours)
    print(f"\nJIT compile / cache load of the table product: {time.perf_counter() - t0:.2f} s "
          "(excluded)")
    print("real-valued first layer 5000x784 by 1024x784 (±1), evaluation:")
    with one_blas_thread():
        for threads in (1, 2):
            with use_threads(threads):
                table = median_time(lambda: sign_table_matmul(x, w_bits, ours), repeats // 3)
                blas = median_time(lambda: matmul(x, w_sign.T, out=theirs), repeats // 3)
            print(f"  {threads} thread(s): table product {table * 1e3:7.2f} ms   float32 BLAS "
                  f"{blas * 1e3:7.2f} ms   ratio {blas / table:5.2f}x")
    exact = x.astype(np.float64) @ w_sign.T.astype(np.float64)
    print(f"  max |error| vs float64: table {np.abs(ours - exact).max():.1e}, "
          f"BLAS {np.abs(theirs - exact).max():.1e}")


def training_sign_products(rng, repeats: int) -> None:
    """Part 2b: the table product at the shapes of a training step's ±1 products.

    digits 64-256-256 at batch 64: the input gradient dpre · sign(W) (64 x 256 by ±1
    256 x 256) and the weight gradient dpreᵀ · acts (256 x 64 by ±1 acts, 64 x 256);
    and the same two at 1024 units, batch 256. Could the table's fewer operations pay for
    the 10x target on digits (issue 12)? One thread, as the step runs.
    """
    print("\n±1 products of a training step (one thread): table product vs float32 BLAS")
    for name, m, k, n in (("digits input gradient", 64, 256, 256),
                          ("digits weight gradient", 256, 64, 256),
                          ("1024-wide input gradient", 256, 1024, 1024),
                          ("1024-wide weight gradient", 1024, 256, 1024)):
        a = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((n, k)).astype(np.float32)
        w_sign, w_bits = np.empty_like(w), np.empty((n, (k + 63) // 64), np.uint64)
        sign_weights(w, w_sign, w_bits)
        ours, theirs = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
        with one_blas_thread(), use_threads(1):
            sign_table_matmul(a, w_bits, ours)
            table = median_time(lambda a=a, w_bits=w_bits, ours=ours: sign_table_matmul(
                a, w_bits, ours), repeats * 5)
            blas = median_time(lambda a=a, w_sign=w_sign, theirs=theirs: np.matmul(
                a, w_sign.T, out=theirs), repeats * 5)
        print(f"  {name:26s} {m}x{k} by {n}x{k}: table {table * 1e6:8.1f} us   BLAS "
              f"{blas * 1e6:8.1f} us   ratio {blas / table:5.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=31, help="repeats of the layer timings")
    ap.add_argument("--epochs", type=int, default=7, help="epochs per timed block")
    ap.add_argument("--blocks", type=int, default=5, help="blocks per contender")
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    a = np.where(rng.random((4096, 1024)) < 0.5, -1, 1).astype(np.float32)
    w = np.where(rng.random((1024, 1024)) < 0.5, -1, 1).astype(np.float32)
    out = np.empty((4096, 1024), np.int32)
    t0 = time.perf_counter()
    xnor_matmul(packed(a), packed(w), 1024, out)
    print(f"JIT compile / cache load of the kernels: {time.perf_counter() - t0:.2f} s (excluded)")
    # ours first: OpenBLAS threads keep spinning ~0.1 s after a call and would steal a core
    aw, ww = packed(a), packed(w)
    ours = median_time(lambda: xnor_matmul(aw, ww, 1024, out), args.repeats)
    ours_pack = median_time(lambda: xnor_matmul(packed(a), packed(w), 1024, out), args.repeats)
    blas = median_time(lambda: a @ w.T, args.repeats)
    assert np.array_equal(out, (a @ w.T).astype(np.int32)), "kernel must equal the float product"
    print("binary layer 4096x1024 by 1024x1024:")
    print(f"  xnor-popcount kernel        {ours * 1e3:8.2f} ms   float32 BLAS {blas * 1e3:8.2f} ms"
          f"   ratio {blas / ours:5.1f}x  (target >= 3x)")
    print(f"  kernel + packing both sides {ours_pack * 1e3:8.2f} ms   float32 BLAS "
          f"{blas * 1e3:8.2f} ms   ratio {blas / ours_pack:5.1f}x")

    real_first_layer(rng, args.repeats)
    training_sign_products(rng, args.repeats)

    data = datasets.load("digits", rng=0)
    n = data.x_train.shape[0]

    x_fit, y_fit = data.x_train.astype(np.float32), data.y_train.astype(np.int64)

    def our_epoch(model, opt, order):  # the inner loop of mi_regimes.bnn.fit, as it runs
        grads = model.new_gradients()
        with one_blas_thread():
            for s in range(0, n - 1, 64):
                idx = order[s:s + 64]
                train_step(model, x_fit[idx], y_fit[idx], opt, grads=grads, validate=False)

    def numpy_epoch(peer, order):
        for s in range(0, n - 1, 64):
            idx = order[s:s + 64]
            peer.step(data.x_train[idx], data.y_train[idx])

    order = np.random.default_rng(1).permutation(n)
    model = BinaryMLP([64, 256, 256], n_classes=10, rng=0)
    peer = NumpyBNN(model.params, model.buffers, 2, lr=1e-2)
    opt = Adam(model.params, 1e-2, flat=model.flat_parameters())  # as fit does
    # same maths: one shared step from identical weights gives the same weights
    first = order[:64]
    _, cache = model.forward(data.x_train[first], train=True)
    opt.step(model.params, model.backward(cache, data.y_train[first])[1])
    peer.step(data.x_train[first], data.y_train[first])
    diff = max(float(np.abs(model.params[k] - peer.p[k]).max()) for k in model.params)
    print(f"\nafter one shared step, max |weight difference| ours vs NumPy: {diff:.2e}")
    assert diff < 1e-4, "the peer must compute the same network"
    our_epoch(model, opt, order)  # warm-up of every kernel
    numpy_epoch(peer, order)
    # blocks of back-to-back epochs (a training run's steady state), ours and the peer in
    # turn so that drifts of the (virtual) machine hit both alike
    ours, theirs = alternating_blocks(lambda: our_epoch(model, opt, order),
                                      lambda: numpy_epoch(peer, order), args.epochs,
                                      args.blocks)
    print("one epoch, digits 64-256-256-10, batch 64 (23 steps):")
    print(f"  mi_regimes.bnn {ours * 1e3:8.2f} ms   plain NumPy float32 {theirs * 1e3:8.2f} ms"
          f"   ratio {theirs / ours:5.2f}x  (target >= 5x; NumPy's BLAS on every core, ours "
          "on one, as fit runs)")

    def numpy_epoch_one_thread(peer=peer, order=order):
        with one_blas_thread():
            numpy_epoch(peer, order)

    ours, theirs = alternating_blocks(lambda: our_epoch(model, opt, order),
                                      numpy_epoch_one_thread, args.epochs, args.blocks)
    print(f"  mi_regimes.bnn {ours * 1e3:8.2f} ms   plain NumPy, one BLAS thread "
          f"{theirs * 1e3:8.2f} ms   ratio {theirs / ours:5.2f}x  (equal threads)")


if __name__ == "__main__":
    main()
