"""Speed of the undersampled-regime estimators against the plug-in, counting shared.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_undersampled.py

10^6 samples of 32-bit rows from three sources (many repeats: a Zipf codebook of 2^16
words; few: Bernoulli(0.1) rows; almost none: Bernoulli(½) rows). The rows are counted once
(packing and hashing, shared by every estimator), then each estimator runs on the counts.
Target (issue 15): counting + estimator within 10x counting + plug-in. Medians of 7.
JVHW, unseen and PYM all run on the count profile (distinct counts), not on N.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import median_time  # noqa: E402

from mi_regimes import sources  # noqa: E402
from mi_regimes.counting import count_rows  # noqa: E402
from mi_regimes.estimators import estimate_counts  # noqa: E402

N = 10**6


def main() -> None:
    rng = np.random.default_rng(0)
    cases = {"zipf codebook 2^16 words": sources.zipf_codebook(32, support=2**16, s=1.0),
             "bernoulli(32, 0.1)": sources.bernoulli(32, 0.1),
             "bernoulli(32, 0.5)": sources.bernoulli(32, 0.5)}
    print(f"{'source':26s} {'K_obs':>8s} {'distinct counts':>15s} {'count ms':>9s} "
          f"{'plugin':>8s} {'jvhw':>8s} {'unseen':>8s} {'pym':>8s} {'jvhw x':>7s} "
          f"{'unseen x':>8s} {'pym x':>6s}")
    for name, source in cases.items():
        rows = source.sample(N, rng)
        counts = count_rows(rows)
        t_count = median_time(lambda r=rows: count_rows(r), 7)
        for e in ("jvhw", "unseen", "pym"):  # warm-up (first calls build caches)
            estimate_counts(counts, e, alphabet_size=2.0**32)
        t = {e: median_time(lambda e=e, c=counts: estimate_counts(c, e, alphabet_size=2.0**32), 7)
             for e in ("plugin", "jvhw", "unseen", "pym")}
        base = t_count + t["plugin"]
        print(f"{name:26s} {counts.size:8d} {np.unique(counts).size:15d} {t_count * 1e3:9.1f} "
              f"{t['plugin'] * 1e3:8.2f} {t['jvhw'] * 1e3:8.2f} {t['unseen'] * 1e3:8.2f} "
              f"{t['pym'] * 1e3:8.2f} {(t_count + t['jvhw']) / base:7.2f} "
              f"{(t_count + t['unseen']) / base:8.2f} {(t_count + t['pym']) / base:6.2f}",
              flush=True)


if __name__ == "__main__":
    main()
