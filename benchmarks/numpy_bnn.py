"""A plain-NumPy float32 implementation of the same binary MLP, as the speed peer.

Idiomatic vectorised NumPy: np.sign-style binarisation and float matmuls (BLAS) for every
layer, batch norm with the closed-form backward, Adam with clipping. Same maths as
mi_regimes.bnn (checked by bench_bnn.py: identical predictions after a shared epoch).
"""

from __future__ import annotations

import numpy as np


def sign(v):
    return np.where(v >= 0, np.float32(1), np.float32(-1))


class NumpyBNN:
    def __init__(self, params: dict, buffers: dict, n_layers: int, lr: float,
                 momentum: float = 0.1, eps: float = 1e-5):
        self.p = {k: v.copy() for k, v in params.items()}
        self.buf = {k: v.copy() for k, v in buffers.items()}
        self.n_layers, self.lr, self.momentum, self.eps = n_layers, lr, momentum, eps
        self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.t = 0

    def step(self, x, y):
        b = x.shape[0]
        a, saved = x, []
        for layer in range(1, self.n_layers + 1):
            ws = sign(self.p[f"W{layer}"])
            pre = a @ ws.T
            mu, var = pre.mean(0), pre.var(0)
            self.buf[f"mean{layer}"] = (1 - self.momentum) * self.buf[f"mean{layer}"] + \
                self.momentum * mu
            self.buf[f"var{layer}"] = (1 - self.momentum) * self.buf[f"var{layer}"] + \
                self.momentum * var
            inv = 1 / np.sqrt(var + self.eps)
            xhat = (pre - mu) * inv
            z = self.p[f"gamma{layer}"] * xhat + self.p[f"beta{layer}"]
            saved.append((a, ws, xhat, inv, z))
            a = sign(z)
        logits = a @ self.p["W_out"].T + self.p["b_out"]
        e = np.exp(logits - logits.max(1, keepdims=True))
        d = e / e.sum(1, keepdims=True)
        d[np.arange(b), y] -= 1
        d /= b
        g = {"W_out": d.T @ a, "b_out": d.sum(0)}
        da = d @ self.p["W_out"]
        for layer in range(self.n_layers, 0, -1):
            a_in, ws, xhat, inv, z = saved[layer - 1]
            dz = da * (np.abs(z) <= 1)
            g[f"gamma{layer}"] = (dz * xhat).sum(0)
            g[f"beta{layer}"] = dz.sum(0)
            dx = dz * self.p[f"gamma{layer}"]
            dpre = inv / b * (b * dx - dx.sum(0) - xhat * (dx * xhat).sum(0))
            g[f"W{layer}"] = (dpre.T @ a_in) * (np.abs(self.p[f"W{layer}"]) <= 1)
            da = dpre @ ws
        self.t += 1
        for k, gk in g.items():
            self.m[k] = 0.9 * self.m[k] + 0.1 * gk
            self.v[k] = 0.999 * self.v[k] + 0.001 * gk * gk
            upd = self.lr * (self.m[k] / (1 - 0.9**self.t)) / (
                np.sqrt(self.v[k] / (1 - 0.999**self.t)) + 1e-8)
            self.p[k] -= upd.astype(np.float32)
            if k.startswith("W") and k != "W_out":
                np.clip(self.p[k], -1, 1, out=self.p[k])

    def forward_eval(self, x):
        """Eval-mode logits and every binary layer's ±1 activations."""
        a, layers = x, []
        for layer in range(1, self.n_layers + 1):
            pre = a @ sign(self.p[f"W{layer}"]).T
            z = (self.p[f"gamma{layer}"] * (pre - self.buf[f"mean{layer}"])
                 / np.sqrt(self.buf[f"var{layer}"] + self.eps) + self.p[f"beta{layer}"])
            a = sign(z)
            layers.append(a)
        return a @ self.p["W_out"].T + self.p["b_out"], layers

    def predict(self, x):
        return np.argmax(self.forward_eval(x)[0], axis=1)

    def epoch(self, x, y, x_test, y_test, batch, rng) -> float:
        """Shuffled steps plus what ``fit`` does every epoch: loss and accuracy on the
        training and test inputs, every binary layer packed to bits; returns test acc."""
        order = rng.permutation(x.shape[0])
        for s in range(0, x.shape[0] - 1, batch):
            idx = order[s:s + batch]
            if idx.size >= 2:
                self.step(x[idx], y[idx])
        acc = 0.0
        for inputs, labels in ((x, y), (x_test, y_test)):
            logits, layers = self.forward_eval(inputs)
            for t in layers:  # the recording: bits, not bytes
                np.packbits(t > 0, axis=1)
            shifted = logits - logits.max(1, keepdims=True)
            _loss = -(shifted[np.arange(labels.size), labels]
                      - np.log(np.exp(shifted).sum(1))).mean()
            acc = float((logits.argmax(1) == labels).mean())
        return acc
