"""Evaluate a classifier bundle through the serving code path on labelled images.

Three views of the same held-out images: as they are; after one identical JPEG re-encode of both classes (if
the score collapses here, the model had learned the classes' compression history, a shortcut); and a robustness
sweep of common transformations.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.training.augment import decode_jpeg, jpeg_roundtrip
from realeyes.training.catalog import sample_pixels
from realeyes.training.dataset import Sample
from realeyes.training.generalisation.launder import launder, rng_for
from realeyes.training.metrics import binary_report, roc_auc

log = logging.getLogger(__name__)
Transform = Callable[[np.ndarray], np.ndarray]


def _resize(scale: float) -> Transform:
    def apply(rgb: np.ndarray) -> np.ndarray:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR))

    return apply


def _centre_crop(fraction: float) -> Transform:
    def apply(rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        top, left = int(height * (1 - fraction) / 2), int(width * (1 - fraction) / 2)
        return rgb[top : top + int(height * fraction), left : left + int(width * fraction)]

    return apply


def _laundered(rgb: np.ndarray) -> np.ndarray:
    # Seeded by the pixels, so every bundle evaluated on the same image sees the same laundering.
    rng = rng_for(hashlib.sha256(rgb.tobytes()).hexdigest(), "evaluate")
    return decode_jpeg(launder(rgb, rng))


ROBUSTNESS: dict[str, Transform] = {
    "laundered": _laundered,
    "jpeg95": lambda rgb: jpeg_roundtrip(rgb, 95),
    "jpeg75": lambda rgb: jpeg_roundtrip(rgb, 75),
    "jpeg50": lambda rgb: jpeg_roundtrip(rgb, 50),
    "resize0.5": _resize(0.5),
    "resize0.75": _resize(0.75),
    "resize1.5": _resize(1.5),
    "blur": lambda rgb: np.asarray(cv2.GaussianBlur(rgb, (0, 0), 1.0)),
    "crop0.7": _centre_crop(0.7),
}
NORMALISE_QUALITY = 90


def evaluate(analyzer: ClassifierAnalyzer, samples: list[Sample], data: str, sweep: bool = True) -> dict[str, Any]:
    """A JSON-ready report: metrics as served, after identical re-encoding, per generator, and the sweep."""
    images = []
    for sample in samples:
        rgb = sample_pixels(sample, analyzer.min_side)
        if rgb is not None:
            images.append((sample, rgb))
    labels = np.array([sample.label for sample, _ in images])
    generators = [sample.generator for sample, _ in images]
    threshold = analyzer.model.threshold

    def scores(transform: Transform | None) -> np.ndarray:
        values = []
        for _, rgb in images:
            logits = analyzer.crop_logits(transform(rgb) if transform else rgb)
            values.append(analyzer.probability(logits) if logits is not None else 0.5)
        return np.array(values)

    as_served = scores(None)
    reencoded = scores(lambda rgb: jpeg_roundtrip(rgb, NORMALISE_QUALITY))
    report: dict[str, Any] = {
        "data": data,
        "n_images": len(images),
        "as_served": binary_report(labels, as_served, threshold, groups=generators),
        "same_reencode_jpeg90": binary_report(labels, reencoded, threshold, groups=generators),
        "per_generator_auc_vs_real": {
            "as_served": per_generator_auc(labels, as_served, generators),
            "same_reencode_jpeg90": per_generator_auc(labels, reencoded, generators),
        },
    }
    if sweep:
        report["robustness_auc"] = {name: roc_auc(labels, scores(transform)) for name, transform in ROBUSTNESS.items()}
    report["_scores"] = {"labels": labels.tolist(), "p_fake": as_served.round(4).tolist(), "generators": generators}
    return report


def per_generator_auc(labels: np.ndarray, scores: np.ndarray, generators: list[str]) -> dict[str, Any]:
    """AUC of each generator's images against all real images: how well that generator alone is told apart."""
    names = np.array(generators)
    real = labels == 0
    result = {}
    for generator in sorted({g for g, label in zip(generators, labels, strict=True) if label == 1}):
        chosen = real | (names == generator)
        result[generator] = {"n": int((names == generator).sum()), "auc": roc_auc(labels[chosen], scores[chosen])}
    return result


def write_report(report: dict[str, Any], folder: Path) -> Path:
    """report.json plus ROC, PR and reliability plots (when matplotlib is installed)."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = report.pop("_scores")
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    try:
        from realeyes.training import plots
    except ImportError:
        log.warning("matplotlib is not installed: no plots written")
        return folder
    labels, probabilities = np.array(raw["labels"]), np.array(raw["p_fake"])
    if len(set(labels.tolist())) == 2:
        plots.save_roc(folder / "roc.png", labels, probabilities)
        plots.save_pr(folder / "pr.png", labels, probabilities)
        plots.save_reliability(folder / "reliability.png", labels, probabilities)
    return folder
