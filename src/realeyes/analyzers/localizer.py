"""Learned manipulation localizer: the promoted ONNX bundle gives a per-pixel edit probability and an image score.

Whole-image inference at native resolution (the model is fully convolutional and edits leave pixel-level traces
that resizing erases); an image above the card's pixel budget is first downscaled to it (area averaging), which
bounds the cost (about 2x that of a 512 px image) at the price of weaker traces in very large photos. The image
score is the mean of the top 1 % of pixel logits, Platt-calibrated on held-out data at even prior odds; the
card's threshold lets at most 5 % of authentic validation images through, and the engine replaces it with the
verdict's calibrated vote where the fusion file sets one.

No localised edit is no evidence of authenticity (a fully generated image has none), so the localizer only votes
in fusion when its score reaches its threshold; below it, it reports its map with weight 0.

Beside the network, a copy-move search (_copy_move.py) marks regions that repeat another region pixel for pixel;
the mask shows both the copy and its source (which is which, the pixels do not say). It informs the mask, not the
vote: genuinely repeated objects exist, and a test set built from them (COVERAGE's originals) shows it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from realeyes.analyzers._copy_move import Duplicate, find_duplicates
from realeyes.analyzers._registry import register
from realeyes.analyzers._served import ServedAnalyzer
from realeyes.analyzers.base import Evidence, Map
from realeyes.config import Settings
from realeyes.imaging import fit_within
from realeyes.media import Media
from realeyes.models import Bundle
from realeyes.models.bundle import sigmoid


def top_mean(logits: np.ndarray, fraction: float) -> float:
    """Mean of the highest `fraction` of the values (at least one): the image score before calibration."""
    flat = logits.ravel()
    k = max(1, round(flat.size * fraction))
    return float(np.partition(flat, flat.size - k)[flat.size - k :].mean())


@register
class LocalizerAnalyzer(ServedAnalyzer):
    """Learned manipulation localizer (ONNX Runtime): a mask of likely edited pixels and an image score."""

    name = "localizer"
    version = "1.0"
    task = "localizer"
    card_needs = (
        "input.max_pixels",
        "input.min_side",
        "input.top_fraction",
        "calibration.scale",
        "calibration.bias",
        "threshold",
    )

    def __init__(self, settings: Settings | None = None, bundle: Bundle | None = None) -> None:
        super().__init__(settings, bundle)
        spec = self.model.input
        self.max_pixels, self.min_side = int(spec["max_pixels"]), int(spec["min_side"])
        self.top_fraction = float(spec["top_fraction"])

    @property
    def threshold(self) -> float:
        """The score at which the localizer votes `manipulated`: the verdict's calibrated vote where the engine
        serves one (docs/VERDICTS.md), else the card's."""
        return self.model.threshold if self.vote_threshold is None else self.vote_threshold

    def analysed(self, rgb: np.ndarray) -> np.ndarray:
        """The pixels analysed: the image, or its downscale to the pixel budget."""
        height, width = rgb.shape[:2]
        if height * width <= self.max_pixels:
            return rgb
        side = math.isqrt(self.max_pixels * max(height, width) // min(height, width))
        height, width = fit_within(rgb.shape, side)
        return np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))

    def input_batch(self, rgb: np.ndarray) -> np.ndarray:
        """The model's input: the analysed pixels, NCHW in [0, 1]."""
        return self.analysed(rgb).astype(np.float32).transpose(2, 0, 1)[None] / 255.0

    def pixel_logits(self, rgb: np.ndarray) -> np.ndarray:
        """Per-pixel logits at the analysed resolution (the image, or its downscale to the pixel budget)."""
        batch = self.input_batch(rgb)
        return np.asarray(self.model.run(batch)[0, 0], dtype=np.float32)

    def edit_map(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Duplicate]]:
        """(pixel logits, the map, the duplicates found) at the analysed resolution: the map is the network's
        probability, raised to the dense check's correlation wherever a region repeats another."""
        analysed = self.analysed(rgb)
        logits = self.pixel_logits(analysed)
        probabilities = sigmoid(logits).astype(np.float32)
        duplicates = find_duplicates(analysed)
        for duplicate in duplicates:
            repeated = np.where(duplicate.region, np.clip(duplicate.correlation, 0.0, 1.0), 0.0)
            probabilities = np.maximum(probabilities, repeated.astype(np.float32))
        return logits, probabilities, duplicates

    def probability(self, logits: np.ndarray) -> float:
        """Calibrated probability that the image was edited locally, from its pixel logits."""
        return float(self.model.calibration(top_mean(logits, self.top_fraction)))

    def mask(self, probabilities: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """The edit map resized to the image (at most map_max_side on the longer side)."""
        height, width = fit_within(shape, self.settings.map_max_side)
        if probabilities.shape != (height, width):
            probabilities = np.asarray(cv2.resize(probabilities, (width, height), interpolation=cv2.INTER_LINEAR))
        return np.asarray(np.clip(probabilities, 0.0, 1.0))

    def analyze(self, media: Media) -> Evidence:
        rgb = media.pixels
        if min(rgb.shape[:2]) < self.min_side:
            return self.evidence(
                summary=f"Too small for the localizer (needs at least {self.min_side} px on each side).",
                details={"model": self.model_version},
            )
        logits, probabilities, duplicates = self.edit_map(rgb)
        score = self.probability(logits)
        mask = self.mask(probabilities, rgb.shape)
        flagged = score >= self.threshold
        repeated = float(np.mean(np.logical_or.reduce([d.region for d in duplicates]))) if duplicates else 0.0
        details = {
            "model": self.model_version,
            "threshold": self.threshold,
            "analysed_size": list(logits.shape),
            "flagged_fraction": round(float((mask >= 0.5).mean()), 4),
            "copy_move": {"regions": len(duplicates), "matches": sum(d.matches for d in duplicates)},
            "repeated_fraction": round(repeated, 4),
        }
        summary = (
            f"The localizer finds a likely edited region ({score:.0%}; {details['flagged_fraction']:.1%} of the "
            "pixels over 0.5, see the mask)."
            if flagged
            else f"The localizer finds no clearly edited region ({score:.0%}; its threshold is {self.threshold:.0%})."
        )
        if duplicates:
            summary += (
                f" {repeated:.1%} of the image repeats another part of it pixel for pixel (a copy-move, or a "
                "genuinely repeated object): the mask marks the copy and its source."
            )
        return self.evidence(
            score=score,
            weight=1.0 if flagged else 0.0,
            label="manipulated" if flagged else None,
            details=details,
            maps={"mask": Map(mask, spatial=True)},
            summary=summary,
        )
