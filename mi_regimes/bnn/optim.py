"""Optimisers and learning-rate schedules for the binary trainer.

:class:`Adam` updates latent real weights: L2 decay on them, then clipping to [-1, 1]
after every step (so the straight-through estimator's 1{|W| <= 1} stays 1 and sign
flips stay reachable). With the model's flat parameter buffer it updates everything in
one kernel call.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .._validation import check_choice
from .model import Gradients, _is_latent
from .ops import adam_update, adam_update_flat

__all__ = ["Adam", "SCHEDULES", "learning_rate"]

#: Learning-rate schedules: the peak rate at epoch 0, then ...
SCHEDULES = ("cosine", "constant", "step")


class Adam:
    """Adam (Kingma & Ba) with L2 weight decay on the latent binary weights and clipping.

    The latent weights ``W1 .. WL`` are clipped to [-1, 1] after every step, so the
    straight-through estimator's 1{|W| <= 1} stays 1 and sign flips stay reachable.

    Parameters
    ----------
    params : dict of numpy.ndarray
        The parameters to update (float32).
    lr : float
        Learning rate.
    weight_decay : float
        L2 decay of the latent weights.
    betas : tuple of float
        Decay rates of the first and second moments.
    eps : float
        Added to the root of the second moment.
    flat : tuple, optional
        ``(buffer, n_latent)`` from :meth:`BinaryMLP.flat_parameters`: then a step with
        :class:`~mi_regimes.bnn.model.Gradients` updates everything in one kernel call.
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float, weight_decay: float = 0.0,
                 betas=(0.9, 0.999), eps: float = 1e-8,
                 flat: tuple[np.ndarray, int] | None = None):
        self.lr, self.weight_decay = lr, weight_decay
        self.b1, self.b2, self.eps = betas[0], betas[1], eps
        self.t = 0
        self._flat = flat
        self._flat_m = self._flat_v = None
        self.m = {k: np.zeros(v.size, np.float32) for k, v in params.items()}
        self.v = {k: np.zeros(v.size, np.float32) for k, v in params.items()}
        if flat is not None:
            # the moments share the parameters' layout: m[k] is a view of one buffer
            buffer = flat[0]
            self._flat_m = np.zeros_like(buffer)
            self._flat_v = np.zeros_like(buffer)
            start = buffer.__array_interface__["data"][0]
            for k, p in params.items():
                o = (p.__array_interface__["data"][0] - start) // buffer.itemsize
                self.m[k] = self._flat_m[o:o + p.size]
                self.v[k] = self._flat_v[o:o + p.size]
        self._views = dict(params)  # identity of each array, to detect replacement
        self._flat_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    is_latent = staticmethod(_is_latent)

    def _one_call(self, params, grads) -> bool:
        flat = self._flat
        return (flat is not None and isinstance(grads, Gradients)
                and grads.params_flat is flat[0] and len(params) == len(self._views)
                and all(map(operator.is_, map(params.get, self._views), self._views.values())))

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``."""
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        if self._one_call(params, grads):
            buffer, n_latent = self._flat
            adam_update_flat(buffer, grads.flat, self._flat_m, self._flat_v, n_latent,
                             self.lr, self.b1, self.b2, self.eps, c1, c2, self.weight_decay)
            return
        for k, g in grads.items():
            p = params[k]
            cached = self._flat_cache.get(k)
            if cached is None or cached[0] is not p:  # the caller may replace an array
                cached = self._flat_cache[k] = (p, p.reshape(-1))
            latent = self.is_latent(k)
            adam_update(cached[1], np.ascontiguousarray(g, dtype=np.float32).reshape(-1),
                        self.m[k], self.v[k], self.lr, self.b1, self.b2, self.eps, c1, c2,
                        self.weight_decay if latent else 0.0, latent)


def learning_rate(schedule: str, lr: float, epoch: int, epochs: int) -> float:
    """The learning rate of ``epoch`` (0-based) in a run of ``epochs`` epochs.

    ``cosine`` decays from ``lr`` to 0 along half a cosine; ``constant`` keeps ``lr``;
    ``step`` divides it by 10 after each third of the run.

    Examples
    --------
    >>> learning_rate("cosine", 0.1, 5, 10)
    0.05
    """
    check_choice("lr_schedule", schedule, SCHEDULES)
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / max(epochs, 1)))
    return lr * 0.1 ** (epoch // max(1, epochs // 3))
