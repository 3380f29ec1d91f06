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

from .._validation import check_choice, check_float
from .model import BinaryMLP, Gradients, _is_latent
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
    params : BinaryMLP or dict of numpy.ndarray
        The parameters to update: a model (its ``params``, updated in one kernel call
        through its flat buffer) or a dict of writable C-contiguous float32 arrays.
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
        Taken from the model when ``params`` is one.

    Raises
    ------
    TypeError, ValueError
        When an option is out of range or a parameter is not a writable C-contiguous
        float32 array (the update is written in place through a flat view).
    """

    def __init__(self, params: BinaryMLP | dict[str, np.ndarray], lr: float,
                 weight_decay: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8,
                 flat: tuple[np.ndarray, int] | None = None):
        if isinstance(params, BinaryMLP):
            params, flat = params.params, (params.flat_parameters() if flat is None else flat)
        self.lr = check_float("lr", lr, 0.0, low_open=True)
        self.weight_decay = check_float("weight_decay", weight_decay, 0.0)
        betas = tuple(betas) if isinstance(betas, list | tuple) else betas
        if not isinstance(betas, tuple) or len(betas) != 2:
            raise TypeError(f"betas: expected two numbers (b1, b2) such as (0.9, 0.999), got "
                            f"{betas!r}")
        self.b1 = check_float("betas[0]", betas[0], 0.0, 1.0, high_open=True)
        self.b2 = check_float("betas[1]", betas[1], 0.0, 1.0, high_open=True)
        self.eps = check_float("eps", eps, 0.0, low_open=True)
        _check_params(params)
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
        one_call = self._one_call(params, grads)
        # checked before anything moves: a refused step changes nothing, not even t
        checked = [] if one_call else [(k, self._checked_pair(params, k, g), g)
                                       for k, g in grads.items()]
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        if one_call:
            buffer, n_latent = self._flat
            adam_update_flat(buffer, grads.flat, self._flat_m, self._flat_v, n_latent,
                             self.lr, self.b1, self.b2, self.eps, c1, c2, self.weight_decay)
            return
        for k, p, g in checked:
            cached = self._flat_cache.get(k)
            if cached is None or cached[0] is not p:  # the caller may replace an array
                cached = self._flat_cache[k] = (p, p.reshape(-1))
            latent = self.is_latent(k)
            adam_update(cached[1], np.ascontiguousarray(g, dtype=np.float32).reshape(-1),
                        self.m[k], self.v[k], self.lr, self.b1, self.b2, self.eps, c1, c2,
                        self.weight_decay if latent else 0.0, latent)

    def _checked_pair(self, params, k: str, g) -> np.ndarray:
        """``params[k]``, after checking it and ``g`` match this optimiser's moments.

        The update kernel indexes the moments by the parameter's size without bounds
        checks, so a parameter dict of another shape must be refused here.
        """
        if k not in self.m or not isinstance(params, dict) or k not in params:
            raise ValueError(f"params: no parameter {k!r} in both this optimiser and the "
                             f"model; build the optimiser on the model it steps, "
                             f"Adam(model, lr)")
        p = params[k]
        _check_params({k: p})
        size = self.m[k].size
        if p.size != size or np.size(g) != size:
            raise ValueError(f"params: {k!r} has {p.size} entries and its gradient "
                             f"{np.size(g)}, but this optimiser was built for {size}; build "
                             f"the optimiser on the model it steps, Adam(model, lr)")
        return p


def _check_params(params) -> None:
    """Every entry a writable C-contiguous float32 array (updated through a flat view)."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a BinaryMLP or a dict of float32 arrays (such as "
                        f"model.params), got {type(params).__name__}")
    for k, p in params.items():
        if not (isinstance(p, np.ndarray) and p.dtype == np.float32
                and p.flags.c_contiguous and p.flags.writeable):
            what = (f"{type(p).__name__}" if not isinstance(p, np.ndarray) else
                    f"{p.dtype} array, C-contiguous={p.flags.c_contiguous}, "
                    f"writeable={p.flags.writeable}")
            raise TypeError(f"params: {k!r} must be a writable C-contiguous float32 array "
                            f"(updated in place), got {what}; use "
                            f"np.ascontiguousarray(p, dtype=np.float32) and keep that array")


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
