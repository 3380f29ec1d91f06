"""The estimators' implementations on count vectors, in nats (see :mod:`estimators`).

Each takes the positive int64 counts and the validated options and returns a
``CountEstimate`` (value, standard error, interval) in nats; the registry in
:mod:`mi_regimes.estimators` converts to the caller's base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special

from ._bootstrap import (
    multinomial_replicates,
    plugin_nats,
    plugin_nats_of_profile,
    poisson_replicates,
)
from ._profile import profile_of

__all__ = ["CountEstimate", "Options", "IMPLEMENTATIONS", "EXACT_BOOTSTRAP_WORK"]


class CountEstimate(NamedTuple):
    """An entropy estimate from counts: value, standard error and interval (in ``base``)."""

    value: float
    stderr: float | None = None
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class Options:
    n_boot: int = 1000
    ci: float = 0.95
    rng: np.random.Generator | None = None
    alphabet_size: int | float | None = None
    scheme: str = "auto"


#: Largest K_obs * n_boot for which ``scheme="auto"`` resamples exactly (multinomially).
EXACT_BOOTSTRAP_WORK = 20_000




def jackknife_nats(values: np.ndarray, mult: np.ndarray) -> tuple[float, float]:
    """Jackknife value and standard error (nats), O(#distinct counts).

    With S = Σ n log n and Δ_k = n_k log n_k - (n_k-1) log(n_k-1), leaving out one
    sample of state k gives (N-1)(Ĥ - Ĥ_{-k}) = (N-1) log1p(1/(N-1)) + S/N - Δ_k =: d_k.
    Then Ĥ_JK = Ĥ + (1/N) Σ n_k d_k, which avoids the cancellation in N·Ĥ - (N-1)·mean.
    States of equal count share d_k, so everything runs on the count profile
    (distinct counts ``values`` and their multiplicities ``mult``).
    """
    v = values.astype(np.float64)
    weight = v * mult  # samples whose removal gives each d
    n = float(weight.sum())
    vlogv = v * np.log(v)
    s = float(np.sum(mult * vlogv))  # sums, not BLAS dots: thread-independent rounding
    h = math.log(n) - s / n
    prev = np.where(v > 1, (v - 1) * np.log(np.maximum(v - 1, 1.0)), 0.0)
    d = (n - 1) * math.log1p(1.0 / (n - 1)) + s / n - (vlogv - prev)
    mean_d = float(np.sum(weight * d)) / n
    var = float(np.sum(weight * (d - mean_d) ** 2))
    # Ĥ_{-k} - mean(Ĥ_{-i}) = -(d_k - mean d) / (N-1)
    return h + mean_d, math.sqrt((n - 1) / n * var) / (n - 1)


def _plugin(c: np.ndarray, opts: Options) -> CountEstimate:
    return CountEstimate(plugin_nats(c))


def _miller_madow(c: np.ndarray, opts: Options) -> CountEstimate:
    n = int(c.sum())
    return CountEstimate(plugin_nats(c) + (c.size - 1) / (2.0 * n))


def _jackknife(c: np.ndarray, opts: Options) -> CountEstimate:
    if c.sum() < 2:
        return CountEstimate(0.0, None)
    value, se = jackknife_nats(*profile_of(c))
    return CountEstimate(value, se, _normal_interval(value, se, opts.ci))


def _bootstrap(c: np.ndarray, opts: Options) -> CountEstimate:
    rng = opts.rng if opts.rng is not None else np.random.default_rng()
    scheme = opts.scheme
    if scheme == "auto":
        scheme = "multinomial" if c.size * opts.n_boot <= EXACT_BOOTSTRAP_WORK else "poisson"
    if scheme == "multinomial":
        # Sorted counts: the resampling order (hence every replicate) ignores row order.
        c = np.sort(c)
        h = plugin_nats(c)
        reps = multinomial_replicates(c, opts.n_boot, rng)
    else:  # the profile, order-free, serves both the plug-in and the resampling
        values, mult = profile_of(c)
        h = plugin_nats_of_profile(values, mult)
        reps = poisson_replicates(values, mult, opts.n_boot, rng)
    bias = reps.mean() - h
    lo, hi = _quantiles(reps, (1.0 - opts.ci) / 2.0)
    se = float(reps.std(ddof=1)) if reps.size > 1 else None
    return CountEstimate(h - bias, se, (float(lo - 2 * bias), float(hi - 2 * bias)))


def _quantiles(values: np.ndarray, alpha: float) -> tuple[float, float]:
    """The alpha and 1 - alpha quantiles (linear interpolation, as np.quantile's default).

    Written out because np.quantile's overhead is ten times this on a few hundred values.
    """
    ordered = np.sort(values)
    out = []
    for q in (alpha, 1.0 - alpha):
        pos = q * (ordered.size - 1)
        i = min(int(pos), ordered.size - 1)
        j = min(i + 1, ordered.size - 1)
        out.append(float(ordered[i] + (pos - i) * (ordered[j] - ordered[i])))
    return out[0], out[1]


def _chao_shen(c: np.ndarray, opts: Options) -> CountEstimate:
    n = int(c.sum())
    f1 = int(np.count_nonzero(c == 1))
    if f1 == n:  # every state a singleton: coverage would be 0
        f1 = n - 1
    coverage = 1.0 - f1 / n
    pa = coverage * c / n
    # Horvitz-Thompson weights: 1 - (1-pa)^N, via log1p/expm1 for small pa.
    with np.errstate(divide="ignore"):  # pa == 1 (one state) gives log1p(-1) = -inf: fine
        inclusion = -np.expm1(n * np.log1p(-pa))
    return CountEstimate(float(-np.sum(pa * np.log(pa) / inclusion)) + 0.0)  # no -0.0


def _grassberger(c: np.ndarray, opts: Options) -> CountEstimate:
    n = int(c.sum())
    values, mult = profile_of(c)
    v = values.astype(np.float64)
    g = special.digamma(v) + 0.5 * (-1.0) ** values * (
        special.digamma((v + 1) / 2) - special.digamma(v / 2)
    )
    return CountEstimate(float(math.log(n) - np.sum(mult * v * g) / n))


def _nsb(c: np.ndarray, opts: Options) -> CountEstimate:
    from ._nsb import nsb_posterior

    k = opts.alphabet_size if opts.alphabet_size is not None else c.size  # >= c.size
    mean, sd = nsb_posterior(c, math.log(k))
    low, high = _normal_interval(mean, sd, opts.ci)
    return CountEstimate(mean, sd, (max(low, 0.0), min(high, math.log(k))))


def _jvhw(c: np.ndarray, opts: Options) -> CountEstimate:
    from ._undersampled import jvhw_nats

    value = jvhw_nats(*profile_of(c))
    if opts.alphabet_size is not None:  # the small-count constants can overshoot log K
        value = min(value, math.log(opts.alphabet_size))
    return CountEstimate(value)


def _unseen(c: np.ndarray, opts: Options) -> CountEstimate:
    from ._undersampled import unseen_nats

    value = unseen_nats(*profile_of(c))
    if opts.alphabet_size is not None:  # a histogram cannot beat the uniform law on K
        value = min(value, math.log(opts.alphabet_size))
    return CountEstimate(value)


def _pym(c: np.ndarray, opts: Options) -> CountEstimate:
    from ._pym import pym_nats

    value, _ = pym_nats(*profile_of(c), alphabet_size=opts.alphabet_size)
    if opts.alphabet_size is not None:
        value = min(value, math.log(opts.alphabet_size))
    return CountEstimate(value)


def _normal_interval(value: float, sd: float, level: float) -> tuple[float, float]:
    """value ± z·sd at the two-sided ``level`` (jackknife; NSB posterior, normal form)."""
    z = float(special.ndtri(0.5 + level / 2))
    return value - z * sd, value + z * sd


IMPLEMENTATIONS = {
    "plugin": _plugin,
    "miller_madow": _miller_madow,
    "jackknife": _jackknife,
    "bootstrap": _bootstrap,
    "nsb": _nsb,
    "chao_shen": _chao_shen,
    "grassberger": _grassberger,
    "jvhw": _jvhw,
    "unseen": _unseen,
    "pym": _pym,
}
