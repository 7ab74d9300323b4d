"""Error level analysis: regions that recompress differently from the rest were often saved at another time."""

from __future__ import annotations

import cv2
import numpy as np

from realeyes.analyzers._registry import register
from realeyes.analyzers._scoring import UNCALIBRATED_WEIGHT, provisional_score
from realeyes.analyzers.base import Analyzer, Evidence, Map
from realeyes.imaging import fit_within, robust_unit
from realeyes.media import Media

_QUALITY = 90
_BLOCK = 8  # JPEG's block size: error is averaged per block so that noise does not dominate the map


@register
class ElaAnalyzer(Analyzer):
    """Error level analysis: the difference between the image and its JPEG recompression."""

    name = "ela"
    version = "1.1"  # 1.1: the summary no longer claims a weight (the verdict's own is on the evidence)

    def analyze(self, media: Media) -> Evidence:
        rgb = media.pixels
        error = recompression_error(rgb, _QUALITY)
        blocks = _block_means(error)
        median = float(np.median(blocks))
        p99 = float(np.percentile(blocks, 99))
        inconsistency = (p99 + 1.0) / (median + 1.0)
        details = {
            "quality": _QUALITY,
            "mean_error": round(float(error.mean()), 3),
            "median_block_error": round(median, 3),
            "p99_block_error": round(p99, 3),
            "inconsistency": round(inconsistency, 3),
            "source_format": media.format.name,
        }
        height, width = fit_within(blocks.shape, self.settings.map_max_side)
        display = cv2.resize(blocks, (width, height), interpolation=cv2.INTER_LINEAR)
        score = provisional_score(inconsistency, centre=6.0, spread=1.5)
        return self.evidence(
            score=score,
            weight=UNCALIBRATED_WEIGHT,
            label="manipulated",
            details=details,
            maps={"ela": Map(robust_unit(display))},
            summary=f"Error levels {'vary strongly' if score > 0.6 else 'are fairly uniform'} across the image "
            f"(99th percentile {inconsistency:.1f}x the median; uncalibrated).",
        )


def recompression_error(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Per-pixel maximum absolute channel difference (uint8) between the image and its JPEG recompression."""
    recompressed = jpeg_round_trip(rgb, quality)
    difference = cv2.absdiff(rgb, recompressed)
    # np.maximum over channel views is ~25x faster than difference.max(axis=2) on interleaved uint8.
    return np.maximum(np.maximum(difference[:, :, 0], difference[:, :, 1]), difference[:, :, 2])


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """The image saved as baseline 4:2:0 JPEG and decoded again: the same pixels as Pillow's round trip in about
    half the time (benchmarks/jpeg_round_trip.py compares them on real photos; a unit test on odd sizes)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise ValueError(f"a {rgb.shape} image could not be round-tripped through JPEG")
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


def _block_means(error: np.ndarray) -> np.ndarray:
    height, width = max(1, error.shape[0] // _BLOCK), max(1, error.shape[1] // _BLOCK)
    return cv2.resize(error.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
