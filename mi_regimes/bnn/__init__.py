"""A PyTorch-free trainer for binary multilayer perceptrons (NumPy + Numba).

>>> from mi_regimes.bnn import BinaryMLP, datasets, fit, train_step
"""

from . import datasets
from .model import BinaryMLP, Gradients, binary_sign
from .optim import Adam, learning_rate
from .recording import RecordedSet, Recorder, Recording, load_recording, log_spaced_epochs
from .training import History, fit, train_step

__all__ = ["BinaryMLP", "Gradients", "datasets", "fit", "train_step", "Adam", "learning_rate",
           "History", "Recorder", "Recording", "RecordedSet", "load_recording",
           "log_spaced_epochs", "binary_sign"]
