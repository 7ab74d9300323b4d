"""Evaluate a localizer bundle on a fixed synthetic set (held-out photos): pixel and image metrics, per edit kind,
and robustness to recompression and resizing applied after the edit (masks stay those of the edit)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realeyes.analyzers.localizer import LocalizerAnalyzer
from realeyes.training.evaluate import ROBUSTNESS
from realeyes.training.localizer.prepare import FixedImage
from realeyes.training.localizer.synthesis import AUTHENTIC
from realeyes.training.metrics import binary_report, roc_auc
from realeyes.training.pixel_metrics import pixel_scores

log = logging.getLogger(__name__)
Transform = Callable[[np.ndarray], np.ndarray]
SWEEP = ("jpeg75", "jpeg50", "resize0.5")
PIXEL_KEYS = ("f1_at_05", "best_f1", "best_threshold", "iou_at_05", "auc")


def predict(
    analyzer: LocalizerAnalyzer, images: list[FixedImage], transform: Transform | None = None
) -> tuple[list[np.ndarray], np.ndarray]:
    """The served maps (network and copy-move search, at each image's original size) and calibrated image
    scores."""
    maps, scores = [], []
    for image in images:
        logits, probabilities, _ = analyzer.edit_map(transform(image.rgb) if transform else image.rgb)
        scores.append(analyzer.probability(logits))
        height, width = image.mask.shape
        maps.append(np.clip(cv2.resize(probabilities, (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0))
    return maps, np.array(scores)


def evaluate(analyzer: LocalizerAnalyzer, images: list[FixedImage], data: str, sweep: bool = True) -> dict[str, Any]:
    """A JSON-ready report: pixel metrics (all images, so false alarms on authentic ones count), image-level
    detection from the global score, both per edit kind, and the robustness sweep."""
    maps, scores = predict(analyzer, images)
    report: dict[str, Any] = {"data": data, "n_images": len(images), **summarise(analyzer, images, maps, scores)}
    if sweep:
        report["robustness"] = {}
        for name in SWEEP:
            swept_maps, swept_scores = predict(analyzer, images, ROBUSTNESS[name])
            summary = summarise(analyzer, images, swept_maps, swept_scores)
            report["robustness"][name] = {
                "pixel": {k: summary["pixel"][k] for k in PIXEL_KEYS},
                "image_auc": summary["image"]["auc"],
            }
            log.info("robustness %s: %s", name, report["robustness"][name])
    labels = [int(image.mask.any()) for image in images]
    report["_scores"] = {"labels": labels, "scores": scores.round(4).tolist(), "maps": maps, "images": images}
    return report


def summarise(
    analyzer: LocalizerAnalyzer, images: list[FixedImage], maps: list[np.ndarray], scores: np.ndarray
) -> dict[str, Any]:
    masks = [image.mask for image in images]
    labels = np.array([int(mask.any()) for mask in masks])
    kinds = np.array([image.kind for image in images])
    authentic = kinds == AUTHENTIC
    per_kind = {}
    for kind in sorted(set(kinds.tolist()) - {AUTHENTIC}):
        chosen = np.nonzero(kinds == kind)[0]
        pixels = pixel_scores([masks[i] for i in chosen], [maps[i] for i in chosen], max_auc_pixels=500_000)
        versus = authentic | (kinds == kind)
        per_kind[kind] = {
            "n": int(chosen.size),
            "pixel": {k: pixels[k] for k in PIXEL_KEYS},
            "image_auc_vs_authentic": roc_auc(labels[versus], scores[versus]),
        }
    false_alarms = [float((maps[i] >= 0.5).mean()) for i in np.nonzero(authentic)[0]]
    return {
        "pixel": pixel_scores(masks, maps, max_auc_pixels=1_000_000),
        "image": binary_report(labels, scores, analyzer.threshold),
        "authentic_flagged_pixel_fraction": round(float(np.mean(false_alarms)), 4) if false_alarms else None,
        "per_kind": per_kind,
    }


def write_report(report: dict[str, Any], folder: Path) -> Path:
    """report.json plus the image-level ROC, the pixel precision-recall curve and an example sheet."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = report.pop("_scores")
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    try:
        from realeyes.training import plots
        from realeyes.training.localizer import figures
    except ImportError:
        log.warning("matplotlib is not installed: no plots written")
        return folder
    labels, scores = np.array(raw["labels"]), np.array(raw["scores"])
    if len(set(labels.tolist())) == 2:
        plots.save_roc(folder / "image_roc.png", labels, scores)
    truth, probabilities = figures.pixel_sample([i.mask for i in raw["images"]], raw["maps"], 200_000)
    plots.save_pr(folder / "pixel_pr.png", truth, probabilities)
    figures.save_examples(folder / "examples.png", raw["images"], raw["maps"])
    return folder
