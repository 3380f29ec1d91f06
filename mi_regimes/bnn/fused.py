"""The training step compiled as one Numba function: no Python between the kernels.

A small network's step is almost all overhead when written in Python: tishby12
(12-10-7-5-4) does ~60 k multiply-adds per step, less than a microsecond of arithmetic,
yet :meth:`BinaryMLP.forward` and :meth:`BinaryMLP.backward` make about 30 calls to
NumPy and Numba, each paying its dispatch, and a step took ~300 µs. Here the same kernels
(:mod:`mi_regimes.bnn.ops`, :mod:`mi_regimes.bnn.kernels`) run in the same order from one
compiled function, and the float products call the very BLAS routine ``numpy.matmul``
calls, with its arguments (:mod:`mi_regimes.bnn._cblas`): the step's results are the
Python step's bit for bit (tests/test_fused.py), so which path ran never shows in a fit.

The compiled step covers the common case; the Python step stays for the rest: dropout
(its mask comes from a NumPy generator), a width or input size of 1 (NumPy then takes its
gemv path, not gemm), float products large enough to be split over threads, XNOR products
large enough for the parallel kernel when more than one thread is allowed (the compiled
step runs on one), parameters or batch-norm statistics replaced by other arrays, and a
BLAS that could not be matched.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from . import products
from ._cblas import mm_nn, mm_nt, mm_tn, sgemm_address
from .kernels import _sign_pack_rows, _xnor_rows, threaded
from .ops import (
    bn_sign_backward,
    bn_sign_forward,
    mask_weight_grad,
    output_logits,
    sign_weights,
    softmax_xent,
)

__all__ = ["fused_step"]


@nb.njit(cache=True)
def _view(flat, offset, rows, cols):
    return flat[offset:offset + rows * cols].reshape((rows, cols))


@nb.njit(cache=True, error_model="numpy")
def _step(x, y, params, grads, stats, widths, offsets, out_offsets, n_classes,
          binary_input, threshold, eps, momentum, address, ilp64):
    """Forward (batch statistics), straight-through backward; returns the mean loss.

    ``offsets[l]`` = where W, γ, β of layer l start in ``params`` (and ``grads``) and
    where its running mean and variance start in ``stats``.
    """
    b = x.shape[0]
    # checked before anything is written: compiled code reads and writes unchecked
    if x.shape[1] != widths[0] or y.shape[0] != b:
        raise ValueError("xb, yb: expected (B, n_inputs) inputs and B labels")
    for i in range(b):
        if y[i] < 0 or y[i] >= n_classes:
            raise ValueError("yb: labels must lie in 0 .. n_classes - 1")
    n_layers = widths.size - 1
    acts = [np.empty((b, widths[i]), np.float32) for i in range(n_layers + 1)]
    bits = [np.empty((b, (widths[i] + 63) // 64), np.uint64) for i in range(n_layers + 1)]
    signs = [np.empty((widths[i + 1], widths[i]), np.float32) for i in range(n_layers)]
    xhats = [np.empty((b, widths[i + 1]), np.float32) for i in range(n_layers)]
    zs = [np.empty((b, widths[i + 1]), np.float32) for i in range(n_layers)]
    inv_stds = [np.empty(widths[i + 1], np.float32) for i in range(n_layers)]
    outside = np.zeros(n_layers, np.bool_)
    if binary_input:  # as binary_sign(x - threshold) and sign_pack of the same
        shifted = np.empty_like(x)
        for i in range(b):
            for j in range(x.shape[1]):
                shifted[i, j] = x[i, j] - threshold
                acts[0][i, j] = np.float32(1.0) if shifted[i, j] >= 0 else np.float32(-1.0)
        _sign_pack_rows(shifted, bits[0], 0, b)
    else:
        acts[0] = x
    for i in range(n_layers):
        d_in, d = widths[i], widths[i + 1]
        w = _view(params, offsets[i, 0], d, d_in)
        w_bits = np.empty((d, (d_in + 63) // 64), np.uint64)
        outside[i] = sign_weights(w, signs[i], w_bits)
        pre = np.empty((b, d), np.float32)
        if i > 0 or binary_input:
            _xnor_rows(bits[i], None, np.ascontiguousarray(w_bits.T), d_in, pre, 0, b)
        else:
            mm_nt(address, ilp64, acts[0], signs[0], pre)
        o_g, o_b, o_m, o_v = offsets[i, 1], offsets[i, 2], offsets[i, 3], offsets[i, 4]
        bn_sign_forward(pre, params[o_g:o_g + d], params[o_b:o_b + d], eps, True, momentum,
                        stats[o_m:o_m + d], stats[o_v:o_v + d], xhats[i], zs[i],
                        acts[i + 1], bits[i + 1], inv_stds[i])
    d_last = widths[n_layers]
    w_out = _view(params, out_offsets[0], n_classes, d_last)
    b_out = params[out_offsets[1]:out_offsets[1] + n_classes]
    logits = np.empty((b, n_classes), np.float32)
    output_logits(acts[n_layers], w_out, b_out, logits)

    dlogits = np.empty_like(logits)
    loss = softmax_xent(logits, y, dlogits, grads[out_offsets[1]:out_offsets[1] + n_classes])
    mm_tn(address, ilp64, dlogits, acts[n_layers], _view(grads, out_offsets[0], n_classes,
                                                         d_last))
    da = np.empty((b, d_last), np.float32)
    mm_nn(address, ilp64, dlogits, w_out, da)
    for i in range(n_layers - 1, -1, -1):
        d_in, d = widths[i], widths[i + 1]
        o_g, o_b = offsets[i, 1], offsets[i, 2]
        dpre = np.empty((b, d), np.float32)
        bn_sign_backward(da, zs[i], xhats[i], inv_stds[i], params[o_g:o_g + d],
                         grads[o_g:o_g + d], grads[o_b:o_b + d], dpre)
        grad_w = _view(grads, offsets[i, 0], d, d_in)
        mm_tn(address, ilp64, dpre, acts[i], grad_w)
        if outside[i]:
            mask_weight_grad(grad_w, _view(params, offsets[i, 0], d, d_in))
        if i > 0:
            da = np.empty((b, d_in), np.float32)
            mm_nn(address, ilp64, dpre, signs[i], da)
    return loss


class _Plan:
    """What the compiled step needs of a model, built once per model."""

    def __init__(self, model, params_flat: np.ndarray, stats_flat: np.ndarray) -> None:
        layout, stats_layout = model._layout, model._stats_layout
        self.params_flat, self.stats_flat = params_flat, stats_flat
        self.widths = np.asarray(model.widths, np.int64)
        self.offsets = np.array(
            [[layout[w][0], layout[g][0], layout[b][0], stats_layout[m][0],
              stats_layout[v][0]] for w, g, b, m, v in model._names], np.int64)
        self.out_offsets = np.array([layout["W_out"][0], layout["b_out"][0]], np.int64)
        self.threshold = np.float32(model.input_threshold)
        w = model.widths
        # per row of the batch: the largest float product, the largest XNOR product
        self.float_work = model.largest_product
        self.xnor_work = max(w[i + 1] * ((w[i] + 63) // 64) for i in range(len(w) - 1))
        # NumPy takes its gemv or dot path for a dimension of 1, not gemm (dropout can
        # change after the plan is built, so fused_step checks it at every call)
        self.usable = min([*w, model.n_classes]) >= 2 and sgemm_address()[0] != 0


def fused_step(model, xb: np.ndarray, yb: np.ndarray, grads) -> float | None:
    """Forward and backward of one training step in one compiled call.

    ``xb`` is a validated ``float32`` batch, ``yb`` its ``int64`` labels, ``grads`` from
    ``model.new_gradients()`` (overwritten). Returns the batch's mean cross-entropy, or
    None when this model or batch needs the Python step (nothing is changed then).
    Call inside :func:`mi_regimes.bnn.products.one_blas_thread`.
    """
    flat = model.flat_parameters()
    stats = model.flat_statistics()
    if flat is None or stats is None or getattr(grads, "params_flat", None) is not flat[0]:
        return None
    plan = model.__dict__.get("_fused_plan")
    if (plan is None or plan.params_flat is not flat[0] or plan.stats_flat is not stats
            or plan.threshold != np.float32(model.input_threshold)):
        plan = model.__dict__["_fused_plan"] = _Plan(model, flat[0], stats)
    b = xb.shape[0]
    if (not plan.usable or model.dropout > 0 or b < 2 or b * plan.float_work >= products.SPLIT_WORK
            or threaded(b * plan.xnor_work)):
        return None  # the Python step: dropout, gemv shapes, or products it spreads
    address, ilp64 = sgemm_address()
    # eps and momentum stay float64, as the Python step passes them to the same kernels
    # C-contiguous and writable whatever arrived (a read-only batch failed to compile:
    # the step keeps x in a list of writable arrays), and so one compiled signature
    x, y = np.require(xb, np.float32, ["C", "W"]), np.require(yb, np.int64, ["C", "W"])
    return float(_step(x, y, flat[0], grads.flat, stats, plan.widths, plan.offsets,
                       plan.out_offsets, model.n_classes, model.binarize_input, plan.threshold,
                       float(model.eps), float(model.momentum), address, ilp64))
