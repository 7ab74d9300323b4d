"""Pixel-level localization metrics for the localizer's masks, in plain numpy (image-level ones: metrics.py).

A mask pairs a boolean truth with a probability map of the same shape; a pixel is predicted edited when its
probability is >= 0.5 unless a sweep chooses the level.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from realeyes.training.metrics import BoolArray, FloatArray, f1_from_counts, roc_auc, rounded

_PIXEL_THRESHOLD = 0.5


def _check_masks(masks_true: list[npt.NDArray[Any]], masks_prob: list[npt.NDArray[Any]]) -> None:
    """Ensure the two mask lists pair up shape for shape and the probabilities lie in [0, 1]."""
    if len(masks_true) != len(masks_prob):
        raise ValueError(f"{len(masks_true)} true masks but {len(masks_prob)} probability masks")
    for i, (t, p) in enumerate(zip(masks_true, masks_prob, strict=True)):
        if np.shape(t) != np.shape(p):
            raise ValueError(f"mask {i}: shapes differ, {np.shape(t)} vs {np.shape(p)}")
        if np.size(t) and not np.isin(t, (0, 1)).all():
            raise ValueError(f"mask {i}: true mask values must be 0 or 1")
        if np.size(p) and not (np.isfinite(p).all() and np.min(p) >= 0.0 and np.max(p) <= 1.0):
            raise ValueError(f"mask {i}: probabilities must be finite and lie in [0, 1]")


def per_image_best(
    masks_true: list[npt.NDArray[Any]], masks_prob: list[npt.NDArray[Any]], grid_size: int = 101
) -> dict[str, float | None]:
    """Mean over images of each image's best F1 and best IoU over a threshold grid (the field's "optimal
    threshold per image" protocol: an upper bound, since no deployed detector knows each image's best level)."""
    _check_masks(masks_true, masks_prob)
    grid = np.arange(grid_size) / (grid_size - 1)
    f1s, ious = [], []
    for truth, prob in zip(masks_true, masks_prob, strict=True):
        fake, real = _threshold_histograms([truth], [prob], grid)
        tp = np.cumsum(fake[::-1])[::-1]
        fp = np.cumsum(real[::-1])[::-1]
        fn = fake.sum() - tp
        f1s.append(max((v for v in map(f1_from_counts, tp, fp, fn) if v is not None), default=None))
        ious.append(max((v for v in map(_iou_from_counts, tp, fp, fn) if v is not None), default=None))
    return {"mean_best_f1": rounded(_mean_or_none(f1s)), "mean_best_iou": rounded(_mean_or_none(ious))}


