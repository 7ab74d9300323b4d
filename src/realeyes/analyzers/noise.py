"""Noise residual: spliced or retouched regions often carry a different noise level from the rest."""

from __future__ import annotations

import cv2
import numpy as np

from realeyes.analyzers._registry import register
from realeyes.analyzers._scoring import UNCALIBRATED_WEIGHT, provisional_score
from realeyes.analyzers.base import Analyzer, Evidence, Map
from realeyes.imaging import fit_within, robust_unit, to_luma
from realeyes.media import Media

# A second-order high-pass filter (as in SRM residual models): it cancels smooth content, keeps sensor noise.
_HIGH_PASS = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], dtype=np.float32) / 4.0
_BLOCK = 32
_STRIP = 1024  # rows per strip, so a 50 MP photo never holds a full-size float residual
_MAD_TO_SIGMA = 1.4826


@register
class NoiseAnalyzer(Analyzer):
    """High-pass noise residual and local noise-level inconsistency."""

    name = "noise"
    version = "1.1"  # 1.1: the summary no longer claims a weight (the verdict's own is on the evidence)

    def analyze(self, media: Media) -> Evidence:
        rgb = media.pixels
        magnitude, sigma, usable = residual_blocks(rgb)
        log_sigma = np.log(sigma[usable] + 1e-3)
        details: dict[str, object] = {
            "block_size": _BLOCK,
            "blocks": int(sigma.size),
            "usable_blocks": int(usable.sum()),
        }
        score = None
        if log_sigma.size >= 16:
            median = float(np.median(log_sigma))
            spread = float(np.median(np.abs(log_sigma - median))) * _MAD_TO_SIGMA + 1e-6
            outliers = float(np.mean(np.abs(log_sigma - median) > 3 * spread))
            details.update(
                median_noise_sigma=round(float(np.exp(median)), 3),
                noise_level_spread=round(spread, 3),
                outlier_block_fraction=round(outliers, 4),
            )
            score = provisional_score(outliers, centre=0.08, spread=0.02)
        height, width = fit_within(magnitude.shape, self.settings.map_max_side)
        display = cv2.resize(magnitude, (width, height), interpolation=cv2.INTER_AREA)
        if score is None:
            summary = "Too few textured blocks to compare noise levels."
        else:
            verdict = "inconsistent" if score > 0.6 else "consistent"
            summary = (
                f"Noise levels are {verdict} across the image ({details['outlier_block_fraction']:.1%} outlier "
                "blocks; uncalibrated)."
            )
        return self.evidence(
            score=score,
            weight=UNCALIBRATED_WEIGHT if score is not None else 0.0,
            label="manipulated",
            details=details,
            maps={"noise": Map(robust_unit(display))},
            summary=summary,
        )


def residual_blocks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|residual| at 1/4 resolution, the per-block noise sigma, and which blocks are neither flat-clipped nor
    saturated. Processed in strips to bound memory."""
    magnitude_parts, sigma_parts, usable_parts = [], [], []
    height = rgb.shape[0]
    for top in range(0, height, _STRIP):
        bottom = min(height, top + _STRIP)
        pad_top, pad_bottom = min(top, 1), min(height - bottom, 1)
        luma = to_luma(rgb[top - pad_top : bottom + pad_bottom])
        residual = np.abs(cv2.filter2D(luma, -1, _HIGH_PASS, borderType=cv2.BORDER_REFLECT))
        residual = residual[pad_top : residual.shape[0] - pad_bottom]
        luma = luma[pad_top : luma.shape[0] - pad_bottom]
        magnitude_parts.append(_area(residual, 4))
        # Mean absolute residual estimates sigma for Gaussian noise (x 1.2533).
        sigma_parts.append(_area(residual, _BLOCK) * 1.2533)
        brightness = _area(luma, _BLOCK)
        usable_parts.append((brightness > 8) & (brightness < 247))
    return np.vstack(magnitude_parts), np.vstack(sigma_parts), np.vstack(usable_parts)


def _area(values: np.ndarray, factor: int) -> np.ndarray:
    height, width = max(1, values.shape[0] // factor), max(1, values.shape[1] // factor)
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_AREA)
