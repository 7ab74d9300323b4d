"""Localizer figures: a sheet of example images with their true and predicted masks, and pixel subsampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from realeyes.training.localizer.prepare import FixedImage


def pixel_sample(masks: list[np.ndarray], maps: list[np.ndarray], count: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded uniform sample of (label, probability) pixels over all images, for curves that plot every point."""
    truth = np.concatenate([mask.ravel() for mask in masks]).astype(int)
    probabilities = np.concatenate([values.ravel() for values in maps])
    chosen = np.random.default_rng(0).choice(truth.size, size=min(count, truth.size), replace=False)
    return truth[chosen], probabilities[chosen]


def save_examples(path: Path, images: list[FixedImage], maps: list[np.ndarray]) -> None:
    """One row per edit kind (and authentic), its first image: the image, the true mask, the predicted map."""
    chosen: dict[str, int] = {}
    for index, image in enumerate(images):
        chosen.setdefault(image.kind, index)
    rows = sorted(chosen.items())
    figure = Figure(figsize=(7.5, 2.5 * len(rows)), dpi=80)
    FigureCanvasAgg(figure)
    for row, (kind, index) in enumerate(rows):
        panels = (images[index].rgb, images[index].mask, maps[index])
        for column, (panel, title) in enumerate(zip(panels, (kind, "true mask", "predicted"), strict=True)):
            axes = figure.add_subplot(len(rows), 3, row * 3 + column + 1)
            axes.imshow(panel, cmap="magma" if panel.ndim == 2 else None, vmin=0, vmax=1)
            axes.set_title(title, fontsize=9)
            axes.axis("off")
    figure.tight_layout()
    figure.savefig(path, format="png")
