"""A binary multilayer perceptron: packed XNOR-popcount forward, straight-through backward.

Architecture for ``widths = [n_in, h_1, ..., h_L]``:

    a_0 = x                      (real inputs, or sign(x - threshold) if binarize_input)
    pre_l = a_{layer-1} · sign(W_l)ᵀ    W_l latent real weights kept in [-1, 1]
    z_l = γ_l · BN(pre_l) + β_l     batch statistics in training, running ones in eval
    a_l = sign(z_l)                 sign(0) = +1; these are the recorded binary layers
    logits = a_L · W_outᵀ + b_out   a real-valued output layer; softmax cross-entropy

Every product of two binary operands runs on packed bits: dot = K - 2·popcount(a ⊕ w).
Backward uses the straight-through estimator: ∂a/∂z = 1{|z| <= 1} for activations and
∂sign(W)/∂W = 1{|W| <= 1} for latent weights (always 1 after clipping, kept explicit).
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np

from .._parallel import threads_chosen
from .._random import as_generator, renamed_seed
from .._scratch import scratch
from .._validation import check_float, check_int
from ..bits import PackedBits
from ._inputs import check_input_matrix, check_labels
from .kernels import sign_pack, xnor_matmul, xnor_matmul_masked
from .ops import (
    bn_sign_backward,
    bn_sign_eval,
    bn_sign_forward,
    mask_weight_grad,
    output_layer,
    sign_weight_bits,
    sign_weights,
    softmax_xent,
    xent_and_hits,
)
from .products import matmul, single_blas
from .table_product import sign_table_matmul, use_table
from .threads import ThreadTuner, thread_budget, use_threads

__all__ = ["BinaryMLP", "Gradients", "binary_sign", "loss_and_accuracy"]


def binary_sign(x: np.ndarray) -> np.ndarray:
    """sign with sign(0) = +1, as float32 {-1, +1}."""
    return np.where(x >= 0, np.float32(1.0), np.float32(-1.0))


def _packed_sign(z: np.ndarray) -> np.ndarray:
    out = np.empty((z.shape[0], (z.shape[1] + 63) // 64), np.uint64)
    sign_pack(np.ascontiguousarray(z), out)
    return out


def _check_widths(widths) -> list[int]:
    """Layer widths as ints; 64.5, True or "64" are refused rather than converted."""
    message = "widths: expected a sequence of integers such as [64, 256, 256]"
    if isinstance(widths, str | bytes) or not hasattr(widths, "__iter__"):
        raise TypeError(f"{message}, got {widths!r}")
    out = []
    for w in widths:
        whole_float = isinstance(w, float | np.floating) and float(w).is_integer()
        if isinstance(w, bool | np.bool_) or not (isinstance(w, numbers.Integral) or whole_float):
            raise TypeError(f"{message}, got {w!r} among them")
        out.append(int(w))
    return out


def _is_latent(name: str) -> bool:
    """True for the latent binary weights W1..WL (decayed, clipped, sign-binarised)."""
    return name.startswith("W") and name != "W_out"


def _views_of(flat: np.ndarray, layout: dict) -> dict[str, np.ndarray]:
    # the ndarray constructor is the cheapest way to a reshaped view (~0.3 us each)
    return {k: np.ndarray(shape, flat.dtype, flat, o * flat.itemsize)
            for k, (o, shape) in layout.items()}


class Gradients(dict):
    """Gradients by parameter name, all views of one buffer laid out like the model's.

    ``flat`` is that buffer; an optimiser can update every parameter from it at once.
    ``params_flat`` is the model's parameter buffer, which identifies the layout.
    """

    flat: np.ndarray
    params_flat: np.ndarray


class BinaryMLP:
    """Binary multilayer perceptron with batch norm before each sign.

    Parameters
    ----------
    widths : sequence of int
        ``[n_inputs, hidden_1, ..., hidden_L]``: input size, then the width of each
        binary hidden layer (at least one).
    n_classes : int
        Number of output classes (>= 2).
    binarize_input : bool
        If True the first layer sees sign(x - input_threshold) and runs packed too.
    input_threshold : float
        Threshold of the input binarisation.
    dropout : float
        Probability of dropping a hidden activation during training, in [0, 1).
    momentum : float
        Update rate of the batch-norm running statistics.
    rng : int, SeedSequence or numpy.random.Generator
        Randomness of the initial weights (an int is a seed; default 0).
    seed : int, optional
        Another name of ``rng`` (DESIGN.md's spelling); pass one, not both.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_regimes.bnn import BinaryMLP
    >>> model = BinaryMLP([12, 16, 8], n_classes=2, rng=0)
    >>> acts = model.activations(np.zeros((3, 12), np.float32))
    >>> [a.shape for a in acts], acts[0].dtype
    ([(3, 16), (3, 8)], dtype('uint8'))
    """

    def __init__(self, widths, n_classes: int, *, binarize_input: bool = False,
                 input_threshold: float = 0.5, dropout: float = 0.0, momentum: float = 0.1,
                 eps: float = 1e-5, rng=0, seed=None):
        rng = renamed_seed(rng, seed, "BinaryMLP", default=0)
        widths = _check_widths(widths)
        if len(widths) < 2 or any(w < 1 for w in widths):
            raise ValueError(f"widths: need [n_inputs, hidden, ...] with every width >= 1 and "
                             f"at least one hidden layer, got {widths}")
        self.n_classes = check_int("n_classes", n_classes, 2)
        check_float("dropout", dropout, 0.0, 1.0, high_open=True)
        check_float("momentum", momentum, 0.0, 1.0, low_open=True)
        self.widths = widths
        self.binarize_input = bool(binarize_input)
        self.input_threshold = float(input_threshold)
        self.dropout = float(dropout)
        self.momentum = float(momentum)
        self.eps = float(eps)
        # an int seed is kept in the configuration (a Generator cannot be)
        self.rng_seed = int(rng) if isinstance(rng, int | np.integer) else None
        rng = as_generator(rng)
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), 1):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            self.params[f"W{layer}"] = rng.uniform(-limit, limit, (fan_out, fan_in)).astype(
                np.float32)
            self.params[f"gamma{layer}"] = np.ones(fan_out, np.float32)
            self.params[f"beta{layer}"] = np.zeros(fan_out, np.float32)
            self.buffers[f"mean{layer}"] = np.zeros(fan_out, np.float32)
            self.buffers[f"var{layer}"] = np.ones(fan_out, np.float32)
        limit = math.sqrt(6.0 / (widths[-1] + self.n_classes))
        self.params["W_out"] = rng.uniform(-limit, limit, (self.n_classes, widths[-1])).astype(
            np.float32)
        self.params["b_out"] = np.zeros(self.n_classes, np.float32)
        # names of each layer's parameters and buffers, built once (the step is hot)
        self._names = [(f"W{i}", f"gamma{i}", f"beta{i}", f"mean{i}", f"var{i}")
                       for i in range(1, self.n_layers + 1)]
        self._flatten_params()
        self._flatten_statistics()

    def _flatten_statistics(self) -> None:
        # the batch-norm statistics as views of one buffer, for the compiled step
        self._stats_layout: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        for k, v in self.buffers.items():
            self._stats_layout[k] = (offset, v.shape)
            offset += v.size
        self._stats_flat = np.empty(offset, np.float32)
        self._stats_views = _views_of(self._stats_flat, self._stats_layout)
        for k, view in self._stats_views.items():
            view[...] = self.buffers[k]
            self.buffers[k] = view

    def flat_statistics(self) -> np.ndarray | None:
        """The buffer behind every batch-norm statistic, or None once one was replaced."""
        if len(self.buffers) != len(self._stats_views) or any(
                self.buffers.get(k) is not v for k, v in self._stats_views.items()):
            return None
        return self._stats_flat

    def _flatten_params(self) -> None:
        # Every parameter becomes a view of one float32 buffer, latent weights first, so
        # that an optimiser can update them all in one kernel call (see flat_parameters).
        latent = [k for k in self.params if _is_latent(k)]
        order = latent + [k for k in self.params if not _is_latent(k)]
        self._layout: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        for k in order:
            self._layout[k] = (offset, self.params[k].shape)
            offset += self.params[k].size
        self._n_latent = sum(self.params[k].size for k in latent)
        self._flat = np.empty(offset, np.float32)
        self._views = _views_of(self._flat, self._layout)
        for k, view in self._views.items():
            view[...] = self.params[k]
            self.params[k] = view

    def flat_parameters(self) -> tuple[np.ndarray, int] | None:
        """The buffer behind every parameter and the size of its latent-weight prefix.

        ``None`` once any entry of :attr:`params` has been replaced by another array:
        the buffer then no longer holds the model.
        """
        if len(self.params) != len(self._views) or any(
                self.params.get(k) is not v for k, v in self._views.items()):
            return None
        return self._flat, self._n_latent

    @property
    def n_layers(self) -> int:
        """Number of binary hidden layers."""
        return len(self.widths) - 1

    @property
    def largest_product(self) -> int:
        """Multiply-adds per input row of the widest layer product (hidden or output)."""
        widths = [*self.widths, self.n_classes]
        return max(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))

    def get_config(self) -> dict:
        """Constructor arguments (JSON-serialisable): ``from_config`` rebuilds the network."""
        return {"widths": list(self.widths), "n_classes": self.n_classes,
                "binarize_input": self.binarize_input, "input_threshold": self.input_threshold,
                "dropout": self.dropout, "momentum": self.momentum, "eps": self.eps,
                "rng": self.rng_seed}

    config = get_config  # the earlier name

    @classmethod
    def from_config(cls, config: dict) -> BinaryMLP:
        """A new network with the architecture of ``config`` (fresh weights from its rng)."""
        if not isinstance(config, dict):
            raise TypeError(f"config: expected a dict from get_config(), got "
                            f"{type(config).__name__}")
        config = dict(config)
        if "seed" in config:  # configurations written before the rename
            config["rng"] = config.pop("seed")
        return cls(**config)

    def save(self, path) -> str:
        """Write weights, batch-norm statistics and configuration to one ``.npz`` (versioned).

        :meth:`load` gives back a network with bit-identical predictions and activations.
        """
        from .checkpoint import save_model

        return save_model(self, path)

    @classmethod
    def load(cls, path) -> BinaryMLP:
        """Read a network written by :meth:`save`."""
        from .checkpoint import load_model

        return load_model(path)

    # -- forward ---------------------------------------------------------------------------
    def check_inputs(self, x) -> np.ndarray:
        """Validate inputs once: ``float32[n, n_inputs]``, finite (a view when possible)."""
        return check_input_matrix("x", x, self.widths[0])

    @single_blas
    def forward(self, x, train: bool = False, rng: np.random.Generator | None = None, *,
                validate: bool = True):
        """Logits and, when ``train``, the cache needed by :meth:`backward`.

        Parameters
        ----------
        x : array_like
            ``(n, n_inputs)`` inputs.
        train : bool
            Batch statistics, dropout and a cache for the backward pass.
        rng : numpy.random.Generator, optional
            Dropout randomness (needed when ``train`` and ``dropout > 0``).
        validate : bool
            False skips the input checks, for batches of data already passed through
            :meth:`check_inputs` (a training loop validates its data once).

        Returns
        -------
        logits : numpy.ndarray
            ``float32[n, n_classes]``.
        cache : dict or None
        """
        logits, cache, _ = self._run(x, train, rng, checked=not validate)
        return logits, cache

    @single_blas
    def infer(self, x, *, validate: bool = True) -> tuple[np.ndarray, list[PackedBits]]:
        """Eval-mode logits and every binary layer's activations (packed), in one pass.

        ``validate=False`` skips the input checks, for inputs already passed through
        :meth:`check_inputs` (a fit evaluates its validated data every epoch).
        """
        logits, _, layers = self._run(x, False, None, checked=not validate)
        packed = []
        for words, width in zip(layers, self.widths[1:], strict=True):
            words.flags.writeable = False
            packed.append(PackedBits._trusted(words, width))
        return logits, packed

    def _run(self, x, train: bool, rng: np.random.Generator | None, checked: bool = False):
        """Forward pass: logits, the training cache (or None), packed binary layers.

        ``checked`` skips input validation (the training loop validates the data once).
        Repeated evaluations of one input size pick their thread count by timing, unless
        a thread budget was chosen around the call (``use_threads``, a fit's epochs).
        """
        if not checked:
            x = self.check_inputs(x)
        if train or threads_chosen():
            return self._pass(x, train, rng)
        tuner = self._evaluation_tuner(x.shape[0])
        threads = tuner.next_threads()
        start = time.perf_counter()
        with use_threads(threads):
            result = self._pass(x, False, rng)
        tuner.report(threads, time.perf_counter() - start)
        return result

    def _evaluation_tuner(self, n: int) -> ThreadTuner:
        """The thread tuner of evaluations on ``n`` inputs (one per size: times compare).

        Two processes evaluating at once with two threads each ran 2-3.5x slower than
        alone on the 2-core machine (Numba's OpenMP workers wait spinning), one thread
        each not at all; a fit's epochs are tuned the same way (:mod:`.threads`).
        """
        tuners = self.__dict__.setdefault("_evaluation_tuners", {})
        if n not in tuners:
            if len(tuners) >= 16:  # many batch sizes: forget the oldest
                tuners.pop(next(iter(tuners)))
            tuners[n] = ThreadTuner(thread_budget(), n * self.largest_product, warmup=1)
        return tuners[n]

    def _pass(self, x: np.ndarray, train: bool, rng):
        """The forward pass itself, on validated inputs (see :meth:`_run`)."""
        n = x.shape[0]
        drop = train and self.dropout > 0
        if drop and rng is None:
            raise ValueError("rng: dropout needs a random generator in training")
        scale = np.float32(1.0 / (1.0 - self.dropout)) if drop else np.float32(1.0)
        if self.binarize_input:  # the float signs feed the training cache only
            a_float = binary_sign(x - self.input_threshold) if train else None
            a_bits, keep_bits = _packed_sign(x - self.input_threshold), None
        else:
            a_float, a_bits, keep_bits = x, None, None
        cache = {"a": [], "xhat": [], "inv_std": [], "z": [], "keep": [], "w_sign": [],
                 "w_outside": []}
        packed_layers = []
        last = self._names[-1][0]
        for w_name, g_name, b_name, m_name, v_name in self._names:
            w = self.params[w_name]
            d_out = w.shape[0]
            w_bits = np.empty((d_out, (w.shape[1] + 63) // 64), np.uint64)
            table = a_bits is None and not train and use_table(w.shape[1], d_out)
            if train or (a_bits is None and not table):
                w_sign = np.empty_like(w)
                outside = sign_weights(w, w_sign, w_bits)
            else:  # evaluation's XNOR and table products read the bits only
                sign_weight_bits(w, w_bits)
            # in eval, pre is a reused buffer: glibc returns blocks this size to the system,
            # so a fresh one is faulted in page by page on every evaluation (_scratch)
            pre = (scratch("bnn_pre", (n, d_out), np.float32) if not train
                   else np.empty((n, d_out), np.float32))
            if table:
                sign_table_matmul(a_float, w_bits, pre)  # evaluation only: see its module
            elif a_bits is None:
                matmul(a_float, w_sign.T, out=pre)
            else:  # the kernels write floats directly
                if keep_bits is None:
                    xnor_matmul(a_bits, w_bits, w.shape[1], pre)
                else:  # dropped inputs count 0, kept ones are rescaled by 1/(1-p)
                    xnor_matmul_masked(a_bits, keep_bits, w_bits, pre)
                    pre *= scale
            a_bits = np.empty((n, (d_out + 63) // 64), np.uint64)
            if not train:  # the bits only, and the float signs for the output layer
                a_sign = (scratch("bnn_signs", (n, d_out), np.float32) if w_name == last
                          else None)
                bn_sign_eval(pre, self.params[g_name], self.params[b_name], self.eps,
                             self.buffers[m_name], self.buffers[v_name], a_bits, a_sign)
            else:
                xhat = np.empty((n, d_out), np.float32)
                z = np.empty((n, d_out), np.float32)
                a_sign = np.empty((n, d_out), np.float32)
                inv_std = np.empty(d_out, np.float32)
                bn_sign_forward(pre, self.params[g_name],
                                self.params[b_name], self.eps, train, self.momentum,
                                self.buffers[m_name], self.buffers[v_name],
                                xhat, z, a_sign, a_bits, inv_std)
            if train:
                cache["a"].append(a_float)
                cache["w_sign"].append(w_sign)
                cache["w_outside"].append(outside)
                cache["xhat"].append(xhat)
                cache["inv_std"].append(inv_std)
                cache["z"].append(z)
            packed_layers.append(a_bits)
            a_float = a_sign
            keep_bits = None
            if drop:
                keep = rng.random(z.shape) >= self.dropout
                keep_bits = _packed_sign(np.where(keep, np.float32(1), np.float32(-1)))
                a_float = a_sign * keep * scale
                cache["keep"].append(keep)
        logits = np.empty((n, self.n_classes), np.float32)
        output_layer(a_float, self.params["W_out"], self.params["b_out"], logits)
        if train:
            cache["a"].append(a_float)
            cache["logits"] = logits
        return logits, (cache if train else None), packed_layers

    # -- backward --------------------------------------------------------------------------
    def new_gradients(self) -> Gradients:
        """An (uninitialised) gradient set laid out like the parameters, for ``out=``."""
        flat = np.empty(self._flat.size, np.float32)
        grads = Gradients(_views_of(flat, self._layout))
        grads.flat = flat
        grads.params_flat = self._flat
        return grads

    @single_blas
    def backward(self, cache: dict, y: np.ndarray,
                 out: Gradients | None = None) -> tuple[float, Gradients]:
        """Mean cross-entropy and its straight-through gradients for every parameter.

        Parameters
        ----------
        cache : dict
            From :meth:`forward` with ``train=True``.
        y : numpy.ndarray
            Integer labels of the batch.
        out : Gradients, optional
            From :meth:`new_gradients`, overwritten and returned: a training loop then
            reuses one buffer instead of building a new set every step.

        Returns
        -------
        loss : float
        grads : Gradients
            One array per parameter name.
        """
        logits = cache["logits"]
        y = np.ascontiguousarray(y, dtype=np.int64)
        if out is None:
            out = self.new_gradients()
        elif not isinstance(out, Gradients) or out.params_flat is not self._flat:
            raise ValueError("out: expected gradients from this model's new_gradients()")
        grads = out
        d = np.empty_like(logits)
        loss = softmax_xent(logits, y, d, grads["b_out"])
        matmul(d.T, cache["a"][-1], out=grads["W_out"])
        da = matmul(d, self.params["W_out"])
        scale = np.float32(1.0 / (1.0 - self.dropout)) if cache["keep"] else np.float32(1.0)
        for i in range(self.n_layers - 1, -1, -1):
            w_name, g_name, b_name, _, _ = self._names[i]
            if cache["keep"]:
                da = da * cache["keep"][i] * scale
            dpre = np.empty_like(cache["z"][i])
            bn_sign_backward(da, cache["z"][i],
                             cache["xhat"][i], cache["inv_std"][i], self.params[g_name],
                             grads[g_name], grads[b_name], dpre)
            grad_w = matmul(dpre.T, cache["a"][i], out=grads[w_name])
            if cache["w_outside"][i]:  # latent-weight STE 1{|W| <= 1}: 1 after clipping
                mask_weight_grad(grad_w, self.params[w_name])
            if i > 0:
                da = matmul(dpre, cache["w_sign"][i])
        return float(loss), grads

    # -- inference -------------------------------------------------------------------------
    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities (eval mode)."""
        logits, _ = self.forward(x)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x) -> np.ndarray:
        """Predicted class labels (eval mode), int64."""
        return np.argmax(self.forward(x)[0], axis=1).astype(np.int64)

    def evaluate(self, x, y) -> tuple[float, float]:
        """Mean cross-entropy and accuracy (eval mode)."""
        return loss_and_accuracy(self.forward(x)[0], y)

    def activations_packed(self, x) -> list[PackedBits]:
        """Each binary layer's activations (eval mode), packed: bit 1 = +1."""
        return self.infer(x)[1]

    def activations(self, x) -> list[np.ndarray]:
        """Each binary layer's activations (eval mode) as ``uint8`` {0, 1} (1 = +1)."""
        return [p.unpack() for p in self.activations_packed(x)]


def loss_and_accuracy(logits: np.ndarray, y) -> tuple[float, float]:
    """Mean softmax cross-entropy and accuracy of ``logits`` against labels ``y``."""
    if logits.shape[0] == 0:
        raise ValueError("x: no samples; loss and accuracy need at least one")
    y = check_labels("y", y, logits.shape[0], logits.shape[1])
    loss, hits = xent_and_hits(np.ascontiguousarray(logits), y)  # one pass, no temporaries
    return loss / y.size, hits / y.size
