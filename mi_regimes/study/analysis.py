"""The study's tables: how often late compression happens, and whether it goes with
generalisation.

Only what the compression detector judged is used: a layer counts as compressing when
``late`` is True (trustworthy peak and end, a significant paired drop from the peak after
the fitting phase, the choice of the peak allowed for, and beyond the estimates'
guaranteed intervals), as not compressing when ``late`` is False, and not at all when it
was not assessable. Shares come with Wilson 95 % intervals. Associations are over *runs*
(a model is one observation: its largest late drop, 0 if none, against its
generalisation), with bootstrap intervals that resample whole runs, permutation p-values,
Holm's correction across groups, and a stratified regression with width as a covariate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["compression_table", "model_table", "late_shares", "association", "regression",
           "estimator_agreement", "sensitivity", "summarize", "wilson", "holm", "cohen_kappa"]


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


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (p.size - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def cohen_kappa(a, b) -> float:
    """Cohen's κ of two binary call vectors (NaN when undefined).

    Examples
    --------
    >>> cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0])
    1.0
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.size == 0:
        return math.nan
    observed = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    chance = pa * pb + (1 - pa) * (1 - pb)
    return math.nan if chance >= 1 else float((observed - chance) / (1 - chance))


def compression_table(results: list[dict]) -> pd.DataFrame:
    """One row per (run, mode, estimator, layer) of the successful runs."""
    rows = []
    for r in results:
        if r.get("status") != "ok":
            continue
        run, m = r["run"], r["metrics"]
        widths = run["widths"]
        for c in r["compression"]:
            layer = int(c["layer"])
            rows.append({"key": r["key"], "task": run["task"],
                         "architecture": "-".join(map(str, widths)),
                         "regulariser": run["regulariser"], "replicate": run["replicate"],
                         "mode": c["mode"], "estimator": c["estimator"], "layer": layer,
                         "width": widths[layer] if layer < len(widths) else math.nan,
                         "assessable": bool(c["assessable"]), "late": c["late"] is True,
                         "drop_bits": c["drop_bits"], "relative_drop": c["relative_drop"],
                         "p_value": c["p_value"], "reason": c["reason"],
                         "fit_end_epoch": c["fit_end_epoch"],
                         "test_acc": m["test_acc"], "train_acc": m["train_acc"],
                         "gap": m["gap"]})
    return pd.DataFrame(rows)


def model_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per run (and mode, estimator): layers assessed, late layers, largest late drop."""
    keys = ["key", "task", "architecture", "regulariser", "mode", "estimator"]
    g = table.groupby(keys)
    out = g.agg(layers=("layer", "size"), layers_assessed=("assessable", "sum"),
                late_layers=("late", "sum"), test_acc=("test_acc", "first"),
                gap=("gap", "first"), width=("width", "median")).reset_index()
    largest = table[table["late"]].groupby(keys).agg(
        late_drop_bits=("drop_bits", "max"), late_relative_drop=("relative_drop", "max"))
    out = out.join(largest, on=keys)
    out[["late_drop_bits", "late_relative_drop"]] = out[
        ["late_drop_bits", "late_relative_drop"]].astype(float).fillna(0.0)
    out["compressed"] = out["late_layers"] > 0
    return out


def late_shares(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: share of layers assessable, and of assessable layers and of models
    (with an assessable layer) showing late compression, with Wilson intervals."""
    models = model_table(table)
    rows = []
    for group, layers in table.groupby(by):
        group = group if isinstance(group, tuple) else (group,)
        assessed = layers[layers["assessable"]]
        late = int(assessed["late"].sum())
        mods = models.merge(pd.DataFrame([dict(zip(by, group, strict=True))]), on=by)
        mods = mods[mods["layers_assessed"] > 0]
        lo, hi = wilson(late, len(assessed))
        mlo, mhi = wilson(int(mods["compressed"].sum()), len(mods))
        rows.append({**dict(zip(by, group, strict=True)), "layers": len(layers),
                     "assessable_share": len(assessed) / len(layers),
                     "late_share": late / len(assessed) if len(assessed) else math.nan,
                     "late_ci": f"[{lo:.2f}, {hi:.2f}]", "models": len(mods),
                     "model_share": float(mods["compressed"].mean()) if len(mods)
                     else math.nan, "model_ci": f"[{mlo:.2f}, {mhi:.2f}]"})
    return pd.DataFrame(rows)


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(spearmanr(x, y).statistic)


