"""The face-forgery model as served: the promoted ONNX bundle, 128 px face crops in, calibrated P(fake) out.

Crops must follow `realeyes.video.faces.face_crop` (size and margin are in the bundle's card and checked here),
because that is how the training crops were made.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from realeyes.config import Settings
from realeyes.models.bundle import Bundle, sigmoid
from realeyes.models.registry import Registry

TASK = "face-forgery"
BATCH = 16  # crops per ONNX call: bounds memory, amortises the per-call overhead


class FaceForgeryModel:
    """Calibrated P(fake) for face crops; raises ModelUnavailable when no face-forgery bundle is promoted."""

    def __init__(self, settings: Settings, bundle: Bundle | None = None) -> None:
        self.bundle: Bundle = bundle or Registry(settings.models_dir).promoted(TASK)
        spec: dict[str, Any] = self.bundle.card["input"]
        self.crop, self.margin = int(spec["crop"]), float(spec["margin"])
        calibration = self.bundle.card["calibration"]
        self.scale, self.bias = float(calibration["scale"]), float(calibration["bias"])

    @property
    def version(self) -> str:
        return f"{self.bundle.name}-{self.bundle.version}"

    @property
    def threshold(self) -> float:
        return float(self.bundle.card["threshold"])

    @cached_property
    def _session(self) -> Any:
        return self.bundle.session()

    def logits(self, crops: list[np.ndarray]) -> np.ndarray:
        """Raw model logits, one per crop (crop x crop x 3 RGB uint8)."""
        for crop in crops:
            if crop.shape != (self.crop, self.crop, 3):
                raise ValueError(f"face crops must be {self.crop}x{self.crop} RGB (face_crop); got {crop.shape}")
        outputs = []
        for start in range(0, len(crops), BATCH):
            batch = np.stack(crops[start : start + BATCH]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
            outputs.append(np.asarray(self._session.run(None, {"image": batch})[0]).reshape(-1))
        return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)

    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """Calibrated P(fake) per crop (Platt scaling fitted on held-out data, from the card)."""
        return sigmoid(self.scale * self.logits(crops) + self.bias)
