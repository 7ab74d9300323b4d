"""The figures a user feels, per held-out source and pooled: real photos accused, fakes caught, inconclusive share,
and ranking (ROC AUC with a stratified bootstrap interval; AP and EER where one model scores every image). The
`hard` condition has real photos only: they are ranked against the laundered generated images they meet in use."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from realeyes.training.dataset import REAL
from realeyes.training.generalisation.protocol import FoldResult, Ranking, Table
from realeyes.training.metrics import average_precision, equal_error_rate, rounded

RESAMPLES = 1000


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95 % Wilson interval of a rate (well-behaved for small folds and rates near 0)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def _rate(labels: np.ndarray, value: str) -> dict[str, Any]:
    hits, n = int(np.sum(labels == value)), int(labels.size)
    return {"rate": round(hits / n, 4) if n else None, "n": n, "ci": wilson(hits, n)}


def auc_from_wins(wins: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """ROC AUC (mean of the comparisons) and its bootstrap interval, resampling real and generated images apart."""
    if wins.size == 0:
        return {"auc": None, "auc_ci": None}
    low, high = np.percentile(_resampled_means(wins, seed), [2.5, 97.5])
    return {"auc": round(float(wins.mean()), 4), "auc_ci": [round(float(low), 4), round(float(high), 4)]}


def auc_difference(wins: np.ndarray, baseline_wins: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """AUC of one ranking minus another's over the same images, with a paired bootstrap interval (each resample
    of the images scores both): whether the difference is larger than the images' own noise."""
    if wins.size == 0 or wins.shape != baseline_wins.shape:
        return {"difference": None, "ci": None}
    difference = wins - baseline_wins
    low, high = np.percentile(_resampled_means(difference, seed), [2.5, 97.5])
    return {"difference": round(float(difference.mean()), 4), "ci": [round(float(low), 4), round(float(high), 4)]}


def _resampled_means(comparisons: np.ndarray, seed: int) -> list[float]:
    """The mean of a (real x generated) comparison matrix under RESAMPLES bootstrap draws of its real images
    (rows) and, apart, its generated ones (columns)."""
    rng = np.random.default_rng(seed)
    n_real, n_fake = comparisons.shape
    values = []
    for _ in range(RESAMPLES):
        real_counts = np.bincount(rng.integers(n_real, size=n_real), minlength=n_real)
        fake_counts = np.bincount(rng.integers(n_fake, size=n_fake), minlength=n_fake)
        values.append(float(real_counts @ comparisons @ fake_counts) / (n_real * n_fake))
    return values


def fold_figures(result: FoldResult, ranking: Ranking, table: Table, condition: str, source: str) -> dict[str, Any]:
    rows = (table.source == source) & (table.condition == condition)
    if not rows.any():
        rows = (table.source == source) & (table.condition == "laundered")  # generated images have no hard copy
    label = int(table.label[rows][0])
    labels = result.labels[rows]
    figures: dict[str, Any] = {"class": "real" if label == REAL else "generated", "n": int(rows.sum())}
    figures["accused" if label == REAL else "caught"] = _rate(labels, "accused")
    figures["inconclusive"] = _rate(labels, "inconclusive")
    figures["authentic"] = _rate(labels, "authentic")
    if label == REAL:
        wins = ranking.wins[table.source[ranking.real_rows] == source, :]
    else:
        wins = ranking.wins[:, table.source[ranking.fake_rows] == source]
    return {**figures, **auc_from_wins(wins)}


def condition_figures(
    result: FoldResult, ranking: Ranking, table: Table, condition: str, fitted: bool
) -> dict[str, Any]:
    """Pooled figures, every fold's figures, and the mean and worst fold."""
    real, fake = ranking.real_rows, ranking.fake_rows
    if real.size == 0:
        return {}
    both = np.concatenate([real, fake])
    y, s = table.label[both], result.scores[both]
    pooled = {
        "n_real": int(real.size),
        "n_generated": int(fake.size),
        "real_accused": _rate(result.labels[real], "accused"),
        "real_inconclusive": _rate(result.labels[real], "inconclusive"),
        "generated_caught": _rate(result.labels[fake], "accused"),
        "generated_inconclusive": _rate(result.labels[fake], "inconclusive"),
        "inconclusive": _rate(result.labels[both], "inconclusive"),
        **auc_from_wins(ranking.wins),
        # A fitted detector's scores come from a different model per fold: not one ranking, so no AP/EER.
        "ap": None if fitted else rounded(average_precision(y, s)),
        "eer": None if fitted else rounded(equal_error_rate(y, s)),
    }
    folds = {s: fold_figures(result, ranking, table, condition, s) for s in result.universe}
    return {"pooled": pooled, "folds": folds, "across_folds": _across(folds)}


def _across(folds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    aucs = [f["auc"] for f in folds.values() if f.get("auc") is not None]
    accused = [f["accused"]["rate"] for f in folds.values() if "accused" in f]
    caught = [f["caught"]["rate"] for f in folds.values() if "caught" in f]
    return {
        "mean_auc": rounded(float(np.mean(aucs))) if aucs else None,
        "worst_auc": rounded(min(aucs)) if aucs else None,
        "mean_real_accused": rounded(float(np.mean(accused))) if accused else None,
        "worst_real_accused": rounded(max(accused)) if accused else None,
        "mean_generated_caught": rounded(float(np.mean(caught))) if caught else None,
        "worst_generated_caught": rounded(min(caught)) if caught else None,
    }
