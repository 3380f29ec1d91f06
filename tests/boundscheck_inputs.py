"""Run every packing and counting kernel on the awkward inputs; used under NUMBA_BOUNDSCHECK.

Executed by tests/test_boundscheck.py in a subprocess with NUMBA_BOUNDSCHECK=1 and an
empty NUMBA_CACHE_DIR, so each kernel is compiled with bounds checks: any read or write
out of range raises IndexError and the process exits non-zero. Prints "ok" at the end.
"""

import numba as nb
import numpy as np
import pandas as pd

import mi_regimes as mr
from mi_regimes._bootstrap import (
    multinomial_replicates,
    plugin_nats,
    poisson_replicates,
)
from mi_regimes.bits import unpack_bits
from mi_regimes.bnn.kernels import sign_pack, xnor_matmul, xnor_matmul_masked
from mi_regimes.bnn.table_product import sign_table_matmul
from mi_regimes.counting import count_words, joint_counts, row_codes
from mi_regimes.infoplane import plane_point


@nb.njit
def _out_of_range(a):
    return a[a.shape[0]]


def bounds_checks_are_on() -> bool:
    try:
        _out_of_range(np.zeros(3))
    except IndexError:
        return True
    return False


def main() -> None:
    assert bounds_checks_are_on(), "NUMBA_BOUNDSCHECK is not in effect"
    rng = np.random.default_rng(0)
    for d in (1, 7, 8, 32, 40, 63, 64, 65, 130, 1023, 1024, 1100, 4096, 5000):
        n = 3000 if d <= 130 else 120
        distinct = rng.integers(0, 2, size=(min(50, 2**d), d), dtype=np.uint8)
        x = distinct[rng.integers(0, distinct.shape[0], size=n)]
        y = rng.integers(0, 4, size=n)
        forms = [x, x.astype(bool), x.astype(np.int8), (2 * x.astype(np.int8) - 1),
                 x.astype(np.float32), x.astype(np.float64), x.astype(np.int64),
                 np.asfortranarray(x), x.tolist(), pd.DataFrame(x), mr.pack_bits(x)]
        offset = np.frombuffer(b"\0" + x.tobytes(), np.uint8, offset=1).reshape(x.shape)
        forms.append(offset)  # unaligned bytes
        for form in forms:
            for estimator in mr.ESTIMATORS:
                mr.entropy(form, estimator, **({"rng": 0} if estimator == "bootstrap" else {}))
        mr.mutual_information(x, y, "plugin")
        mr.conditional_entropy(x, y, "nsb")
        row_codes(x)
        unpack_bits(mr.pack_bits(x))
        plane_point(x, y, "plugin", n_boot=3, rng=0)
    for symbols in ([1, 2, 3, 1], (5, -7, 2**40, 5), np.arange(70_000) % 5000,
                    np.array([2**63 + 5, 3], dtype=np.uint64), ["a", "b", "a"],
                    pd.Series([3, 3, 9])):
        for estimator in mr.ESTIMATORS:
            mr.entropy(symbols, estimator)
    # every counting strategy, on words declared as words
    keys = rng.integers(0, 2**63, size=(200_000, 1), dtype=np.uint64)
    keys[::3] = 0  # the zero key is counted apart
    count_words(keys.copy(), overwrite=True)
    count_words(keys, overwrite=False)
    count_words(rng.integers(0, 50, size=(1000, 1), dtype=np.uint64), d=6)
    joint_counts(x, y)
    # bootstrap and plug-in kernels on long and awkward count vectors
    counts = rng.integers(1, 3000, size=70_000).astype(np.int64)
    plugin_nats(counts)
    multinomial_replicates(counts[:500], 5, rng)
    values, mult = np.unique(np.concatenate([np.ones(500, np.int64), counts[:200]]),
                             return_counts=True)
    poisson_replicates(values, mult.astype(np.int64), 5, rng)
    # binary-layer kernels, serial and parallel sizes
    for n, k, m in ((33, 70, 5), (600, 1100, 1024)):
        a = np.empty((n, (k + 63) // 64), np.uint64)
        w = np.empty((m, (k + 63) // 64), np.uint64)
        sign_pack(rng.standard_normal((n, k)).astype(np.float32), a)
        sign_pack(rng.standard_normal((m, k)).astype(np.float32), w)
        out = np.empty((n, m), np.float32)
        xnor_matmul(a, w, k, out)
        xnor_matmul_masked(a, a, w, out)
        # real inputs times the packed signs: serial and parallel drivers, > 512 units
        sign_table_matmul(rng.standard_normal((n, k)).astype(np.float32), w, out)
    print("ok")


if __name__ == "__main__":
    main()
