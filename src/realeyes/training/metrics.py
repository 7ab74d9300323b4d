"""Evaluation metrics for the learned detectors, in plain numpy/scipy.

Conventions: label 1 = AI-generated/fake, 0 = real; a score is p_fake (higher = more likely fake); a sample is
predicted fake when score >= threshold. A metric that is undefined for the input (one class only, no samples)
is returned as None rather than NaN, and computing it emits no warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DECIMALS = 4


# ---------------------------------------------------------------- input checks


def _as_labels(labels: npt.ArrayLike) -> BoolArray:
    """Return labels as a 1-D bool array (True = fake), rejecting anything but 0/1."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {arr.shape}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError("labels must be 0 (real) or 1 (fake)")
    return arr.astype(np.bool_)


def _as_scores(scores: npt.ArrayLike) -> FloatArray:
    """Return scores as a 1-D float64 array, rejecting NaN and infinities."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("scores must be finite")
    return arr


def _as_probs(probs: npt.ArrayLike) -> FloatArray:
    """Return probabilities as a 1-D float64 array, rejecting values outside [0, 1]."""
    arr = _as_scores(probs)
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    return arr


def _prepare(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[BoolArray, FloatArray]:
    """Validate a (labels, scores) pair of equal length."""
    y, s = _as_labels(labels), _as_scores(scores)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.size} vs {s.size}")
    return y, s


def _both_classes(y: BoolArray) -> bool:
    """Whether both real and fake samples are present."""
    return bool(y.any()) and not bool(y.all())


def rounded(value: float | None) -> float | None:
    """Round to the report's precision, keeping None."""
    return None if value is None else round(float(value), _DECIMALS)


# ---------------------------------------------------------------- ranking metrics