def _threshold_histograms(
    masks_true: list[npt.NDArray[Any]], masks_prob: list[npt.NDArray[Any]], grid: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Pixel counts (fake, real) by the highest grid threshold each probability reaches."""
    fake = np.zeros(grid.size, dtype=np.float64)
    real = np.zeros(grid.size, dtype=np.float64)
    for t, p in zip(masks_true, masks_prob, strict=True):
        truth = np.asarray(t, dtype=np.bool_).ravel()
        index = np.searchsorted(grid, np.asarray(p, dtype=np.float64).ravel(), side="right") - 1
        fake += np.bincount(index[truth], minlength=grid.size)
        real += np.bincount(index[~truth], minlength=grid.size)
    return fake, real


def _best_f1(fake: FloatArray, real: FloatArray, grid: FloatArray) -> tuple[float | None, float | None]:
    """Best pooled F1 over the grid thresholds and the threshold reaching it (None, None if undefined)."""
    tp = np.cumsum(fake[::-1])[::-1]  # pixels predicted fake at grid[k] are those binned at k or above
    fp = np.cumsum(real[::-1])[::-1]
    fn = fake.sum() - tp
    scores = [f1_from_counts(a, b, c) for a, b, c in zip(tp, fp, fn, strict=True)]
    defined = [(v, k) for k, v in enumerate(scores) if v is not None]
    if not defined:
        return None, None
    best, k = max(defined, key=lambda pair: pair[0])
    return best, float(grid[k])


def _pixel_counts(truth: npt.NDArray[Any], prob: npt.NDArray[Any]) -> tuple[int, int, int]:
    """tp, fp, fn of one mask at the 0.5 threshold."""
    t = np.asarray(truth, dtype=np.bool_)
    pred = np.asarray(prob, dtype=np.float64) >= _PIXEL_THRESHOLD
    return int(np.sum(t & pred)), int(np.sum(~t & pred)), int(np.sum(t & ~pred))


def _iou_from_counts(tp: float, fp: float, fn: float) -> float | None:
    """IoU = tp / (tp + fp + fn); None when both masks are empty."""
    denominator = tp + fp + fn
    return tp / denominator if denominator else None


def _mean_or_none(values: list[float | None]) -> float | None:
    """Mean of the defined values, None if there are none."""
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def _sample_pixels(
    masks_true: list[npt.NDArray[Any]], masks_prob: list[npt.NDArray[Any]], max_pixels: int, seed: int
) -> tuple[BoolArray, FloatArray]:
    """All pixels, or a uniform sample of max_pixels of them drawn with a fixed seed, as (labels, probs)."""
    sizes = np.array([np.size(t) for t in masks_true], dtype=np.int64)
    if int(sizes.sum()) <= max_pixels:
        chosen = [np.arange(n) for n in sizes]
    else:  # how many pixels each mask gives, then which: memory stays within one mask and the sample
        rng = np.random.default_rng(seed)
        per_mask = rng.multivariate_hypergeometric(sizes, max_pixels)
        chosen = [np.asarray(rng.choice(n, size=k, replace=False)) for n, k in zip(sizes, per_mask, strict=True)]
    y = [np.asarray(t, dtype=np.bool_).ravel()[c] for t, c in zip(masks_true, chosen, strict=True)]
    p = [np.asarray(q, dtype=np.float64).ravel()[c] for q, c in zip(masks_prob, chosen, strict=True)]
    if not y:
        return np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.float64)
    return np.concatenate(y), np.concatenate(p)


def pixel_scores(
    masks_true: list[npt.NDArray[Any]],
    masks_prob: list[npt.NDArray[Any]],
    *,
    grid_size: int = 101,
    max_auc_pixels: int = 2_000_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Pooled pixel F1/IoU at 0.5, best-threshold F1 over a grid, per-image means and (subsampled) pixel AUC."""
    _check_masks(masks_true, masks_prob)
    if grid_size < 2:
        raise ValueError(f"grid_size must be >= 2, got {grid_size}")
    per_image = [_pixel_counts(t, p) for t, p in zip(masks_true, masks_prob, strict=True)]
    tp, fp, fn = (sum(c[i] for c in per_image) for i in range(3))
    grid = np.arange(grid_size) / (grid_size - 1)  # k / (n - 1): grid points equal their decimal literals
    fake, real = _threshold_histograms(masks_true, masks_prob, grid)
    best, best_threshold = _best_f1(fake, real, grid)
    auc_labels, auc_probs = _sample_pixels(masks_true, masks_prob, max_auc_pixels, seed)
    n_pixels = int(fake.sum() + real.sum())
    return {
        "n_masks": len(masks_true),
        "n_pixels": n_pixels,
        "fake_fraction": rounded(float(fake.sum()) / n_pixels) if n_pixels else None,
        "f1_at_05": rounded(f1_from_counts(tp, fp, fn)),
        "iou_at_05": rounded(_iou_from_counts(tp, fp, fn)),
        "best_f1": rounded(best),
        "best_threshold": rounded(best_threshold),
        "image_mean_f1_at_05": rounded(_mean_or_none([f1_from_counts(*c) for c in per_image])),
        "image_mean_iou_at_05": rounded(_mean_or_none([_iou_from_counts(*c) for c in per_image])),
        "auc": rounded(roc_auc(auc_labels, auc_probs)),
        "auc_pixels": int(auc_labels.size),
    }
