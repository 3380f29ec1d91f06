"""The study's report: a Markdown page of tables and three figures."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pandas as pd

from .._io import markdown_table, write_text
from .analysis import summarize
from .store import ResultStore

__all__ = ["write_report"]


def _scatter(models, regularisers, path: str) -> None:
    from ..plotting.heatmap import pyplot, save_figure

    plt = pyplot()
    tasks = sorted(models["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4.2), squeeze=False)
    # colours from every regulariser of the study, not only those plotted: the same
    # regulariser has the same colour on every page and every panel
    colours = {r: plt.get_cmap("tab10")(i) for i, r in enumerate(sorted(regularisers))}
    for ax, task in zip(axes[0], tasks, strict=True):
        m = models[models["task"] == task]
        for reg, g in m.groupby("regulariser"):
            jitter = np.random.default_rng(0).normal(0, 0.01, len(g))
            ax.scatter(g["late_drop_bits"] + jitter, g["gap"], color=colours[reg], label=reg,
                       s=22, alpha=0.8, edgecolor="none")
        ax.set_title(task)
        ax.set_xlabel("largest late drop of I(X;T) [bits] (0 = none)")
        ax.set_ylabel("generalisation gap (train − test accuracy)")
        ax.axhline(0, color="grey", lw=0.6)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=r)
               for r, c in colours.items()]
    axes[0][-1].legend(handles=handles, title="regulariser", fontsize=8)
    fig.suptitle("Late compression against generalisation, one point per model with an "
                 "assessable layer (random-label controls shown, not in the statistics)")
    fig.tight_layout()
    save_figure(fig, path)


def _assessable(table, path: str) -> None:
    from ..plotting.heatmap import pyplot, save_figure

    plt = pyplot()
    share = table.groupby(["task", "architecture"])["assessable"].mean().reset_index()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    labels = [f"{t}\n{a}" for t, a in zip(share["task"], share["architecture"], strict=True)]
    ax.bar(range(len(share)), share["assessable"], color="C0")
    ax.set_xticks(range(len(share)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of layers assessable")
    ax.set_ylim(0, 1)
    ax.set_title("Layers whose peak and end are trustworthy, per architecture")
    fig.tight_layout()
    save_figure(fig, path)


def _planes(results, mode: str, estimator: str, path: str) -> None:
    from ..plotting.heatmap import pyplot, save_figure

    plt = pyplot()
    chosen = {}
    for r in results:  # one run per task: no regulariser, first replicate, each architecture
        run = r["run"]
        if r.get("status") == "ok" and run["regulariser"] == "none" and run["replicate"] == 0:
            chosen.setdefault(run["task"], []).append(r)
    tasks = sorted(chosen)
    if not tasks:
        return
    cols = max(len(v) for v in chosen.values())
    fig, axes = plt.subplots(len(tasks), cols, figsize=(3.2 * cols, 3.0 * len(tasks)),
                             squeeze=False)
    trusted = ("reliable", "exact")  # points drawn as dots
    for i, task in enumerate(tasks):
        for j in range(cols):
            ax = axes[i][j]
            if j >= len(chosen[task]):
                ax.axis("off")
                continue
            r = chosen[task][j]
            plane = next(p for p in r["planes"] if p["mode"] == mode and
                         p["estimator"] == estimator)
            pts = pd.DataFrame(plane["points"])
            for layer, traj in pts.groupby("layer"):
                traj = traj.sort_values("epoch")
                line = ax.plot(traj["i_xt"], traj["i_ty"], lw=0.8, label=f"L{layer}")[0]
                ok = traj["verdict"].isin(trusted)
                ax.scatter(traj["i_xt"][ok], traj["i_ty"][ok], s=6, color=line.get_color())
                # a saturated layer sits at one point (log2 N, H(Y)): its line has no
                # length, so without a marker the panel would look empty
                sat = traj["verdict"] == "saturated"
                ax.scatter(traj["i_xt"][sat], traj["i_ty"][sat], s=14, marker="x",
                           lw=0.6, color=line.get_color())
            if (pts["verdict"] == "saturated").all():
                # above the middle: a lone saturated point is drawn at the centre
                ax.text(0.5, 0.72, "every point saturated", transform=ax.transAxes,
                        ha="center", va="center", fontsize=7, color="0.3")
            ax.axvline(np.log2(pts["n"].iloc[0]), color="magenta", ls=":", lw=1)
            ax.set_title(f"{task} {'-'.join(map(str, r['run']['widths']))}", fontsize=8)
            ax.set_xlabel("I(X;T) [bits]", fontsize=7)
            ax.set_ylabel("I(T;Y) [bits]", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.legend(fontsize=5)
    title = (f"Planes ({mode} mode, {estimator}): dots = reliable points, x = saturated "
             "points, bare line vertices = biased, undersampled or no-guarantee points; "
             "dotted line = log2 N")
    # wrapped to the figure's width: one long line widened a one-column figure threefold
    fig.suptitle(textwrap.fill(title, width=max(45, int(3.2 * cols * 12)),
                               break_on_hyphens=False), fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _sign_consistency(association) -> str:
    consistent = association.attrs["sign_consistent"]
    if consistent is None:
        return "n/a (a ρ in fewer than two tasks)"
    return str(consistent)  # True or False, as the stored reports in docs/ print it


def write_report(folder, out: str | None = None, *, mode: str | None = None,
                 estimator: str | None = None) -> str:
    """Write the report of the results in ``folder`` (default ``folder/results.md``).

    ``mode`` and ``estimator``: the planes to judge; by default population and
    Miller–Madow when the study measured them, else the first it did.

    A blockquote (lines starting with ``>``) right under the title of an existing report
    at ``out`` is kept: a hand-written status or reading of the results survives
    regeneration.
    """
    results = ResultStore(folder).results()
    if not results:
        raise ValueError(f"DIR: no verified results in {folder!r}; run "
                         "mi-regimes study run CONFIG --out DIR first")
    s = summarize(results, mode, estimator)
    mode, estimator = s["mode"], s["estimator"]
    out = out or os.path.join(folder, "results.md")
    stem = os.path.splitext(out)[0]
    ok = len(results) - len(s["failed"])
    seconds = sum(r.get("seconds", 0.0) for r in results)
    text = [f"# Late compression and generalisation ({ok} models)\n",
            f"Made by `mi-regimes study report` from {len(results)} stored runs "
            f"({len(s['failed'])} failed; {seconds / 3600:.2f} CPU-hours of runs). Planes in "
            f"{mode} mode with the {estimator} estimator; a layer is judged only where its "
            "peak and its last epoch are trustworthy (docs/infoplane.md), and late "
            "compression is a significant drop from the peak after the fitting phase (a "
            "paired bootstrap that allows for the peak being the largest of many "
            "estimates) with the peak's guaranteed interval above the end's.\n"]
    if "models" in s:
        sens = s["sensitivity"]
        text += [
            f"Share of layers that could be assessed: {s['assessable_share']:.2f}. Why the "
            "others could not (most frequent reasons):\n\n",
            markdown_table(s["reasons"].rename_axis("reason").rename("layers")
                           .reset_index()),
            "\n## Late compression per task and regulariser\n\n",
            markdown_table(s["by_task_regulariser"]),
            "\n## Late compression per task and architecture\n\n",
            markdown_table(s["by_task_architecture"]),
            "\n## Does compression go with generalisation?\n\n",
            "One observation per model (its largest late drop, 0 if none; random-label "
            "controls excluded). Spearman's ρ per task and pooled; 95 % bootstrap interval "
            "resampling whole runs; two-sided permutation p-value; Holm across tasks. "
            f"Sign consistent across tasks: {_sign_consistency(s['association_gap'])}."
            "\n\nLate drop (bits) against the train − test gap:\n\n",
            markdown_table(s["association_gap"]),
            "\nLate drop (bits) against clean-label test accuracy:\n\n",
            markdown_table(s["association_acc"]),
            "\nRelative drop against the gap:\n\n",
            markdown_table(s["association_relative"]),
            "\nStratified least squares, gap ~ drop + log2(width) + task + regulariser "
            "(bootstrap over runs):\n\n",
            markdown_table(s["regression"]),
            "\n## Robustness\n\nLate-compression share per estimator (same layers, "
            f"{mode} mode):\n\n", markdown_table(s["per_estimator"]),
            "\nAgreement of the estimators' calls on layers assessable under both:\n\n",
            markdown_table(s["agreement"]),
            f"\nLetting biased points in (no test, drop > 5 % of the peak): "
            f"{sens['late_with_biased_points']} of {sens['layers']} layers would show a late "
            f"drop, against {sens['late_main']} in the main analysis.\n",
            f"\n![compression vs generalisation]({os.path.basename(stem)}_scatter.png)\n",
            f"\n![share assessable]({os.path.basename(stem)}_assessable.png)\n",
            f"\n![planes]({os.path.basename(stem)}_planes.png)\n"]
        _scatter(s["models"], s["table"]["regulariser"].unique(), stem + "_scatter.png")
        _assessable(s["table"], stem + "_assessable.png")
        _planes(results, mode, estimator, stem + "_planes.png")
    if s["failed"]:
        text += ["\n## Failed runs\n"] + [f"- `{r['key']}`: {r['error']}\n" for r in s["failed"]]
    preface = _preface(out)
    if preface:  # a reader's note under the title (a '>' block) survives regeneration
        text.insert(1, preface)
    return write_text(out, "\n".join(text))


def _preface(path: str) -> str:
    """The blockquote right under the title of an existing report, or ''."""
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]
    while lines and not lines[0].strip():
        lines.pop(0)
    block = []
    for line in lines:
        if not line.startswith(">"):
            break
        block.append(line)
    return "\n".join(block) + "\n" if block else ""