def _cumulative_counts(y: BoolArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """True/false positive counts at each distinct score, thresholds descending."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), y_sorted.size - 1]
    tps = np.cumsum(y_sorted, dtype=np.float64)[last_of_run]
    fps = (last_of_run + 1).astype(np.float64) - tps
    return tps, fps, s_sorted[last_of_run]


def roc_curve(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ROC curve (fpr, tpr, thresholds), thresholds descending from +inf; ValueError unless both classes present."""
    y, s = _prepare(labels, scores)
    if not _both_classes(y):
        raise ValueError("the ROC curve needs both real and fake samples")
    tps, fps, thresholds = _cumulative_counts(y, s)
    n_pos, n_neg = float(y.sum()), float((~y).sum())
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    return fpr, tpr, np.r_[np.inf, thresholds]


def precision_recall_curve(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Precision-recall points (precision, recall, thresholds), thresholds descending; ValueError without fakes."""
    y, s = _prepare(labels, scores)
    if not y.any():
        raise ValueError("the precision-recall curve needs fake samples")
    tps, fps, thresholds = _cumulative_counts(y, s)
    return tps / (tps + fps), tps / float(y.sum()), thresholds


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Area under the ROC curve with ties counted one half (Mann-Whitney U / (n_pos*n_neg)); None if one class."""
    y, s = _prepare(labels, scores)
    if not _both_classes(y):
        return None
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    ranks = rankdata(s)
    u_statistic = float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2.0
    return u_statistic / (n_pos * n_neg)


def auc_interval(
    labels: npt.ArrayLike, scores: npt.ArrayLike, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the ROC AUC, resampling real and fake images separately (so every
    resample has both classes); None if one class. How far a figure can move by the luck of the test draw."""
    y, s = _prepare(labels, scores)
    if not _both_classes(y):
        return None
    real, fake = s[~y], s[y]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        drawn_real = rng.choice(real, real.size)
        drawn_fake = rng.choice(fake, fake.size)
        ranks = rankdata(np.concatenate([drawn_fake, drawn_real]))
        values.append((ranks[: fake.size].sum() - fake.size * (fake.size + 1) / 2.0) / (fake.size * real.size))
    tail = (1.0 - level) / 2.0 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def average_precision(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Step-wise average precision, sum over thresholds of (R_n - R_{n-1}) * P_n; None without fakes."""
    y, s = _prepare(labels, scores)
    if not y.any():
        return None
    precision, recall, _ = precision_recall_curve(y, s)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def equal_error_rate(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Rate where false-positive and false-negative rates meet on the (linearly interpolated) ROC; None if one class."""
    y, s = _prepare(labels, scores)
    if not _both_classes(y):
        return None
    fpr, tpr, _ = roc_curve(y, s)
    gap = (1.0 - tpr) - fpr  # non-increasing: +1 at the first point, -1 at the last
    i = int(np.argmax(gap <= 0.0))
    if gap[i] == 0.0:
        return float(fpr[i])
    t = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def fpr_at_tpr(labels: npt.ArrayLike, scores: npt.ArrayLike, tpr: float = 0.95) -> float | None:
    """Lowest false-positive rate of a threshold that catches at least `tpr` of the fakes; None if one class."""
    if not 0.0 <= tpr <= 1.0:
        raise ValueError(f"tpr must lie in [0, 1], got {tpr}")
    y, s = _prepare(labels, scores)
    if not _both_classes(y):
        return None
    fpr_curve, tpr_curve, _ = roc_curve(y, s)
    return float(fpr_curve[tpr_curve >= tpr].min())


# ---------------------------------------------------------------- threshold metrics


def confusion(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> dict[str, int]:
    """Confusion counts tn/fp/fn/tp with a sample predicted fake when score >= threshold."""
    y, s = _prepare(labels, scores)
    pred = s >= threshold
    return {
        "tn": int(np.sum(~y & ~pred)),
        "fp": int(np.sum(~y & pred)),
        "fn": int(np.sum(y & ~pred)),
        "tp": int(np.sum(y & pred)),
    }


def accuracy(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> float | None:
    """Fraction of samples classified correctly at the threshold; None when empty."""
    c = confusion(labels, scores, threshold)
    n = sum(c.values())
    return (c["tn"] + c["tp"]) / n if n else None


def balanced_accuracy(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> float | None:
    """Mean of the true-positive and true-negative rates at the threshold; None unless both classes present."""
    c = confusion(labels, scores, threshold)
    n_pos, n_neg = c["tp"] + c["fn"], c["tn"] + c["fp"]
    if not (n_pos and n_neg):
        return None
    return (c["tp"] / n_pos + c["tn"] / n_neg) / 2.0


def f1_from_counts(tp: float, fp: float, fn: float) -> float | None:
    """F1 = 2tp / (2tp + fp + fn); None when there is nothing positive, true or predicted."""
    denominator = 2.0 * tp + fp + fn
    return 2.0 * tp / denominator if denominator else None


def f1(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> float | None:
    """F1 of the fake class at the threshold; None when there are no fakes and none are predicted."""
    c = confusion(labels, scores, threshold)
    return f1_from_counts(c["tp"], c["fp"], c["fn"])


# ---------------------------------------------------------------- calibration


def _bin_index(probs: FloatArray, bins: int) -> npt.NDArray[np.intp]:
    """Equal-width bin of each probability over [0, 1], with 1.0 in the last bin."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    return np.minimum((probs * bins).astype(np.intp), bins - 1)


def reliability_bins(labels: npt.ArrayLike, probs: npt.ArrayLike, bins: int = 10) -> list[dict[str, Any]]:
    """Per equal-width p_fake bin: edges, count, mean predicted p_fake, observed fake frequency (None if empty)."""
    y, p = _as_labels(labels), _as_probs(probs)
    if y.shape != p.shape:
        raise ValueError(f"labels and probs differ in length: {y.size} vs {p.size}")
    index = _bin_index(p, bins)
    counts = np.bincount(index, minlength=bins)
    prob_sums = np.bincount(index, weights=p, minlength=bins)
    fake_sums = np.bincount(index, weights=y.astype(np.float64), minlength=bins)
    rows: list[dict[str, Any]] = []
    for b in range(bins):
        n = int(counts[b])
        rows.append(
            {
                "lower": b / bins,
                "upper": (b + 1) / bins,
                "count": n,
                "mean_confidence": float(prob_sums[b] / n) if n else None,
                "observed_frequency": float(fake_sums[b] / n) if n else None,
            }
        )
    return rows


def expected_calibration_error(labels: npt.ArrayLike, probs: npt.ArrayLike, bins: int = 10) -> float | None:
    """Count-weighted mean |observed fake frequency - mean p_fake| over equal-width bins; None when empty."""
    rows = reliability_bins(labels, probs, bins)
    total = sum(row["count"] for row in rows)
    if not total:
        return None
    gaps = (row["count"] * abs(row["observed_frequency"] - row["mean_confidence"]) for row in rows if row["count"])
    return float(sum(gaps) / total)


# ---------------------------------------------------------------- report


def _group_summary(y: BoolArray, s: FloatArray, threshold: float) -> dict[str, Any]:
    """Counts, AUC, accuracy and mean score of one group."""
    return {
        "n": int(y.size),
        "n_real": int((~y).sum()),
        "n_fake": int(y.sum()),
        "auc": rounded(roc_auc(y, s)),
        "accuracy": rounded(accuracy(y, s, threshold)),
        "mean_score": rounded(float(s.mean())) if s.size else None,
    }


def _per_group(y: BoolArray, s: FloatArray, threshold: float, groups: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Group summaries keyed by group value, sorted."""
    g = np.asarray([str(v) for v in groups], dtype=object)
    if g.shape != y.shape:
        raise ValueError(f"groups and labels differ in length: {g.size} vs {y.size}")
    return {value: _group_summary(y[g == value], s[g == value], threshold) for value in sorted(set(g.tolist()))}


def _rounded_bins(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reliability rows with floats rounded for the report."""
    keys = ("lower", "upper", "mean_confidence", "observed_frequency")
    return [{k: rounded(v) if k in keys else v for k, v in row.items()} for row in rows]


def binary_report(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    threshold: float,
    groups: Sequence[str] | None = None,
    *,
    tpr: float = 0.95,
    bins: int = 10,
) -> dict[str, Any]:
    """All detector metrics as JSON-serialisable Python types (floats to 4 decimals, undefined ones None)."""
    y, s = _prepare(labels, scores)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    are_probs = bool(s.size) and s.min() >= 0.0 and s.max() <= 1.0
    return {
        "n": int(y.size),
        "n_real": int((~y).sum()),
        "n_fake": int(y.sum()),
        "threshold": rounded(threshold),
        "auc": rounded(roc_auc(y, s)),
        "auc_ci95": [rounded(bound) for bound in interval] if (interval := auc_interval(y, s)) else None,
        "average_precision": rounded(average_precision(y, s)),
        "eer": rounded(equal_error_rate(y, s)),
        "tpr_target": rounded(tpr),
        "fpr_at_tpr": rounded(fpr_at_tpr(y, s, tpr)),
        "confusion": confusion(y, s, threshold),
        "accuracy": rounded(accuracy(y, s, threshold)),
        "balanced_accuracy": rounded(balanced_accuracy(y, s, threshold)),
        "f1": rounded(f1(y, s, threshold)),
        "ece": rounded(expected_calibration_error(y, s, bins)) if are_probs else None,
        "reliability": _rounded_bins(reliability_bins(y, s, bins)) if are_probs else None,
        "per_group": _per_group(y, s, threshold, groups) if groups is not None else None,
    }
