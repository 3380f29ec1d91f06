"""Saving and loading a :class:`~mi_regimes.bnn.BinaryMLP`: one versioned ``.npz``.

The file holds a JSON header (format name, version, the model's configuration, package
versions) and every parameter and batch-norm buffer as float32 arrays, so a reloaded
model gives bit-identical predictions and activations.
"""

from __future__ import annotations

import json

import numpy as np

from .._io import atomic_write, open_npz
from .model import BinaryMLP

__all__ = ["save_model", "load_model", "MODEL_FORMAT", "MODEL_VERSION", "package_versions"]

MODEL_FORMAT = "mi_regimes.binary_mlp"
MODEL_VERSION = 1


def package_versions() -> dict:
    """Versions of mi_regimes and of the libraries whose numerics it relies on."""
    import numba
    import scipy

    from .. import __version__

    return {"mi_regimes": __version__, "numpy": np.__version__, "numba": numba.__version__,
            "scipy": scipy.__version__}


def save_model(model: BinaryMLP, path) -> str:
    """Write ``model`` to ``path`` (``.npz``), atomically."""
    if not isinstance(model, BinaryMLP):
        raise TypeError(f"model: expected a BinaryMLP, got {type(model).__name__}")
    header = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "config": model.get_config(),
              "versions": package_versions()}
    arrays = {"header": np.array(json.dumps(header))}
    arrays.update({f"param/{k}": np.asarray(v) for k, v in model.params.items()})
    arrays.update({f"buffer/{k}": np.asarray(v) for k, v in model.buffers.items()})
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_model(path) -> BinaryMLP:
    """Read a model written by :func:`save_model`.

    Raises
    ------
    ValueError
        If the file is not a saved model, or of a version this package cannot read.
    """
    with open_npz(path, "a saved mi_regimes model") as data:
        if "header" not in data.files:
            raise ValueError(f"{path}: not a saved mi_regimes model (no header)")
        header = json.loads(str(data["header"]))
        version = header.get("version")
        if header.get("format") != MODEL_FORMAT or version != MODEL_VERSION:
            raise ValueError(f"{path}: model format {header.get('format')!r} version "
                             f"{version} is not supported (this mi_regimes reads "
                             f"{MODEL_FORMAT!r} version {MODEL_VERSION})")
        model = BinaryMLP.from_config(header["config"])
        for kind, store in (("param", model.params), ("buffer", model.buffers)):
            for k in store:
                if f"{kind}/{k}" not in data.files:
                    raise ValueError(f"{path}: no {kind} {k}; the file is incomplete (save "
                                     "the model again with model.save)")
                saved = data[f"{kind}/{k}"]
                if saved.shape != store[k].shape:
                    raise ValueError(f"{path}: {kind} {k} has shape {saved.shape}, the "
                                     f"configuration expects {store[k].shape}")
                # NaN weights would predict class 0 for every input without a word
                if saved.dtype.kind != "f" or not np.all(np.isfinite(saved)):
                    raise ValueError(f"{path}: {kind} {k} holds non-finite or non-float "
                                     f"values ({saved.dtype}); the file is damaged")
                if k.startswith("var") and np.any(saved < 0):
                    raise ValueError(f"{path}: {kind} {k} holds negative variances; the "
                                     "file is damaged")
                store[k][...] = saved  # in place: parameters stay views of one buffer
    return model
