"""A PyTorch-free trainer for binary multilayer perceptrons (NumPy + Numba).

>>> from mi_regimes.bnn import BinaryMLP, datasets, fit
"""

from . import datasets
from .model import BinaryMLP, binary_sign
from .training import Adam, History, Recorder, Recording, fit, load_recording, log_spaced_epochs

__all__ = ["BinaryMLP", "datasets", "fit", "Adam", "History", "Recorder", "Recording",
           "load_recording", "log_spaced_epochs", "binary_sign"]
