"""How a classifier ranks a whole source it never trained on: the figure its training choices are made on.

A choice between training recipes (e.g. how much laundering augmentation) must not be made on the validation
split of the training sources (it rewards their quirks) nor on the generalisation benchmark's test folds (that
would be choosing on the test score). So a selection source is held out of training (`realeyes train
--hold-out-source`), and this module scores its images the way the benchmark does (as they are, laundered, hard
real photos against laundered generated ones; `generalisation.scores.condition_inputs`) and the way the classifier
is served (grid crops at native resolution, mean logit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from realeyes.imaging import GRID, grid_crops
from realeyes.training.generalisation.catalog import benchmark_catalog
from realeyes.training.generalisation.launder import read_oriented
from realeyes.training.generalisation.scores import condition_aucs, condition_inputs
from realeyes.training.model import ResidualClassifier
from realeyes.training.train_classifier import to_tensor


@dataclass(frozen=True)
class SelectionSource:
    """Training data left out whole (both classes), and the benchmark sources its images are filed under."""

    training_sources: tuple[str, ...]  # catalog.SOURCES left out whole
    generators: tuple[str, ...]  # generator folders of the `ai-generated` source left out
    benchmark_sources: tuple[str, ...]


# Each holds both classes and is in none of the classifier's benchmark test folds (they are training sources).
SELECTION_SOURCES = {
    "ecuador-flux-faces": SelectionSource(("ecuador-flux-faces",), (), ("ecuador-news-photos", "flux1-dev-lora")),
    # A second judge of another kind (registered in docs/MODELS.md before any run): camera JPEGs of many makes
    # against the three most recent photoreal diffusion families of `ai-generated`, scenes rather than portraits.
    "camera-exif-diffusion": SelectionSource(
        ("camera-exif",), ("kolors", "pixart-alpha", "sdxl"), ("camera-exif", "kolors", "pixart-alpha", "sdxl")
    ),
}


def selection_scores(
    model: ResidualClassifier, shared: Path, names: tuple[str, ...], crop: int, crops: int
) -> dict[str, float | None]:
    """AUC per benchmark condition on the held-out selection sources `names`, `selection` (mean of laundered and
    hard, the conditions users meet, EVALUATION.md) and the tail (`condition_aucs`)."""
    wanted = {source for name in names for source in SELECTION_SOURCES[name].benchmark_sources}
    images = [image for image in benchmark_catalog(shared) if image.source in wanted]
    rows: dict[str, list[tuple[int, float]]] = {"clean": [], "laundered": [], "hard": []}
    model.eval()
    with torch.inference_mode():
        for image in images:
            for item in condition_inputs(image):
                rows[item.condition].append((image.label, _mean_logit(model, item.data, crop, crops)))
    return condition_aucs(rows)


def _mean_logit(model: ResidualClassifier, data: bytes, crop: int, crops: int) -> float:
    rgb = read_oriented(data)
    size = min(crop, *rgb.shape[:2]) // GRID * GRID
    return float(model(to_tensor(grid_crops(rgb, size, crops))).mean())
