"""Fused Numba kernels for the per-layer element-wise work of a training step.

NumPy spends most of a small-batch step on temporaries and call overhead, not on the
arithmetic; each kernel here does one layer's element-wise work in one pass, writing
into preallocated outputs. Matrix products stay in BLAS (float) or in the XNOR kernels.
The training kernels are serial: a batch is small and threads would fight BLAS's; only
the evaluation pass over a whole data set (:func:`bn_sign_eval`) may use threads. They use
``error_model="numpy"`` (IEEE division, no ZeroDivisionError check), without which the
division in each loop blocks vectorisation (measured: Adam 1.75 ns/element before).

These are kernels, not checked entry points: they take arrays of the shapes and dtypes
the model allocates and do not bounds-check (a mismatch reads or writes past an array).
Call them through :class:`~mi_regimes.bnn.BinaryMLP`, :class:`~mi_regimes.bnn.Adam` and
:func:`~mi_regimes.bnn.train_step`, which check what users pass.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .kernels import pack_row_bits, threaded

__all__ = ["xent_and_hits", "sign_weights", "sign_weight_bits", "bn_sign_forward", "bn_sign_eval",
           "bn_sign_backward", "output_logits", "output_layer",
           "softmax_xent",
           "adam_update", "adam_update_flat", "mask_weight_grad"]


@nb.njit(cache=True, inline="always")
def _sign_weight_row(w, i, positive, eight, out_row, w_sign, write_signs):
    """Row i's packed signs and, when ``write_signs`` (a constant at each call: the branch
    compiles away), its float ±1 signs, in the one loop that vectorises."""
    one = np.float32(1.0)
    for j in range(w.shape[1]):
        pos = w[i, j] >= 0
        if write_signs:
            w_sign[i, j] = one if pos else -one
        positive[j] = pos
    pack_row_bits(eight, out_row, w.shape[1])


@nb.njit(cache=True, error_model="numpy")
def sign_weights(w, w_sign, w_bits):
    """w_sign = sign(w) as float32 ±1 (sign(0) = +1) and its packed bits.

    Returns whether any |w| > 1, i.e. whether the latent-weight STE mask is not all 1.
    """
    positive = np.zeros(64 * w_bits.shape[1], np.uint8)
    eight = positive.view(np.uint64)
    for i in range(w.shape[0]):
        _sign_weight_row(w, i, positive, eight, w_bits[i], w_sign, True)
    flat = w.reshape(-1)
    n_outside = 0
    one = np.float32(1.0)
    for k in range(flat.shape[0]):  # a loop of its own: it vectorises, a fused one not
        n_outside += abs(flat[k]) > one
    return n_outside > 0


@nb.njit(cache=True)
def sign_weight_bits(w, w_bits):
    """The packed bits of :func:`sign_weights` alone, for evaluation's XNOR and table
    products, which never read the float signs (writing a fresh float (d, K) array cost
    0.34 ms of a 1024 x 1024 layer's evaluation, the bits alone 0.14)."""
    positive = np.zeros(64 * w_bits.shape[1], np.uint8)
    eight = positive.view(np.uint64)
    no_signs = np.empty((0, 0), np.float32)
    for i in range(w.shape[0]):
        _sign_weight_row(w, i, positive, eight, w_bits[i], no_signs, False)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _normalised(pre, i, j, mean, inv_std, gamma, beta):
    """x̂ and z = γ·x̂ + β of one element: the one arithmetic of training and evaluation
    (inlined into each loop, so each still vectorises as written out)."""
    xh = (pre[i, j] - mean[j]) * inv_std[j]
    return xh, gamma[j] * xh + beta[j]


@nb.njit(cache=True, error_model="numpy", inline="always")
def _train_element(pre, i, j, mean, inv_std, gamma, beta, xhat, z, a_sign):
    """Stores x̂, z and sign(z) of one element for the backward pass; returns z >= 0."""
    xh, zz = _normalised(pre, i, j, mean, inv_std, gamma, beta)
    xhat[i, j] = xh
    z[i, j] = zz
    pos = zz >= 0
    a_sign[i, j] = np.float32(1.0) if pos else np.float32(-1.0)
    return pos


@nb.njit(cache=True, error_model="numpy")
def bn_sign_forward(pre, gamma, beta, eps, train, momentum, run_mean, run_var,
                    xhat, z, a_sign, a_bits, inv_std):
    """Batch norm, affine, sign and packing of one layer (float32, vectorised loops).

    In training the batch mean and (biased) variance are used and the running
    statistics are updated in place; otherwise the running ones are used.
    """
    b, d = pre.shape
    mean = np.zeros(d, np.float32)
    if train:
        var = np.zeros(d, np.float32)
        for i in range(b):
            for j in range(d):
                mean[j] += pre[i, j]
        for j in range(d):
            mean[j] /= b
        for i in range(b):
            for j in range(d):
                c = pre[i, j] - mean[j]
                var[j] += c * c
        for j in range(d):
            var[j] /= b
            run_mean[j] = (1 - momentum) * run_mean[j] + momentum * mean[j]
            run_var[j] = (1 - momentum) * run_var[j] + momentum * var[j]
            inv_std[j] = 1.0 / np.sqrt(var[j] + eps)
    else:
        for j in range(d):
            mean[j] = run_mean[j]
            inv_std[j] = 1.0 / np.sqrt(run_var[j] + eps)
    if a_bits.shape[1] == 1:  # up to 64 units: build the word directly (no byte pass)
        for i in range(b):
            word = np.uint64(0)
            for j in range(d):
                pos = _train_element(pre, i, j, mean, inv_std, gamma, beta, xhat, z, a_sign)
                word |= np.uint64(pos) << np.uint64(j)
            a_bits[i, 0] = word
        return
    positive = np.zeros(64 * a_bits.shape[1], np.uint8)
    eight = positive.view(np.uint64)
    for i in range(b):
        for j in range(d):
            positive[j] = _train_element(pre, i, j, mean, inv_std, gamma, beta, xhat, z,
                                         a_sign)
        pack_row_bits(eight, a_bits[i], d)


@nb.njit(cache=True, error_model="numpy")
def _eval_rows(pre, gamma, beta, mean, inv_std, a_bits, a_sign, keep_sign, lo, hi):
    d = pre.shape[1]
    if a_bits.shape[1] == 1:  # up to 64 units: the word directly, 2-5x faster than bytes
        for i in range(lo, hi):
            word = np.uint64(0)
            for j in range(d):
                pos = _normalised(pre, i, j, mean, inv_std, gamma, beta)[1] >= 0
                word |= np.uint64(pos) << np.uint64(j)
                if keep_sign:
                    a_sign[i, j] = np.float32(1.0) if pos else np.float32(-1.0)
            a_bits[i, 0] = word
        return
    positive = np.zeros(64 * a_bits.shape[1], np.uint8)
    eight = positive.view(np.uint64)
    for i in range(lo, hi):
        for j in range(d):  # the arithmetic of bn_sign_forward, term for term
            positive[j] = _normalised(pre, i, j, mean, inv_std, gamma, beta)[1] >= 0
        # a loop of its own: with the a_sign store under a branch in the loop above,
        # LLVM left that loop scalar (measured: 1438 x 256 331 -> 133 us, 4000 x 1024
        # 4.0 -> 1.7 ms)
        if keep_sign:
            for j in range(d):
                a_sign[i, j] = np.float32(1.0) if positive[j] else np.float32(-1.0)
        pack_row_bits(eight, a_bits[i], d)


@nb.njit(cache=True, error_model="numpy")
def _eval_statistics(run_mean, run_var, eps):
    d = run_mean.shape[0]
    mean = np.empty(d, np.float32)
    inv_std = np.empty(d, np.float32)
    for j in range(d):
        mean[j] = run_mean[j]
        inv_std[j] = 1.0 / np.sqrt(run_var[j] + eps)
    return mean, inv_std


@nb.njit(cache=True, error_model="numpy")
def _bn_sign_eval_serial(pre, gamma, beta, eps, run_mean, run_var, a_bits, a_sign, keep_sign):
    mean, inv_std = _eval_statistics(run_mean, run_var, eps)
    _eval_rows(pre, gamma, beta, mean, inv_std, a_bits, a_sign, keep_sign, 0, pre.shape[0])


_EVAL_CHUNKS = 64
_NO_SIGNS = np.empty((0, 0), np.float32)


@nb.njit(cache=True, error_model="numpy", parallel=True)
def _bn_sign_eval_parallel(pre, gamma, beta, eps, run_mean, run_var, a_bits, a_sign,
                           keep_sign):
    mean, inv_std = _eval_statistics(run_mean, run_var, eps)
    n = pre.shape[0]
    step = (n + _EVAL_CHUNKS - 1) // _EVAL_CHUNKS
    for c in nb.prange(_EVAL_CHUNKS):
        _eval_rows(pre, gamma, beta, mean, inv_std, a_bits, a_sign, keep_sign,
                   min(n, c * step), min(n, (c + 1) * step))


def bn_sign_eval(pre, gamma, beta, eps, run_mean, run_var, a_bits, a_sign=None) -> None:
    """Eval-mode batch norm, affine and sign: only the packed signs (and, when
    ``a_sign`` is given, the float ±1 ones), equal bit for bit to
    :func:`bn_sign_forward` with ``train=False``.

    Evaluation needs neither x̂ nor z, and the next binary layer reads the bits only:
    writing three float arrays of (n, d) it would not read cost most of a wide layer's
    pass. Large inputs are spread over the threads (rows are independent, so the
    result does not depend on their number).
    """
    parallel = threaded(pre.size)
    # an empty array rather than None: one compiled version instead of two (~2 s each)
    keep_sign = a_sign is not None
    (_bn_sign_eval_parallel if parallel else _bn_sign_eval_serial)(
        pre, gamma, beta, eps, run_mean, run_var, a_bits,
        a_sign if keep_sign else _NO_SIGNS, keep_sign)


@nb.njit(cache=True, error_model="numpy")
def bn_sign_backward(da, z, xhat, inv_std, gamma, dgamma, dbeta, dpre):
    """Straight-through sign (1{|z| <= 1}), then the batch-norm backward.

    With dz the masked gradient and dx̂ = γ·dz, dpre = (inv_std / B)·(B·dx̂ - Σ dx̂ -
    x̂·Σ dx̂·x̂); since Σ dx̂ = γ·dβ and Σ dx̂·x̂ = γ·dγ, that is
    (γ·inv_std / B)·(B·dz - dβ - x̂·dγ).
    """
    b, d = da.shape
    for j in range(d):
        dgamma[j] = 0.0
        dbeta[j] = 0.0
    for i in range(b):
        for j in range(d):
            dz = da[i, j] if abs(z[i, j]) <= 1.0 else np.float32(0.0)
            dgamma[j] += dz * xhat[i, j]
            dbeta[j] += dz
            dpre[i, j] = dz
    scale = np.empty(d, np.float32)
    for j in range(d):
        scale[j] = gamma[j] * inv_std[j] / b
    for i in range(b):
        for j in range(d):
            dpre[i, j] = scale[j] * (b * dpre[i, j] - dbeta[j] - xhat[i, j] * dgamma[j])


@nb.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _output_rows(a, w, bias, logits, lo, hi):
    """Rows ``lo:hi`` of the output layer; the one loop of the serial and parallel drivers,
    so a row's logits do not depend on which of them ran (or on the number of threads)."""
    k = a.shape[1]
    for i in range(lo, hi):
        for o in range(w.shape[0]):
            s = np.float32(0.0)
            for t in range(k):
                s += a[i, t] * w[o, t]
            logits[i, o] = s + bias[o]


@nb.njit(cache=True, error_model="numpy")
def output_logits(a, w, bias, logits):
    """logits = a · wᵀ + bias for the real output layer (a few classes).

    Each logit is one dot product over the contiguous rows of ``a`` and ``w``; "reassoc"
    lets LLVM split it into vector lanes. For ten classes this beats a BLAS call, whose
    fixed cost dominates so thin a product (4 µs vs 6.5 µs for 64 x 256 by 256 x 10).
    """
    _output_rows(a, w, bias, logits, 0, a.shape[0])


@nb.njit(cache=True, error_model="numpy", parallel=True)
def _output_logits_parallel(a, w, bias, logits):
    n = a.shape[0]
    step = (n + _EVAL_CHUNKS - 1) // _EVAL_CHUNKS
    for c in nb.prange(_EVAL_CHUNKS):
        _output_rows(a, w, bias, logits, min(n, c * step), min(n, (c + 1) * step))


def output_layer(a, w, bias, logits) -> None:
    """:func:`output_logits`, its rows spread over the threads when there are many: the
    evaluation of a whole data set (a serial pass was 0.7-2.5 ms of a wide network's
    7-50 ms evaluation on two threads). Each row's logits are the same bit for bit."""
    parallel = threaded(a.shape[0] * a.shape[1])
    (_output_logits_parallel if parallel else output_logits)(a, w, bias, logits)


@nb.njit(cache=True, error_model="numpy")
def xent_and_hits(logits, y):
    """Summed cross-entropy (float64, stable in log space) and the number of rows whose
    first largest logit is at the label (``np.argmax``'s tie rule)."""
    b, c = logits.shape
    loss = 0.0
    hits = 0
    for i in range(b):
        top = logits[i, 0]
        best = 0
        for k in range(1, c):
            if logits[i, k] > top:
                top = logits[i, k]
                best = k
        s = 0.0
        for k in range(c):
            s += math.exp(float(logits[i, k]) - float(top))
        loss -= float(logits[i, y[i]]) - float(top) - math.log(s)
        hits += best == y[i]
    return loss, hits


@nb.njit(cache=True, error_model="numpy")
def softmax_xent(logits, y, dlogits, dbias):
    """Mean cross-entropy, its gradient (softmax - onehot) / B, and that summed over rows.

    ``dbias`` receives Σ_i dlogits[i], the gradient of the output bias. Stable in log
    space.
    """
    b, c = logits.shape
    loss = 0.0
    for i in range(b):
        top = logits[i, 0]
        for k in range(1, c):
            top = max(top, logits[i, k])
        s = 0.0
        for k in range(c):
            e = math.exp(logits[i, k] - top)
            dlogits[i, k] = e
            s += e
        loss -= logits[i, y[i]] - top - math.log(s)
        scale = 1.0 / (s * b)
        for k in range(c):
            dlogits[i, k] *= scale
        dlogits[i, y[i]] -= 1.0 / b
    for k in range(c):
        dbias[k] = 0.0
    for i in range(b):
        for k in range(c):
            dbias[k] += dlogits[i, k]
    return loss / b


@nb.njit(cache=True, error_model="numpy")
def adam_update(p, g, m, v, lr, b1, b2, eps, c1, c2, weight_decay, clip):
    """One Adam step in place on a flat float32 parameter.

    Optional L2 decay and [-1, 1] clipping. Arithmetic stays in float32 so that the loop
    vectorises.
    """
    one = np.float32(1.0)
    lr32, b1_32, b2_32 = np.float32(lr), np.float32(b1), np.float32(b2)
    eps32, wd = np.float32(eps), np.float32(weight_decay)
    inv_c1, inv_c2 = np.float32(1.0 / c1), np.float32(1.0 / c2)
    for i in range(p.size):
        gi = g[i] + wd * p[i]
        mi = b1_32 * m[i] + (one - b1_32) * gi
        vi = b2_32 * v[i] + (one - b2_32) * gi * gi
        m[i] = mi
        v[i] = vi
        x = p[i] - lr32 * (mi * inv_c1) / (np.sqrt(vi * inv_c2) + eps32)
        if clip:  # loop-invariant, so hoisted; compares and selects vectorise
            x = one if x > one else (-one if x < -one else x)
        p[i] = x


@nb.njit(cache=True, error_model="numpy")
def adam_update_flat(p, g, m, v, n_latent, lr, b1, b2, eps, c1, c2, weight_decay):
    """:func:`adam_update` of a whole model in one call: the first ``n_latent`` entries
    (latent weights) with decay and clipping, the rest without."""
    adam_update(p[:n_latent], g[:n_latent], m[:n_latent], v[:n_latent], lr, b1, b2, eps,
                c1, c2, weight_decay, True)
    adam_update(p[n_latent:], g[n_latent:], m[n_latent:], v[n_latent:], lr, b1, b2, eps,
                c1, c2, 0.0, False)


@nb.njit(cache=True, error_model="numpy")
def mask_weight_grad(grad, w):
    """Latent-weight STE in place: grad *= 1{|w| <= 1}."""
    g = grad.reshape(-1)
    v = w.reshape(-1)
    for i in range(g.size):
        if abs(v[i]) > 1.0:
            g[i] = 0.0
