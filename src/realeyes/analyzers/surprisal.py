"""Real-only surprisal: how an image's coding cost under a coder of real photos compares with what it expects.

The statistic (the card's `statistic`) is turned into a score by where it falls among the same statistic of real
photos (the card's `reference`, sorted): 0.97 means the image is less surprising to the coder than 97 % of real
photos. That ranking needs no generated image, so it is a probability of nothing: the fusion weight, fitted on
held-out sources, decides how much it counts.
"""

from __future__ import annotations

import numpy as np

from realeyes.analyzers._registry import register
from realeyes.analyzers._served import ServedAnalyzer
from realeyes.analyzers.base import Evidence
from realeyes.config import Settings
from realeyes.media import Media
from realeyes.models import Bundle
from realeyes.models.coding_cost import SCALES, crop_costs


def statistic(costs: np.ndarray, weights: list[float]) -> float:
    """The card's linear statistic of (actual, expected) bits per pixel at each scale, finest first."""
    return float(np.dot(costs, np.asarray(weights, dtype=np.float64)))


@register
class SurprisalAnalyzer(ServedAnalyzer):
    """Coding cost under a lossless coder trained on real photos only, against what the coder expects (ZED's idea)."""

    name = "surprisal"
    version = "1.0"
    task = "surprisal"
    card_needs = ("input.crop", "input.crops", "statistic.weights", "reference.values")

    def __init__(self, settings: Settings | None = None, bundle: Bundle | None = None) -> None:
        super().__init__(settings, bundle)
        card = self.model.bundle.card
        self.crop, self.crops = int(self.model.input["crop"]), int(self.model.input["crops"])
        self.weights = [float(w) for w in card["statistic"]["weights"]]
        # Only the scales the statistic reads are coded (each costs a pass of the network).
        self.scales = [s for s in range(SCALES) if any(self.weights[2 * s : 2 * s + 2])]
        self.reference = np.sort(np.asarray(card["reference"]["values"], dtype=np.float64))

    def _run(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.run(inputs), dtype=np.float64)

    def costs(self, rgb: np.ndarray) -> np.ndarray | None:
        """Mean (actual, expected) bits per pixel per scale over the image's crops; None when it is too small."""
        return crop_costs(rgb, self._run, self.crop, self.crops, self.scales)

    def rank(self, value: float) -> float:
        """Share of reference real photos whose statistic is below `value` (smoothed to stay inside (0, 1))."""
        below = float(np.searchsorted(self.reference, value, side="left"))
        return (below + 0.5) / (self.reference.size + 1.0)

    def analyze(self, media: Media) -> Evidence:
        costs = self.costs(media.pixels)
        if costs is None:
            return self.evidence(
                summary=f"Too small for the coding-cost model (needs at least {self.crop // 2} px on each side).",
                details={"model": self.model_version},
            )
        score = self.rank(statistic(costs, self.weights))
        scale = self.scales[0]
        actual, expected = float(costs[2 * scale]), float(costs[2 * scale + 1])
        details = {
            "model": self.model_version,
            "scale": f"1/{2**scale}" if scale else "full",
            "bits_per_pixel": round(actual, 3),
            "expected_bits_per_pixel": round(expected, 3),
        }
        return self.evidence(
            score=score,
            weight=1.0,
            label="ai-generated",
            details=details,
            summary=f"A coder trained on real photos needs {actual:.2f} bits per pixel where it expects "
            f"{expected:.2f}: the image is less surprising to it than {score:.0%} of real photos "
            f"({self.model_version}; real photos only, no generator was needed to build it).",
        )
