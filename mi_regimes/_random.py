"""Randomness: one way to turn the ``rng`` argument into a Generator, and seeds from keys.

Every public function that draws takes ``rng`` (SPEC 7, as NumPy and SciPy do): None
(fresh entropy), an int, a ``SeedSequence`` or a ``Generator``. Sweeps (regime grids,
studies) give each cell or run a seed derived from the master seed *and the cell's key*
(its parameters, as text), never from its position in a list: adding a cell changes no
other cell's numbers, and results do not depend on the order or number of workers.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

__all__ = ["as_generator", "as_seed_sequence", "seed_for_key", "generator_for_key",
           "renamed_seed"]


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """A ``Generator`` from None, an int, a ``SeedSequence`` or a ``Generator`` (returned as is).

    Examples
    --------
    >>> float(as_generator(0).random()) == float(as_generator(0).random())
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.BitGenerator | np.random.RandomState):
        return np.random.default_rng(rng)  # NumPy wraps their bit generator
    return np.random.default_rng(as_seed_sequence(rng, name))


def as_seed_sequence(rng, name: str = "rng") -> np.random.SeedSequence:
    """A ``SeedSequence`` for sweeps: an int or ``SeedSequence`` as given, fresh for None.

    A ``Generator`` gives a sequence seeded from four of its draws (reproducible for a
    generator in a given state; the generator advances).
    """
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    if not isinstance(rng, bool | numbers.Number | str):
        try:  # a sequence of non-negative ints, as SeedSequence takes
            return np.random.SeedSequence(rng)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name}: expected None, a non-negative int, a numpy SeedSequence or "
                    f"Generator, got {type(rng).__name__} {rng!r}")


def _key_words(key: str) -> tuple[int, ...]:
    """A stable 128-bit digest of ``key`` (Python's hash() changes between runs)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def seed_for_key(rng, key: str) -> np.random.SeedSequence:
    """The seed of the cell or run named ``key`` in a sweep seeded by ``rng``.

    Independent streams for different keys (the key extends the spawn key of the master
    sequence), identical for the same master seed and key.

    Examples
    --------
    >>> a = seed_for_key(0, "d=8,n=64").generate_state(1)
    >>> b = seed_for_key(0, "d=8,n=64").generate_state(1)
    >>> bool((a == b).all()), bool((a == seed_for_key(0, "d=9,n=64").generate_state(1)).all())
    (True, False)
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"key: expected a non-empty string naming the cell or run, got {key!r}")
    base = as_seed_sequence(rng)
    return np.random.SeedSequence(base.entropy, spawn_key=base.spawn_key + _key_words(key))


def generator_for_key(rng, key: str) -> np.random.Generator:
    """``Generator`` of :func:`seed_for_key`."""
    return np.random.default_rng(seed_for_key(rng, key))


def renamed_seed(rng, seed, where: str, default=None):
    """Accept ``seed=``, DESIGN.md's spelling, as another name of ``rng=``.

    ``default`` is the function's default ``rng``: ``seed`` replaces it, and anything
    else passed together with ``seed`` is an error (two seeds, which one wins?).
    """
    if seed is None:
        return rng
    if rng is not default and rng is not None:
        raise TypeError(f"{where}: pass rng= or seed= (the same thing), not both")
    return seed
