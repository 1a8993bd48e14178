"""``similarity_histogram.png``: every pair's score, counts on a log scale so that outliers stand
out, with the cluster threshold marked."""
from pathlib import Path
from typing import List

from .cluster import CLUSTER_SCORE


def histogram(out: Path, scores: List[float], ref_scores: List[float]) -> str:
    """Draw the scores of the student pairs and of the reference matches; return the file's name."""
    from helpers.plots import plt

    from ..report import save_figure

    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = [i * 2.0 for i in range(51)]
    if scores:
        ax.hist(scores, bins=bins, color="#4c72b0", label=f"student pairs ({len(scores)})")
    if ref_scores:
        ax.hist(ref_scores, bins=bins, color="#dd8452", alpha=0.7, label=f"student x reference ({len(ref_scores)})")
    ax.axvline(CLUSTER_SCORE * 100, color="#c44e52", linestyle="--", linewidth=1,
               label=f"clusters from {CLUSTER_SCORE * 100:g}%")
    if scores or ref_scores:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set(title="Shared student-written code" + ("" if scores or ref_scores else " (no pairs)"),
           xlabel="score (% of written code shared)", ylabel="pairs (log scale)", xlim=(0, 100))
    fig.tight_layout()
    name = save_figure(fig, out / "similarity_histogram.png")
    plt.close("all")
    return name