def association(models: pd.DataFrame, x: str = "late_drop_bits", y: str = "gap", *,
                by: str = "task", n_boot: int = 1000, n_perm: int = 1000,
                rng=0) -> pd.DataFrame:
    """Spearman's ρ of ``x`` and ``y`` over runs, per group and pooled: bootstrap 95 %
    interval resampling whole runs, two-sided permutation p-value, Holm across groups.

    ``attrs["sign_consistent"]``: whether every group's ρ has one sign; None when fewer
    than two groups have a ρ (fewer than three runs, or a constant column)."""
    gen = np.random.default_rng(rng)
    rows = []
    groups = [(str(g), m) for g, m in models.groupby(by)] + [("pooled", models)]
    for name, m in groups:
        xs, ys = m[x].to_numpy(float), m[y].to_numpy(float)
        rho = _spearman(xs, ys)
        row = {by: name, "runs": len(m), "compressing": int(m["compressed"].sum()),
               "rho": rho, "ci": "n/a", "p_perm": math.nan}
        if not math.isnan(rho):
            boots = [_spearman(xs[i], ys[i]) for i in
                     (gen.integers(0, len(m), len(m)) for _ in range(n_boot))]
            boots = np.array([b for b in boots if not math.isnan(b)])
            if boots.size:
                row["ci"] = "[{:.2f}, {:.2f}]".format(*np.percentile(boots, [2.5, 97.5]))
            perms = np.array([_spearman(xs, gen.permutation(ys)) for _ in range(n_perm)])
            row["p_perm"] = (1 + np.sum(np.abs(perms) >= abs(rho) - 1e-12)) / (1 + n_perm)
        rows.append(row)
    out = pd.DataFrame(rows)
    groups_only = out[by] != "pooled"
    valid = groups_only & out["p_perm"].notna()
    out["p_holm"] = math.nan
    if valid.any():
        out.loc[valid, "p_holm"] = holm(out.loc[valid, "p_perm"].to_numpy())
    signs = np.sign(out.loc[groups_only, "rho"].dropna())
    # one group with a ρ agrees with nothing and none agrees with nothing: no answer then
    out.attrs["sign_consistent"] = bool((signs == signs.iloc[0]).all()) \
        if signs.size >= 2 else None
    return out


def regression(models: pd.DataFrame, y: str = "gap", n_boot: int = 1000,
               rng=0) -> pd.DataFrame:
    """Stratified least squares: y ~ late drop + log2(width) + task and regulariser
    effects; the drop coefficient with a bootstrap interval over runs."""
    data = models.dropna(subset=["width"]).reset_index(drop=True)
    if len(data) < 6:
        return pd.DataFrame()
    dummies = pd.get_dummies(data[["task", "regulariser"]], drop_first=True, dtype=float)
    design = np.column_stack([np.ones(len(data)), data["late_drop_bits"],
                              np.log2(data["width"].astype(float)), dummies.to_numpy()])
    target = data[y].to_numpy(float)

    def fit(rows):
        coef, *_ = np.linalg.lstsq(design[rows], target[rows], rcond=None)
        return coef[1], coef[2]

    gen = np.random.default_rng(rng)
    drop, width = fit(np.arange(len(data)))
    boots = np.array([fit(gen.integers(0, len(data), len(data))) for _ in range(n_boot)])
    lo, hi = np.percentile(boots[:, 0], [2.5, 97.5])
    wlo, whi = np.percentile(boots[:, 1], [2.5, 97.5])
    return pd.DataFrame([{"term": "late drop (per bit)", "coef": drop,
                          "ci": f"[{lo:.4f}, {hi:.4f}]"},
                         {"term": "log2 width", "coef": width,
                          "ci": f"[{wlo:.4f}, {whi:.4f}]"}])


