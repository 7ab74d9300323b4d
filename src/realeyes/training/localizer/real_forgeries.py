"""The localizer on real, human-made forgeries: COVERAGE's copy-moves and their authentic originals.

COVERAGE (../shared/data/forgeries/coverage, its MANIFEST) is split by pair: odd pair ids are the validation half
(model selection and thresholds may look at it), even ids the test half (only reported). The 9 forgeries whose
source masks are defective are left out. Each method (the localizer, and as baselines in the same run the raw ELA
and noise maps and a map that flags every pixel) is judged as EVALUATION.md section 4 asks: pixel F1 and IoU at
its shipped level and at each image's best level, pixel AUC on the forgeries, image-level AUC forged vs authentic,
the area flagged on authentic images and, for the localizer, the share of each class it labels `manipulated`.
The localizer's map is reported whole (network and copy-move search, as served) and in its two parts.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from realeyes.analyzers._copy_move import find_duplicates
from realeyes.analyzers.ela import recompression_error
from realeyes.analyzers.localizer import LocalizerAnalyzer, top_mean
from realeyes.analyzers.noise import residual_blocks
from realeyes.imaging import robust_unit
from realeyes.training.dataset import REAL
from realeyes.training.generalisation.catalog import benchmark_catalog
from realeyes.training.generalisation.launder import launder, read_oriented, rng_for
from realeyes.training.localizer.prepare import PHOTO_SOURCES, FixedImage
from realeyes.training.localizer.synthesis import AUTHENTIC
from realeyes.training.metrics import roc_auc
from realeyes.training.pixel_metrics import per_image_best, pixel_scores

COVERAGE = Path("forgeries/coverage")
LEVEL = 0.5  # the pixel level every map is read at (the localizer's shipped mask level)

# rgb -> (a [0, 1] map at the image's size, an image score)
Method = Callable[[np.ndarray], tuple[np.ndarray, float]]


def part_of(pair_id: int) -> str:
    return "val" if pair_id % 2 else "test"


def has_coverage(shared: Path) -> bool:
    return (shared / COVERAGE / "pairs.csv").is_file()


def read_coverage(shared: Path, part: str) -> list[FixedImage]:
    """The forged images with a usable mask and the authentic originals of one part; raises when absent."""
    root = shared / COVERAGE
    if not has_coverage(shared):
        raise FileNotFoundError(f"no COVERAGE set at {root} (expected pairs.csv)")
    images = []
    with (root / "pairs.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if part_of(int(row["pair_id"])) != part:
                continue
            group = f"coverage/{row['pair_id']}"
            original = _rgb(root / row["authentic"])
            images.append(FixedImage(original, np.zeros(original.shape[:2], bool), AUTHENTIC, group))
            if row["mask_ok"] == "True":
                forged = _rgb(root / row["image"])
                mask = np.asarray(Image.open(root / row["mask"]).convert("L")) > 127
                images.append(FixedImage(forged, mask, row["kind"], group))
    return images


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def localizer_method(analyzer: LocalizerAnalyzer) -> Method:
    """The shipped map (network and copy-move search) and the calibrated image score."""

    def run(rgb: np.ndarray) -> tuple[np.ndarray, float]:
        logits, probabilities, _ = analyzer.edit_map(rgb)
        return _to_size(probabilities, rgb.shape), analyzer.probability(logits)

    return run


def network_method(analyzer: LocalizerAnalyzer) -> Method:
    """The network's probability map alone (what the copy-move search adds is the difference)."""

    def run(rgb: np.ndarray) -> tuple[np.ndarray, float]:
        logits = analyzer.pixel_logits(rgb)
        probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return _to_size(probabilities, rgb.shape), analyzer.probability(logits)

    return run


