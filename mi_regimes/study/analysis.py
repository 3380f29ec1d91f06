"""The study's tables: how often late compression happens, and whether it goes with
generalisation.

Only what the compression detector judged is used: a layer counts as compressing when
``late`` is True (reliable peak and end, a significant paired drop after the fitting
phase), as not compressing when ``late`` is False, and not at all when it was not
assessable. Shares come with Wilson 95 % intervals; associations with bootstrap 95 %
intervals over models.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["compression_table", "model_table", "late_shares", "association", "summarize",
           "wilson"]


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaN, NaN without trials).

    Examples
    --------
    >>> [round(v, 3) for v in wilson(5, 10)]
    [0.237, 0.763]
    """
    if trials == 0:
        return (math.nan, math.nan)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials ** 2)) / (1 + z * z / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def compression_table(results: list[dict]) -> pd.DataFrame:
    """One row per (run, mode, estimator, layer) of the successful runs."""
    rows = []
    for r in results:
        if r.get("status") != "ok":
            continue
        run, m = r["run"], r["metrics"]
        for c in r["compression"]:
            rows.append({"key": r["key"], "task": run["task"],
                         "architecture": "-".join(map(str, run["widths"])),
                         "regulariser": run["regulariser"], "replicate": run["replicate"],
                         "mode": c["mode"], "estimator": c["estimator"], "layer": c["layer"],
                         "assessable": bool(c["assessable"]), "late": c["late"],
                         "drop_bits": c["drop_bits"], "p_value": c["p_value"],
                         "test_acc": m["test_acc"], "train_acc": m["train_acc"],
                         "gap": m["gap"]})
    return pd.DataFrame(rows)


def model_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per model (and mode, estimator): any late layer, its largest late drop, accuracy."""
    assessed = table[table["assessable"]]
    g = assessed.groupby(["key", "task", "architecture", "regulariser", "mode", "estimator"])
    out = g.agg(layers_assessed=("layer", "size"),
                late_layers=("late", lambda s: int((s == True).sum())),  # noqa: E712
                test_acc=("test_acc", "first"), gap=("gap", "first")).reset_index()
    drops = assessed[assessed["late"] == True].groupby("key")["drop_bits"].max()  # noqa: E712
    out["late_drop_bits"] = out["key"].map(drops).fillna(0.0)
    out["compressed"] = out["late_layers"] > 0
    return out


def late_shares(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Share of assessable layers, and of models, with late compression, per group."""
    assessed = table[table["assessable"]]
    models = model_table(table)
    rows = []
    for group, layers in assessed.groupby(by):
        group = group if isinstance(group, tuple) else (group,)
        late = int((layers["late"] == True).sum())  # noqa: E712
        mods = models.set_index(by).loc[[group]] if len(models) else models
        n_mod, late_mod = len(mods), int(mods["compressed"].sum())
        lo, hi = wilson(late, len(layers))
        mlo, mhi = wilson(late_mod, n_mod)
        rows.append({**dict(zip(by, group, strict=True)), "layers_assessed": len(layers),
                     "late_layers": late, "layer_share": late / len(layers),
                     "layer_ci": f"[{lo:.2f}, {hi:.2f}]", "models": n_mod,
                     "late_models": late_mod, "model_share": late_mod / n_mod if n_mod else
                     math.nan, "model_ci": f"[{mlo:.2f}, {mhi:.2f}]"})
    return pd.DataFrame(rows)


def association(models: pd.DataFrame, n_boot: int = 2000, rng=0) -> pd.DataFrame:
    """Per task: test accuracy and gap of compressing vs other models, and Spearman's
    rho between the late drop and the gap, each with a bootstrap 95 % interval."""
    from scipy.stats import spearmanr

    gen = np.random.default_rng(rng)
    rows = []
    for task, m in models.groupby("task"):
        comp, rest = m[m["compressed"]], m[~m["compressed"]]
        row = {"task": task, "models": len(m), "compressing": len(comp)}
        diffs, rhos = [], []
        for _ in range(n_boot if len(comp) and len(rest) else 0):
            a = comp["test_acc"].to_numpy()[gen.integers(0, len(comp), len(comp))]
            b = rest["test_acc"].to_numpy()[gen.integers(0, len(rest), len(rest))]
            diffs.append(a.mean() - b.mean())
        if diffs:
            row["test_acc_diff"] = comp["test_acc"].mean() - rest["test_acc"].mean()
            row["test_acc_diff_ci"] = "[{:.3f}, {:.3f}]".format(*np.percentile(diffs,
                                                                               [2.5, 97.5]))
        else:
            row["test_acc_diff"], row["test_acc_diff_ci"] = math.nan, "n/a"
        x, y = m["late_drop_bits"].to_numpy(), m["gap"].to_numpy()
        if len(m) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            row["spearman_drop_gap"] = float(spearmanr(x, y).statistic)
            for _ in range(n_boot):
                idx = gen.integers(0, len(m), len(m))
                if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
                    rhos.append(spearmanr(x[idx], y[idx]).statistic)
            row["spearman_ci"] = "[{:.2f}, {:.2f}]".format(*np.percentile(rhos, [2.5, 97.5]))
        else:
            row["spearman_drop_gap"], row["spearman_ci"] = math.nan, "n/a (no variation)"
        rows.append(row)
    return pd.DataFrame(rows)


def summarize(results: list[dict], mode: str = "population",
              estimator: str = "miller_madow") -> dict:
    """Every table of the report for one plane mode and estimator."""
    table = compression_table(results)
    failed = [r for r in results if r.get("status") != "ok"]
    if table.empty:
        return {"table": table, "failed": failed}
    chosen = table[(table["mode"] == mode) & (table["estimator"] == estimator)]
    if chosen.empty:
        have = sorted(set(zip(table["mode"], table["estimator"], strict=True)))
        raise ValueError(f"no results for mode {mode!r} and estimator {estimator!r}; they "
                         f"have {have}")
    models = model_table(chosen)
    return {"table": chosen, "failed": failed, "models": models,
            "by_task_regulariser": late_shares(chosen, ["task", "regulariser"]),
            "by_task_architecture": late_shares(chosen, ["task", "architecture"]),
            "association": association(models[models["regulariser"] != "random_labels"]),
            "assessable_share": float(chosen["assessable"].mean())}
