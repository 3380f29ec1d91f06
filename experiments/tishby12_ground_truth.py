"""Estimates against the exact truth along real training trajectories (tishby12).

The tishby12 population is known: all 4096 twelve-bit patterns, X uniform over them. Each
run records every binary layer on the whole population as well as on the training subset,
so at every (epoch, layer) the exact population values H(T) = I(X;T) and I(T;Y) are the
empirical-mode plane on the split ``population``. Against them we score the population-mode
estimates from random subsets of the training inputs (N = 256, 1024 and the whole training
split), for each estimator:

* the error in bits of I(X;T) and of I(T;Y), per estimator, N and verdict;
* how often the verdict was right: a point called ``reliable`` is right when
  |Î(X;T) - I(X;T)| <= tol·I(X;T) (the verdict's own promise, tol = 5 %).

Writes ``docs/validation/tishby12_truth.md`` (tables), ``.csv`` (every point) and
``docs/img/tishby12_truth.png``. Run: ``python experiments/tishby12_ground_truth.py
[--seeds 5] [--epochs 300]`` (about 6 min on two cores; ``--quick``: 1 seed, 40 epochs).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from tqdm import tqdm

from mi_regimes import infoplane
from mi_regimes._io import markdown_table, write_text
from mi_regimes.bits import PackedBits
from mi_regimes.bnn import BinaryMLP, Recorder, datasets, fit
from mi_regimes.verdicts import DEFAULT_TOL

ESTIMATORS = ("plugin", "miller_madow", "jackknife", "bootstrap", "nsb")
WIDTHS = [12, 10, 7, 5, 4]
SUBSETS = (256, 1024, None)  # None: the whole training split
HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, os.pardir, "docs")


def train_run(seed: int, epochs: int, snapshots: int):
    data = datasets.load("tishby12", rng=seed)
    model = BinaryMLP(WIDTHS, n_classes=2, rng=seed)
    recorder = Recorder(n_snapshots=snapshots, extra={"population": datasets.tishby12()})
    history = fit(model, data, epochs, 256, 1e-2, seed, record=recorder)
    return history.recording


def subset(packed: PackedBits, rows: np.ndarray) -> PackedBits:
    return PackedBits(packed.words[rows], int(rows.size), packed.d)


def score_run(seed: int, recording, n_boot: int) -> list[dict]:
    truth = infoplane.information_plane(recording, mode="empirical", split="population")
    truth = truth.set_index(["epoch", "layer"])
    train = recording.sets["train"]
    n_train = train.labels.size
    rng = np.random.default_rng([seed, 7])
    chosen = {n: (np.sort(rng.choice(n_train, n, replace=False)) if n else np.arange(n_train))
              for n in SUBSETS}
    out = []
    for s, epoch in enumerate(recording.epochs):
        for i, layer in enumerate(train.snapshots[s]):
            true = truth.loc[(epoch, i + 1)]
            for n, rows in chosen.items():
                t, y = subset(layer, rows), train.labels[rows]
                for estimator in ESTIMATORS:
                    p = infoplane.plane_point(t, y, estimator, n_classes=2, h_x=12.0,
                                              n_boot=n_boot, rng=[seed, s, i])
                    out.append({
                        "seed": seed, "epoch": epoch, "layer": i + 1, "d": layer.d,
                        "n": rows.size, "subset": "train" if n is None else str(n),
                        "estimator": estimator, "verdict": p["verdict"],
                        "in_bounds": p["in_bounds"],
                        "true_i_xt": true["i_xt"], "true_i_ty": true["i_ty"],
                        "i_xt": p["i_xt"], "i_ty": p["i_ty"],
                        "covered_xt": p["i_xt_low"] <= true["i_xt"] <= p["i_xt_high"],
                        "covered_ty": p["i_ty_low"] <= true["i_ty"] <= p["i_ty_high"],
                    })
    return out


def summarize(points: pd.DataFrame, tol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    points = points.assign(
        err_xt=points["i_xt"] - points["true_i_xt"],
        err_ty=points["i_ty"] - points["true_i_ty"],
        within=(points["i_xt"] - points["true_i_xt"]).abs()
        <= tol * points["true_i_xt"] + 1e-12,
    )
    errors = points.groupby(["estimator", "n"]).agg(
        points=("err_xt", "size"),
        mean_err_xt=("err_xt", "mean"), max_abs_err_xt=("err_xt", lambda e: e.abs().max()),
        mean_err_ty=("err_ty", "mean"), max_abs_err_ty=("err_ty", lambda e: e.abs().max()),
        within_tol=("within", "mean"), coverage_xt=("covered_xt", "mean"),
        coverage_ty=("covered_ty", "mean"), out_of_bounds=("in_bounds", lambda b: (~b).sum()),
    ).reset_index()
    verdicts = points.groupby(["estimator", "n", "verdict"]).agg(
        points=("within", "size"), within_tol=("within", "mean"),
        mean_abs_err_xt=("err_xt", lambda e: e.abs().mean()),
    ).reset_index()
    return errors, verdicts


def figure(points: pd.DataFrame, recording, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_plane, ax_err) = plt.subplots(1, 2, figsize=(13, 6.2))
    first = points[(points["seed"] == points["seed"].min()) & (points["estimator"] == "plugin")]
    colours = plt.get_cmap("tab10")
    for layer, traj in first[first["subset"] == "256"].groupby("layer"):
        c = colours(layer - 1)
        ax_plane.plot(traj["true_i_xt"], traj["true_i_ty"], color=c, lw=2,
                      label=f"layer {layer} (D = {int(traj['d'].iloc[0])}): exact")
        ok = traj["verdict"] == "reliable"
        ax_plane.plot(traj["i_xt"], traj["i_ty"], color=c, lw=0.8, ls="--")
        ax_plane.scatter(traj["i_xt"][ok], traj["i_ty"][ok], color=c, s=18, zorder=3)
        ax_plane.scatter(traj["i_xt"][~ok], traj["i_ty"][~ok], facecolor="white",
                         edgecolor=c, s=18, zorder=3)
    ax_plane.axvline(np.log2(256), color="grey", ls=":", lw=1)
    ax_plane.text(np.log2(256), 0.98, " log2 N\n (N = 256)", color="grey", fontsize=8,
                  va="top", transform=ax_plane.get_xaxis_transform())
    ax_plane.set_xlabel("I(X;T) (bits)")
    ax_plane.set_ylabel("I(T;Y) (bits)")
    ax_plane.set_title("tishby12, seed 0: exact (population of 4096) vs plug-in on N = 256\n"
                       "dashed: estimate; filled: verdict reliable, open: not reliable",
                       fontsize=10)
    ax_plane.plot([], [], color="black", lw=0.8, ls="--", label="plug-in estimate, N = 256")
    ax_plane.legend(fontsize=8, loc="upper left")

    markers = {"reliable": "o", "biased": "v", "undersampled": "s", "saturated": "X"}
    sub = points[points["estimator"].isin(["plugin", "miller_madow", "nsb"])]
    offsets = {"plugin": -0.12, "miller_madow": 0.0, "nsb": 0.12}
    for (estimator, verdict), g in sub.groupby(["estimator", "verdict"]):
        x = np.log2(g["n"]) + offsets[estimator]
        reliable = verdict == "reliable"  # drawn on top, outlined: the points that promise
        ax_err.scatter(x, g["i_xt"] - g["true_i_xt"], s=22 if reliable else 8,
                       alpha=0.9 if reliable else 0.4, marker=markers.get(verdict, "D"),
                       color={"plugin": "C0", "miller_madow": "C1", "nsb": "C2"}[estimator],
                       edgecolor="black" if reliable else "none", linewidth=0.5,
                       zorder=3 if reliable else 2, label=f"{estimator}, {verdict}")
    ax_err.axhline(0, color="black", lw=0.8)
    ax_err.set_xlabel("log2 N (subset of the training inputs)")
    ax_err.set_ylabel("Î(X;T) - I(X;T) (bits)")
    ax_err.set_title("error of I(X;T) at every (seed, epoch, layer), by verdict", fontsize=10)
    ax_err.legend(fontsize=7, ncol=3, markerscale=2, loc="upper center",
                  bbox_to_anchor=(0.5, -0.13))
    fig.tight_layout()
    fig.savefig(path, dpi=140)
    plt.close(fig)


def markdown(errors, verdicts, args, seconds) -> str:
    reliable = verdicts[verdicts["verdict"] == "reliable"]
    return (
        "# Estimates against the exact truth on real tishby12 trajectories\n\n"
        f"Made by `python experiments/tishby12_ground_truth.py --seeds {args.seeds} "
        f"--epochs {args.epochs}` in {seconds / 60:.1f} min. Network 12-10-7-5-4-2, batch "
        "256, Adam 0.01 cosine; every binary layer recorded on the training inputs and on "
        "all 4096 patterns. Truth: the empirical plane on the population (X uniform over "
        "all 4096 inputs). Estimates: population mode on random subsets of the training "
        f"inputs. Tolerance {DEFAULT_TOL:.0%} of I(X;T).\n\n"
        "## Errors per estimator and N\n\n"
        "err = estimate - truth (bits); within_tol: share of points with |err_xt| <= "
        "tol·I(X;T); coverage: share of reported intervals that hold the truth.\n\n"
        + markdown_table(errors) +
        "\n\n## How often the verdict was right\n\n"
        "A point called reliable is right when it is within the tolerance of the truth.\n\n"
        + markdown_table(reliable) +
        "\n\n## Every verdict\n\n" + markdown_table(verdicts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--snapshots", type=int, default=30)
    parser.add_argument("--n-boot", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=DOCS)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.snapshots, args.n_boot = 1, 40, 8, 30
    start = time.perf_counter()
    rows, first = [], None
    for seed in tqdm(range(args.seeds), desc="runs", unit="run"):
        recording = train_run(seed, args.epochs, args.snapshots)
        first = first or recording
        rows.extend(score_run(seed, recording, args.n_boot))
    points = pd.DataFrame(rows)
    errors, verdicts = summarize(points, DEFAULT_TOL)
    seconds = time.perf_counter() - start
    os.makedirs(os.path.join(args.out, "validation"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "img"), exist_ok=True)
    points.to_csv(os.path.join(args.out, "validation", "tishby12_truth.csv"), index=False)
    write_text(os.path.join(args.out, "validation", "tishby12_truth.md"),
               markdown(errors, verdicts, args, seconds))
    figure(points, first, os.path.join(args.out, "img", "tishby12_truth.png"))
    pd.set_option("display.width", 160)
    print(errors.to_string(index=False))
    print(verdicts[verdicts["verdict"] == "reliable"].to_string(index=False))
    print(f"done in {seconds:.0f} s")


if __name__ == "__main__":
    main()