def copy_move_method(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The copy-move search alone: its verified regions at their correlation, scored by its matched points."""
    values = np.zeros(rgb.shape[:2], np.float32)
    duplicates = find_duplicates(rgb)
    for duplicate in duplicates:
        values = np.maximum(values, np.where(duplicate.region, np.clip(duplicate.correlation, 0, 1), 0))
    return values, float(sum(d.matches for d in duplicates))


def ela_method(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The ELA analyzer's map (q90 recompression error, 8x8 block means, scaled by its 99.5th percentile)."""
    error = recompression_error(rgb, 90).astype(np.float32)
    blocks = cv2.resize(error, (max(1, rgb.shape[1] // 8), max(1, rgb.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    values = robust_unit(blocks)
    return _to_size(values, rgb.shape), top_mean(values, 0.01)


def noise_method(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The noise analyzer's map (high-pass residual magnitude at 1/4 resolution, scaled the same way)."""
    values = robust_unit(residual_blocks(rgb)[0])
    return _to_size(values, rgb.shape), top_mean(values, 0.01)


def flag_everything(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The trivial map: every pixel edited. Its F1 is what a method must beat to have found anything."""
    return np.ones(rgb.shape[:2]), 1.0


def _to_size(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    resized = cv2.resize(values.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(resized, 0.0, 1.0)


@dataclass(frozen=True)
class Scored:
    maps: list[np.ndarray]
    scores: np.ndarray


def score(method: Method, images: list[FixedImage]) -> Scored:
    results = [method(image.rgb) for image in images]
    return Scored([m for m, _ in results], np.array([s for _, s in results]))


def localisation_report(images: list[FixedImage], scored: Scored, threshold: float | None = None) -> dict[str, Any]:
    """Section 4's figures for one method; `threshold` (the localizer's image-score threshold) adds the shares of
    authentic and forged images labelled `manipulated`."""
    forged = [i for i, image in enumerate(images) if image.mask.any()]
    authentic = [i for i, image in enumerate(images) if not image.mask.any()]
    masks = [images[i].mask for i in forged]
    maps = [scored.maps[i] for i in forged]
    pooled = pixel_scores(masks, maps, max_auc_pixels=1_000_000)
    labels = np.array([int(image.mask.any()) for image in images])
    report: dict[str, Any] = {
        "n_forged": len(forged),
        "n_authentic": len(authentic),
        "pixel_f1_at_level": pooled["image_mean_f1_at_05"],
        "pixel_iou_at_level": pooled["image_mean_iou_at_05"],
        **{f"pixel_{key}": value for key, value in per_image_best(masks, maps).items()},
        "pixel_auc": pooled["auc"],
        "image_auc": roc_auc(labels, scored.scores),
        "authentic_flagged_area": round(float(np.mean([(scored.maps[i] >= LEVEL).mean() for i in authentic])), 4),
    }
    if threshold is not None:
        report["authentic_labelled_manipulated"] = round(float(np.mean(scored.scores[authentic] >= threshold)), 4)
        report["forged_labelled_manipulated"] = round(float(np.mean(scored.scores[forged] >= threshold)), 4)
    return report


def compare(analyzer: LocalizerAnalyzer, shared: Path, part: str) -> dict[str, Any]:
    """The localizer and the baselines on one COVERAGE part, in one run."""
    images = read_coverage(shared, part)
    methods: dict[str, tuple[Method, float | None]] = {
        "localizer": (localizer_method(analyzer), analyzer.threshold),
        "localizer_network_only": (network_method(analyzer), analyzer.threshold),
        "copy_move_only": (copy_move_method, None),
        "ela": (ela_method, None),
        "noise": (noise_method, None),
        "flag_everything": (flag_everything, None),
    }
    return {
        "data": f"{shared / COVERAGE} {part} half (pairs with {'odd' if part == 'val' else 'even'} ids)",
        "level": LEVEL,
        "f1_note": "pixel F1/IoU are means over forged images; _at_level reads every map at 0.5, _best at each "
        "image's best level",
        "methods": {name: localisation_report(images, score(m, images), t) for name, (m, t) in methods.items()},
    }


def unseen_authentic_photos(shared: Path) -> list[FixedImage]:
    """The real photos of the generalisation benchmark that no localizer trained on (every source but the
    localizer's photo sources), laundered as platforms do: EVALUATION.md's "real photos accused" set."""
    images = []
    for item in benchmark_catalog(shared):
        if item.label != REAL or item.source in PHOTO_SOURCES:
            continue
        laundered = read_oriented(launder(read_oriented(item.path.read_bytes()), rng_for(item.key, "launder")))
        images.append(FixedImage(laundered, np.zeros(laundered.shape[:2], bool), AUTHENTIC, item.source))
    return images


def authentic_report(analyzer: LocalizerAnalyzer, images: list[FixedImage]) -> dict[str, Any]:
    """How often the localizer labels unseen authentic photos `manipulated`, overall and per source."""
    if not images:
        return {"n": 0, "labelled_manipulated": None, "per_source": {}}
    scores = np.array([analyzer.probability(analyzer.pixel_logits(image.rgb)) for image in images])
    sources = np.array([image.group for image in images])
    accused = scores >= analyzer.threshold
    return {
        "n": len(images),
        "labelled_manipulated": round(float(accused.mean()), 4),
        "per_source": {s: round(float(accused[sources == s].mean()), 4) for s in sorted(set(sources.tolist()))},
    }
