"""``mi-regimes sources`` and ``mi-regimes theory``: the source families and their theory."""

from __future__ import annotations

import argparse
import json
import math

from ._common import CliError, params, user_input


def add_parser(sub, fmt) -> None:
    s = sub.add_parser("sources", help="list the synthetic source families",
                       epilog="example:\n  mi-regimes sources", formatter_class=fmt)
    s.set_defaults(func=run_sources)

    t = sub.add_parser("theory", formatter_class=fmt,
                       help="exact E[H], E[K_obs] and saturation for a source and N",
                       epilog="example:\n  mi-regimes theory --family bernoulli --d 8 --n 64")
    t.add_argument("--family", default="bernoulli")
    t.add_argument("--d", type=int, required=True, help="bits per sample")
    t.add_argument("--param", action="append", metavar="KEY=VALUE")
    t.add_argument("--n", type=int, required=True, help="sample size")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=run_theory)


def run_sources(args: argparse.Namespace) -> int:
    from ..sources import FAMILIES

    print("Source families (mi-regimes heatmap --family NAME --param KEY=VALUE):")
    for name, (fn, defaults) in FAMILIES.items():
        family_params = ", ".join(f"{k}={v}" for k, v in defaults.items())
        doc = (fn.__doc__ or "").strip().splitlines()[0]
        print(f"  {name:<17} d, {family_params:<30} {doc}")
    print("  labelled          (Python API) attaches a class label with known I(T;Y)")
    return 0


def run_theory(args: argparse.Namespace) -> int:
    from ..sources import make
    from ..theory import (
        OutOfReach,
        TheoryValue,
        expected_entropy,
        expected_observed,
        saturation_boundary,
        saturation_probability,
        sd_entropy,
    )

    if args.n < 1:
        raise CliError(f"--n: sample size must be >= 1, got {args.n}")
    with user_input():
        src = make(args.family, args.d, **params(args.param))
    n = args.n
    p_sat = saturation_probability(src, n)
    n_sat = saturation_boundary(src)
    try:
        sd = sd_entropy(src, n)
    except OutOfReach as exc:  # the other quantities still are within reach
        sd = TheoryValue(math.nan, f"out of reach ({exc.reason})")
    rows = {
        "source": str(src), "n": n, "entropy_bits": src.entropy,
        "collision_entropy_bits": src.collision_entropy, "support": src.support,
        "expected_plugin_bits": expected_entropy(src, n, "plugin"),
        "expected_miller_madow_bits": expected_entropy(src, n, "miller_madow"),
        "expected_k_observed": expected_observed(src, n),
        "sd_plugin_bits": None if math.isnan(sd.value) else sd.value, "sd_method": sd.method,
        "p_all_distinct": p_sat.value, "p_all_distinct_method": p_sat.method,
        "n_saturation": n_sat.value, "n_saturation_method": n_sat.method,
    }
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{src}, N = {n}")
    print(f"  H = {src.entropy:.6f} bits, H2 = {src.collision_entropy:.6f} bits, "
          f"support = {src.support:.6g}, log2 N = {math.log2(n):.4f}")
    print(f"  E[H_plugin]       = {rows['expected_plugin_bits']:.6f} bits (exact)")
    print(f"  E[H_miller_madow] = {rows['expected_miller_madow_bits']:.6f} bits (exact)")
    if rows["sd_plugin_bits"] is None:
        print(f"  sd(H_plugin)      = {sd.method}")
    else:
        print(f"  sd(H_plugin)      = {rows['sd_plugin_bits']:.6f} bits ({sd.method})")
    print(f"  E[K_obs]          = {rows['expected_k_observed']:.6g} (exact)")
    print(f"  P(all distinct)   = {p_sat.value:.6g} ({p_sat.method})")
    print(f"  N_sat (P = 1/2)   = {n_sat.value:.6g} ({n_sat.method})")
    return 0
