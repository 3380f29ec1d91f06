"""The study's report: a Markdown page of tables and one figure."""

from __future__ import annotations

import os

from .._io import write_text
from .analysis import summarize
from .store import ResultStore

__all__ = ["write_report"]


def _table(df) -> str:
    if df is None or len(df) == 0:
        return "(none)\n"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                       for v in r) + " |")
    return "\n".join(lines) + "\n"


def _figure(models, path: str) -> None:
    from ..plotting.heatmap import pyplot, save_figure

    plt = pyplot()
    tasks = sorted(models["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4.2), squeeze=False)
    regs = sorted(models["regulariser"].unique())
    colours = {r: plt.get_cmap("tab10")(i) for i, r in enumerate(regs)}
    for ax, task in zip(axes[0], tasks, strict=True):
        m = models[models["task"] == task]
        for reg, g in m.groupby("regulariser"):
            ax.scatter(g["late_drop_bits"], g["gap"], color=colours[reg], label=reg, s=22,
                       alpha=0.8, edgecolor="none")
        ax.set_title(task)
        ax.set_xlabel("largest late drop of I(X;T) (bits; 0 = none)")
        ax.set_ylabel("generalisation gap (train - test accuracy)")
        ax.axhline(0, color="grey", lw=0.6)
    axes[0][0].legend(title="regulariser", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def write_report(folder, out: str | None = None, *, mode: str = "population",
                 estimator: str = "miller_madow") -> str:
    """Write the report of the results in ``folder`` (default ``folder/results.md``)."""
    results = ResultStore(folder).results()
    if not results:
        raise ValueError(f"DIR: no verified results in {folder!r}; run "
                         "mi-regimes study run CONFIG --out DIR first")
    s = summarize(results, mode, estimator)
    out = out or os.path.join(folder, "results.md")
    png = os.path.splitext(out)[0] + ".png"
    ok = len(results) - len(s["failed"])
    text = [f"# Late compression and generalisation ({ok} models)\n",
            f"Made by `mi-regimes study report {folder}` from {len(results)} stored runs "
            f"({len(s['failed'])} failed). Planes in {mode} mode with the {estimator} "
            "estimator; a layer is judged only where its peak and its last epoch are "
            "trustworthy (docs/infoplane.md), and late compression is a significant paired "
            "drop after the fitting phase.\n"]
    if "models" in s:
        text += [f"Share of layers that could be assessed: {s['assessable_share']:.2f}.\n",
                 "## Late compression per task and regulariser\n",
                 _table(s["by_task_regulariser"]),
                 "\n## Late compression per task and architecture\n",
                 _table(s["by_task_architecture"]),
                 "\n## Does compression go with generalisation?\n",
                 "Per task, over models (random-label controls excluded): test accuracy of "
                 "models with a late-compressing layer minus the others', and Spearman's rho "
                 "between the largest late drop and the train-test gap; bootstrap 95 % "
                 "intervals over models.\n\n",
                 _table(s["association"]),
                 f"\n![compression vs generalisation]({os.path.basename(png)})\n"]
        _figure(s["models"], png)
    if s["failed"]:
        text += ["\n## Failed runs\n"] + [f"- `{r['key']}`: {r['error']}\n" for r in s["failed"]]
    return write_text(out, "\n".join(text))
