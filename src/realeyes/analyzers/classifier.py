"""Learned real-vs-AI classifier: the promoted ONNX bundle, several crops per image, a calibrated probability."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realeyes.analyzers._registry import register
from realeyes.analyzers._served import ServedAnalyzer
from realeyes.analyzers.base import Evidence
from realeyes.config import Settings
from realeyes.imaging import GRID, grid_crops
from realeyes.media import Media
from realeyes.models import Bundle


@register
class ClassifierAnalyzer(ServedAnalyzer):
    """Learned real-vs-AI classifier (ONNX Runtime), calibrated on held-out data."""

    name = "classifier"
    version = "1.0"
    task = "classifier"
    card_needs = ("input.crop", "input.crops", "input.min_side", "calibration.scale", "calibration.bias")

    def __init__(self, settings: Settings | None = None, bundle: Bundle | None = None) -> None:
        super().__init__(settings, bundle)
        spec = self.model.input
        self.crop, self.crops, self.min_side = int(spec["crop"]), int(spec["crops"]), int(spec["min_side"])

    @property
    def fusion_path(self) -> Path | None:
        path = self.model.bundle.path / "fusion.json"
        return path if path.is_file() else None

    def input_batch(self, rgb: np.ndarray) -> np.ndarray | None:
        """The model's input for an image (its grid crops, NCHW in [0, 1]), or None when it is too small."""
        if min(rgb.shape[:2]) < self.min_side:
            return None
        size = min(self.crop, *rgb.shape[:2]) // GRID * GRID
        return np.stack(grid_crops(rgb, size, self.crops)).astype(np.float32).transpose(0, 3, 1, 2) / 255.0

    def crop_logits(self, rgb: np.ndarray) -> np.ndarray | None:
        """Raw logits of the grid crops, or None when the image is smaller than the model accepts."""
        batch = self.input_batch(rgb)
        if batch is None:
            return None
        return self.model.run(batch).reshape(-1)

    def probability(self, logits: np.ndarray) -> float:
        """Calibrated p_fake from crop logits: their mean, through the fitted Platt scaling."""
        return float(self.model.calibration(logits.mean()))

    def analyze(self, media: Media) -> Evidence:
        logits = self.crop_logits(media.pixels)
        if logits is None:
            return self.evidence(
                summary=f"Too small for the classifier (needs at least {self.min_side} px on each side).",
                details={"model": self.model_version},
            )
        p_fake = self.probability(logits)
        details = {"model": self.model_version, "crop_logits": [round(float(v), 3) for v in logits]}
        return self.evidence(
            score=p_fake,
            weight=1.0,
            label="ai-generated",
            details=details,
            summary=f"The learned classifier gives a {p_fake:.0%} probability of AI generation "
            f"({self.model_version}, calibrated on held-out data).",
        )
