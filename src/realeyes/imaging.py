"""Small pixel helpers shared by the forensic analyzers and the map writers."""

from __future__ import annotations

import cv2
import numpy as np

_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
GRID = 8  # crop offsets are multiples of 8, so crops keep the image's 2x2 up-sampling and 8x8 JPEG phase


def to_luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 array as float32 in [0, 255]."""
    return np.asarray(rgb.astype(np.float32) @ _LUMA_WEIGHTS, dtype=np.float32)


def fit_within(shape: tuple[int, ...], max_side: int) -> tuple[int, int]:
    """(height, width) scaled down so that the longer side is at most max_side."""
    height, width = shape[:2]
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def shrink(values: np.ndarray, max_side: int) -> np.ndarray:
    """Area-average a 2-D map down to max_side (never up)."""
    height, width = fit_within(values.shape, max_side)
    if (height, width) == values.shape[:2]:
        return values
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_AREA)


def robust_unit(values: np.ndarray, high_percentile: float = 99.5) -> np.ndarray:
    """Scale non-negative values to [0, 1] by a high percentile, so a few outliers do not flatten the map."""
    top = float(np.percentile(values, high_percentile)) if values.size else 0.0
    if top <= 0:
        return np.zeros_like(values, dtype=np.float32)
    return np.clip(values / top, 0.0, 1.0).astype(np.float32)


def map_to_gray(values: np.ndarray) -> np.ndarray:
    """A [0, 1] map as 8-bit grey levels, rounded (255 = most suspicious)."""
    return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)


def map_to_png(values: np.ndarray) -> bytes:
    """Encode a [0, 1] map as 8-bit greyscale PNG (255 = most suspicious)."""
    gray = map_to_gray(values)
    # Run-length zlib at level 1 after libpng's "up" filter on every row: maps are smooth or mostly zero, so one
    # fixed filter compresses them about as well as trying all five per row, at a fraction of the time
    # (benchmarks/map_png.py, docs/BENCHMARKS.md).
    options = [
        *(cv2.IMWRITE_PNG_COMPRESSION, 1),
        *(cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE),
        *(cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP),
    ]
    ok, png = cv2.imencode(".png", gray, options)
    if not ok:
        raise ValueError(f"a {gray.shape} map could not be encoded as PNG")
    return png.tobytes()


def grid_crops(rgb: np.ndarray, size: int, count: int) -> list[np.ndarray]:
    """`count` (1, 4 or 9) evenly spread square crops at grid-aligned offsets; training evaluation and the
    classifier analyzer use the same rule."""
    per_side = {1: 1, 4: 2, 9: 3}[count]
    height, width = rgb.shape[:2]
    if per_side == 1:
        tops, lefts = [(height - size) / 2], [(width - size) / 2]
    else:  # interior positions: borders often carry signatures, bars or padding
        tops = list(np.linspace(0, height - size, per_side + 2)[1:-1])
        lefts = list(np.linspace(0, width - size, per_side + 2)[1:-1])
    aligned = [(int(t) // GRID * GRID, int(x) // GRID * GRID) for t in tops for x in lefts]
    return [rgb[top : top + size, left : left + size] for top, left in aligned]
