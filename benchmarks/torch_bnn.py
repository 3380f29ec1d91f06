"""The PyTorch CPU peer of ``mi_regimes.bnn``: the same binary MLP, written as PyTorch users
write it (an optional benchmark dependency; the package never imports torch).

Hidden layer: binary weights sign(W) (sign(0) = +1) with the clipped straight-through
gradient 1{|W| <= 1} on the latent weights, batch norm, sign activation with the clipped
straight-through gradient 1{|z| <= 1}; a real output layer; softmax cross-entropy; Adam.
One epoch is the training steps plus what ``fit`` does every epoch: an eval-mode pass over
the training and test inputs for loss and accuracy, keeping every binary layer's output
(packed to bits with NumPy, as a recording would store it).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class BinaryLinear(nn.Linear):
    def forward(self, x):
        return nn.functional.linear(x, _SignSTE.apply(self.weight))


class TorchBNN(nn.Module):
    def __init__(self, widths, n_classes):
        super().__init__()
        self.hidden = nn.ModuleList()
        self.norms = nn.ModuleList()
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            self.hidden.append(BinaryLinear(a, b, bias=False))
            self.norms.append(nn.BatchNorm1d(b))
        self.out = nn.Linear(widths[-1], n_classes)

    def forward(self, x, keep: bool = False):
        layers = []
        for lin, bn in zip(self.hidden, self.norms, strict=True):
            x = _SignSTE.apply(bn(lin(x)))
            if keep:
                layers.append(x)
        return self.out(x), layers


def make(widths, n_classes, lr=1e-2, seed=0):
    torch.manual_seed(seed)
    model = TorchBNN(widths, n_classes)
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def epoch(model, opt, x, y, x_test, y_test, batch, rng):
    """One training epoch plus the per-epoch evaluation and recording; returns test acc."""
    model.train()
    order = torch.from_numpy(rng.permutation(x.shape[0]))
    loss_fn = nn.CrossEntropyLoss()
    for s in range(0, x.shape[0] - 1, batch):
        idx = order[s:s + batch]
        if idx.numel() < 2:
            continue
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x[idx])
        loss_fn(logits, y[idx]).backward()
        opt.step()
        with torch.no_grad():  # latent weights clipped to [-1, 1], as ours
            for lin in model.hidden:
                lin.weight.clamp_(-1, 1)
    return evaluate(model, x, y, x_test, y_test)


@torch.no_grad()
def evaluate(model, x, y, x_test, y_test) -> float:
    model.eval()
    acc = 0.0
    for inputs, labels in ((x, y), (x_test, y_test)):
        logits, layers = model(inputs, keep=True)
        for t in layers:  # the recording: bits, not bytes
            np.packbits(t.numpy() > 0, axis=1)
        acc = float((logits.argmax(1) == labels).float().mean())
    return acc


@torch.no_grad()
def forward_only(model, x):
    model.eval()
    return model(x, keep=True)


def tensors(data):
    as_x = lambda a: torch.from_numpy(np.ascontiguousarray(a, np.float32))  # noqa: E731
    as_y = lambda a: torch.from_numpy(np.asarray(a, np.int64))  # noqa: E731
    return as_x(data.x_train), as_y(data.y_train), as_x(data.x_test), as_y(data.y_test)