def estimator_agreement(table: pd.DataFrame, mode: str = "population") -> pd.DataFrame:
    """Cohen's κ between estimators' late calls on layers assessable under both."""
    t = table[(table["mode"] == mode) & table["assessable"]]
    wide = t.pivot_table(index=["key", "layer"], columns="estimator", values="late",
                         aggfunc="first")
    names = list(wide.columns)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = wide[[a, b]].dropna()
            rows.append({"pair": f"{a} / {b}", "layers": len(both),
                         "agreement": float((both[a] == both[b]).mean()) if len(both)
                         else math.nan,
                         "kappa": cohen_kappa(both[a].astype(bool), both[b].astype(bool))})
    return pd.DataFrame(rows)


def sensitivity(results: list[dict], mode: str, estimator: str,
                min_relative: float = 0.05) -> dict:
    """Late drops when biased points are let in: from the stored planes, the largest
    I(X;T) after the fitting phase versus the last point, every non-saturated in-bounds
    point allowed; a drop counts beyond ``min_relative`` of the peak (no test: the
    comparison shows what trusting biased points would add)."""
    strict = loose = layers = 0
    for r in results:
        if r.get("status") != "ok":
            continue
        plane = next((p for p in r["planes"] if p["mode"] == mode and
                      p["estimator"] == estimator), None)
        if plane is None:
            continue
        points = pd.DataFrame(plane["points"])
        found = {c["layer"]: c for c in r["compression"]
                 if c["mode"] == mode and c["estimator"] == estimator}
        for layer, traj in points.groupby("layer"):
            c = found.get(layer)
            if c is None:
                continue
            layers += 1
            strict += c["late"] is True
            usable = traj[(traj["verdict"] != "saturated") & traj["in_bounds"]]
            after = usable[usable["epoch"] >= c["fit_end_epoch"]].sort_values("epoch")
            if len(after) >= 2:
                peak, end = after["i_xt"].max(), after["i_xt"].iloc[-1]
                loose += bool(peak - end > min_relative * peak)
    return {"layers": layers, "late_main": strict, "late_with_biased_points": loose}


def summarize(results: list[dict], mode: str | None = None,
              estimator: str | None = None) -> dict:
    """Every table of the report for one plane mode and estimator.

    ``mode`` and ``estimator`` default to population and Miller–Madow when the study
    measured them, else to the first it did (a study of plug-in planes alone was refused
    for lack of Miller–Madow unless the user named the estimator). The ones used are
    returned as ``mode`` and ``estimator``.
    """
    table = compression_table(results)
    failed = [r for r in results if r.get("status") != "ok"]
    if table.empty:
        return {"table": table, "failed": failed, "mode": mode or "population",
                "estimator": estimator or "miller_madow"}
    if mode is None:
        modes = list(dict.fromkeys(table["mode"]))
        mode = "population" if "population" in modes else modes[0]
    if estimator is None:
        measured = list(dict.fromkeys(table.loc[table["mode"] == mode, "estimator"]))
        estimator = "miller_madow" if "miller_madow" in measured or not measured \
            else measured[0]
    chosen = table[(table["mode"] == mode) & (table["estimator"] == estimator)]
    if chosen.empty:
        have = sorted(set(zip(table["mode"], table["estimator"], strict=True)))
        raise ValueError(f"mode, estimator: no results for {mode!r} planes with {estimator!r}; "
                         f"the study measured {have}; choose one of those")
    models = model_table(chosen)
    # a model with no assessable layer says nothing about compression: left out of the
    # associations (it would count as "no drop")
    models = models[models["layers_assessed"] > 0]
    controls = models["regulariser"] == "random_labels"
    return {"table": chosen, "all": table, "failed": failed, "models": models,
            "mode": mode, "estimator": estimator,
            "by_task_regulariser": late_shares(chosen, ["task", "regulariser"]),
            "by_task_architecture": late_shares(chosen, ["task", "architecture"]),
            "association_gap": association(models[~controls], "late_drop_bits", "gap"),
            "association_acc": association(models[~controls], "late_drop_bits", "test_acc"),
            "association_relative": association(models[~controls], "late_relative_drop",
                                                "gap"),
            "regression": regression(models[~controls]),
            "agreement": estimator_agreement(table, mode),
            "per_estimator": late_shares(table[table["mode"] == mode],
                                         ["estimator"]),
            "sensitivity": sensitivity(results, mode, estimator),
            "assessable_share": float(chosen["assessable"].mean()),
            "reasons": chosen[~chosen["assessable"]]["reason"].str.split(":").str[-1]
            .str.strip().value_counts().head(8)}
