"""How much verdict power does the e·sqrt(N) de-Poissonization factor cost? (issue 11)

A probe, not a rule: the unseen-mass bound of :mod:`mi_regimes._bounds` is recomputed with
the factor set to 1 (valid for Poisson sampling only, not proven for a multinomial
sample), and the validation's quick grid (experiments/verdict_validation.py --quick: 12
families, 5 estimators, 12 replicates) is scored with and without it. If the power gain
is small, proving a factor-free bound is not worth it. One job, so the patched bound is
the one used (worker processes would import the original).

Run: ``python experiments/depoissonization_probe.py`` (about 1.5 min on one core).
Measured 2026-12-02: power 0.563 with the factor, 0.577 without; false reliable 0.000 both.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from mi_regimes import _bounds

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdict_validation as validation  # noqa: E402


def bound_without_factor(values: np.ndarray, mult: np.ndarray, delta: float) -> float:
    """:func:`mi_regimes._bounds.unseen_mass_from_profile` with e·sqrt(N) set to 1."""
    n = int(np.dot(values, mult))
    f1 = int(mult[0]) if values[0] == 1 else 0
    half = delta / 2
    worst = f1 / n + math.sqrt(2 * math.log(2 / half) / n) + math.sqrt(math.log(2 / half) / n)
    l_f1, l_grid = math.log(3 / half), math.log(3 * _bounds._THETA.size / half)
    repeated = values >= 2
    s_theta = np.sum(_bounds._THETA[:, None] ** values[repeated][None, :] * mult[repeated],
                     axis=1)
    s_high = _bounds._THETA**2 * _bounds._mean_upper(s_theta / _bounds._THETA**2, l_grid)
    adaptive = (_bounds._mean_upper(f1, l_f1) / n
                + float(np.min((s_high + l_grid) / (_bounds._THETA * n))))
    return min(1.0, worst, adaptive)


def score() -> tuple[float, float]:
    table = validation.classes(validation.run(True, 1))
    possible = table[table.true_class == "possible"]
    biased = table[table.true_class == "biased"]
    return (validation._weighted(possible.reliable_share, possible.reps),
            validation._weighted(biased.reliable_share, biased.reps))


def main() -> None:
    with_factor = score()
    original = _bounds.unseen_mass_from_profile
    _bounds.unseen_mass_from_profile = bound_without_factor
    try:
        without = score()
    finally:
        _bounds.unseen_mass_from_profile = original
    for name, (power, false_reliable) in (("with e*sqrt(N)", with_factor),
                                          ("without (probe)", without)):
        print(f"{name:16s} power {power:.3f}  false reliable {false_reliable:.3f}")


if __name__ == "__main__":
    main()
