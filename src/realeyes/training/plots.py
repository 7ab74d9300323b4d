"""PNG plots of detector evaluations (ROC, precision-recall, reliability), drawn off-screen with matplotlib's Agg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from realeyes.training import metrics

_SIZE_INCHES = (5.0, 5.0)
_DPI = 100


def _new_axes() -> tuple[Figure, Axes]:
    """A square figure bound to an Agg canvas, with one set of axes on the unit square."""
    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.02)
    axes.grid(True, alpha=0.3)
    return figure, axes


def _note(axes: Axes, text: str) -> None:
    """Write a centred note on the axes, for plots whose curve is undefined."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)


def _save(figure: Figure, path: str | Path) -> None:
    """Write the figure as a PNG, creating the parent folder."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out, format="png")


def save_roc(path: str | Path, labels: npt.ArrayLike, scores: npt.ArrayLike) -> None:
    """Write the ROC curve with its AUC and EER as a PNG (a note instead if one class is missing)."""
    figure, axes = _new_axes()
    axes.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="grey", linewidth=1)
    auc, eer = metrics.roc_auc(labels, scores), metrics.equal_error_rate(labels, scores)
    if auc is None or eer is None:
        _note(axes, "ROC undefined: needs real and fake samples")
        axes.set_title("ROC")
    else:
        fpr, tpr, _ = metrics.roc_curve(labels, scores)
        axes.plot(fpr, tpr, linewidth=2)
        axes.set_title(f"ROC  AUC={auc:.4f}  EER={eer:.4f}")
    axes.set_xlabel("false-positive rate (real flagged as fake)")
    axes.set_ylabel("true-positive rate (fakes caught)")
    _save(figure, path)


def save_pr(path: str | Path, labels: npt.ArrayLike, scores: npt.ArrayLike) -> None:
    """Write the precision-recall curve (fake = positive) with its average precision as a PNG."""
    figure, axes = _new_axes()
    ap = metrics.average_precision(labels, scores)
    if ap is None:
        _note(axes, "PR undefined: needs fake samples")
        axes.set_title("Precision-recall")
    else:
        precision, recall, _ = metrics.precision_recall_curve(labels, scores)
        axes.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="pre", linewidth=2)
        prevalence = float(np.mean(np.asarray(labels, dtype=np.float64)))
        axes.axhline(prevalence, linestyle="--", color="grey", linewidth=1)
        axes.set_title(f"Precision-recall  AP={ap:.4f}")
    axes.set_xlabel("recall (fakes caught)")
    axes.set_ylabel("precision (flagged that are fake)")
    _save(figure, path)


def save_reliability(path: str | Path, labels: npt.ArrayLike, probs: npt.ArrayLike, bins: int = 10) -> None:
    """Write a reliability diagram (observed fake frequency against mean p_fake per bin) with the ECE as a PNG."""
    figure, axes = _new_axes()
    axes.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="grey", linewidth=1)
    rows = [row for row in metrics.reliability_bins(labels, probs, bins) if row["count"]]
    ece = metrics.expected_calibration_error(labels, probs, bins)
    if ece is None:
        _note(axes, "no samples")
        axes.set_title("Reliability")
    else:
        width = 1.0 / bins
        lefts = [row["lower"] for row in rows]
        axes.bar(lefts, [row["observed_frequency"] for row in rows], width=width, align="edge", alpha=0.4)
        axes.plot([row["mean_confidence"] for row in rows], [row["observed_frequency"] for row in rows], marker="o")
        for row in rows:
            axes.annotate(str(row["count"]), (row["lower"] + width / 2, 0.01), ha="center", fontsize=7)
        axes.set_title(f"Reliability  ECE={ece:.4f}")
    axes.set_xlabel("mean predicted p_fake")
    axes.set_ylabel("observed fake frequency")
    _save(figure, path)
