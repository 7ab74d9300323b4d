"""The face-forgery model as served: the promoted ONNX bundle, 128 px face crops in, calibrated P(fake) out.

Crops must follow `realeyes.video.faces.face_crop` (size and margin are in the bundle's card and checked here),
because that is how the training crops were made.
"""

from __future__ import annotations

import numpy as np

from realeyes.config import Settings
from realeyes.models.bundle import Bundle
from realeyes.models.served import ServedModel

TASK = "face-forgery"
CARD_NEEDS = ("input.crop", "input.margin", "calibration.scale", "calibration.bias", "threshold")
BATCH = 16  # crops per ONNX call: bounds memory, amortises the per-call overhead


class FaceForgeryModel(ServedModel):
    """Calibrated P(fake) for face crops; raises ModelUnavailable when no face-forgery bundle is promoted."""

    def __init__(self, settings: Settings, bundle: Bundle | None = None) -> None:
        super().__init__(TASK, settings, bundle, CARD_NEEDS)
        self.crop, self.margin = int(self.input["crop"]), float(self.input["margin"])

    def logits(self, crops: list[np.ndarray]) -> np.ndarray:
        """Raw model logits, one per crop (crop x crop x 3 RGB uint8)."""
        for crop in crops:
            if crop.shape != (self.crop, self.crop, 3):
                raise ValueError(f"face crops must be {self.crop}x{self.crop} RGB (face_crop); got {crop.shape}")
        outputs = []
        for start in range(0, len(crops), BATCH):
            batch = np.stack(crops[start : start + BATCH]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
            outputs.append(self.run(batch).reshape(-1))
        return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)

    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """Calibrated P(fake) per crop (Platt scaling fitted on held-out data, from the card)."""
        return self.calibration(self.logits(crops))
