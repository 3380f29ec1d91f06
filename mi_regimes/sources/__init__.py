"""Synthetic binary sources with known entropy, for validating estimators.

Every source is a random D-bit vector with exactly known Shannon entropy H and
collision (Rényi-2) entropy H₂ = -log2 Σ p², both in bits, its support size, its pmf
as groups of equal probability (``pmf_groups() -> (multiplicities, probabilities)``),
the distribution of its Hamming weight, and two samplers: ``sample(n, rng)`` gives
``uint8[n, d]`` rows and ``sample_packed(n, rng)`` the same rows as ``PackedBits`` (the
fast path used by the regime engine).

Families: :func:`bernoulli`, :func:`sparse`, :func:`markov` (defined bit by bit),
:func:`uniform_codebook`, :func:`zipf_codebook` (random codebooks), :func:`heavy_tail`
and :func:`dyadic_zipf` (long tails with exact pmf groups, any D), and :func:`labelled`,
which attaches a class label with known I(T; Y) to any of them.
"""

from __future__ import annotations

import warnings

from ._base import Source
from .bitwise import bernoulli, markov, sparse
from .codebooks import uniform_codebook, zipf_codebook
from .labelled import LabelledSource, labelled
from .tailed import dyadic_zipf, heavy_tail

__all__ = ["Source", "FAMILIES", "bernoulli", "uniform_codebook", "sparse", "markov",
           "zipf_codebook", "heavy_tail", "dyadic_zipf", "labelled", "LabelledSource", "make"]

#: Family name -> (constructor, parameter names and defaults beyond ``d``).
FAMILIES: dict[str, tuple] = {
    "bernoulli": (bernoulli, {"p": 0.5}),
    "uniform_codebook": (uniform_codebook, {"support": 1024, "codebook_seed": 0}),
    "sparse": (sparse, {"ones": 2}),
    "markov": (markov, {"p_stay": 0.9}),
    "zipf_codebook": (zipf_codebook, {"support": 1024, "s": 1.0, "codebook_seed": 0}),
    "heavy_tail": (heavy_tail, {"heavy": 4, "tail_bits": 30, "tail_mass": 0.05,
                                "codebook_seed": 0}),
    "dyadic_zipf": (dyadic_zipf, {"s": 1.0}),
}

# earlier parameter names, still read (with a warning)
_RENAMED = {"uniform_codebook": {"k": "support", "seed": "codebook_seed"},
            "zipf_codebook": {"k": "support", "seed": "codebook_seed"},
            "sparse": {"k": "ones"}}


def make(family: str, d: int, **params) -> Source:
    """Build a source of a named family, with defaults for missing parameters.

    Codebook supports above 2**D and weights above D are reduced to fit D bits, so one
    parameter set serves a whole range of D.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    d : int
        Bits per sample.
    **params
        Family parameters (see the family functions).

    Returns
    -------
    Source
        Parameters that cannot exist at this D are capped, so that one setting serves a
        grid over D: ``support`` and ``heavy`` at 2^D, ``ones`` and ``tail_bits`` at D.
        The source's name (``str(source)``, the grid table's ``source`` column) gives
        the values used.

    Examples
    --------
    >>> from mi_regimes import sources
    >>> str(sources.make("sparse", 6, ones=2)), sources.make("sparse", 6).entropy
    ('sparse(d=6, ones=2)', 3.9068905956085187)
    """
    if family not in FAMILIES:
        raise ValueError(f"family: unknown source family {family!r}; choose one of "
                         f"{', '.join(FAMILIES)}")
    fn, defaults = FAMILIES[family]
    for old, new in _RENAMED.get(family, {}).items():
        if old in params:
            warnings.warn(f"{family}: parameter {old!r} is now {new!r}", DeprecationWarning,
                          stacklevel=2)
            params[new] = params.pop(old)
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"params: {family} takes {', '.join(defaults) or 'no parameters'}; "
                         f"unknown {', '.join(sorted(unknown))}")
    merged = {**defaults, **params}
    if family in ("uniform_codebook", "zipf_codebook") and isinstance(merged["support"], int):
        merged["support"] = min(merged["support"], 2 ** min(d, 62))
    if family == "sparse" and isinstance(merged["ones"], int):
        merged["ones"] = min(merged["ones"], d)
    if family == "heavy_tail" and isinstance(merged["tail_bits"], int):
        merged["tail_bits"] = min(merged["tail_bits"], d)
    if family == "heavy_tail" and isinstance(merged["heavy"], int):
        merged["heavy"] = min(merged["heavy"], 2 ** min(d, 62))
    return fn(d, **merged)
