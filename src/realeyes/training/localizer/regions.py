"""Random edit regions (ellipses, polygons, rectangles, irregular blobs) and their feathered blending weights."""

from __future__ import annotations

import math

import cv2
import numpy as np

SHAPES = ("ellipse", "polygon", "rectangle", "blob")
AREA_RANGE = (0.02, 0.30)  # fraction of the image an edit covers
MAX_FEATHER_SIGMA = 4.0


def random_region(
    height: int, width: int, rng: np.random.Generator, area: tuple[float, float] = AREA_RANGE
) -> np.ndarray:
    """A bool mask of one random shape covering a fraction of the image within `area` (redrawn until it does)."""
    for _ in range(50):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        target = float(rng.uniform(*area)) * height * width
        canvas = np.zeros((height, width), np.uint8)
        _DRAW[shape](canvas, target, rng)
        fraction = canvas.mean()
        if area[0] <= fraction <= area[1]:
            return canvas.astype(bool)
    raise ValueError(f"could not draw a region covering {area} of a {width}x{height} image")


def _centre(canvas: np.ndarray, half_height: float, half_width: float, rng: np.random.Generator) -> tuple[int, int]:
    """A centre that keeps most of the shape inside the image."""
    height, width = canvas.shape
    y = rng.uniform(min(half_height, height / 2), max(height - half_height, height / 2))
    x = rng.uniform(min(half_width, width / 2), max(width - half_width, width / 2))
    return round(x), round(y)


def _ellipse(canvas: np.ndarray, target: float, rng: np.random.Generator) -> None:
    aspect = float(rng.uniform(0.4, 2.5))
    semi_x = math.sqrt(target * aspect / math.pi)
    semi_y = target / (math.pi * semi_x)
    centre = _centre(canvas, semi_y, semi_x, rng)
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(canvas, (centre, (2 * semi_x, 2 * semi_y), angle), 1, thickness=-1)


def _rectangle(canvas: np.ndarray, target: float, rng: np.random.Generator) -> None:
    aspect = float(rng.uniform(0.3, 3.0))
    width = math.sqrt(target * aspect)
    height = target / width
    x, y = _centre(canvas, height / 2, width / 2, rng)
    cv2.rectangle(
        canvas, (round(x - width / 2), round(y - height / 2)), (round(x + width / 2), round(y + height / 2)), 1, -1
    )


def _polygon(canvas: np.ndarray, target: float, rng: np.random.Generator) -> None:
    """A star-shaped polygon: random radii at sorted angles, scaled so its area is about the target."""
    vertices = int(rng.integers(5, 11))
    angles = np.sort(rng.uniform(0, 2 * math.pi, vertices))
    radii = rng.uniform(0.5, 1.0, vertices)
    unit = np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)
    area = 0.5 * abs(float(np.dot(unit[:, 0], np.roll(unit[:, 1], 1)) - np.dot(unit[:, 1], np.roll(unit[:, 0], 1))))
    scale = math.sqrt(target / max(area, 1e-6))
    x, y = _centre(canvas, scale, scale, rng)
    points = np.round(unit * scale + [x, y]).astype(np.int32)
    cv2.fillPoly(canvas, [points], 1)


def _blob(canvas: np.ndarray, target: float, rng: np.random.Generator) -> None:
    """An irregular, object-like outline: the largest piece of thresholded smooth noise near the target area.

    Real edits follow objects (a person, a sign, a car), whose outlines are neither convex nor regular.
    """
    height, width = canvas.shape
    sigma = float(rng.uniform(0.06, 0.15)) * min(height, width)
    noise = cv2.GaussianBlur(rng.standard_normal((height, width)).astype(np.float32), (0, 0), sigma)
    level = float(np.quantile(noise, 1 - target / (height * width)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((noise >= level).astype(np.uint8), connectivity=8)
    if count > 1:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        canvas[labels == largest] = 1


_DRAW = {"ellipse": _ellipse, "polygon": _polygon, "rectangle": _rectangle, "blob": _blob}


def feathered(region: np.ndarray, sigma: float) -> np.ndarray:
    """Blending weight of the edited content (float32 in [0, 1]): the region, softened by a Gaussian of `sigma` px.

    sigma 0 is a hard seam. Exactly zero far from the region, so untouched pixels stay bit-identical.
    """
    weight = region.astype(np.float32)
    if sigma <= 0:
        return weight
    radius = math.ceil(3 * sigma)
    blurred = cv2.GaussianBlur(weight, (2 * radius + 1, 2 * radius + 1), sigma, borderType=cv2.BORDER_CONSTANT)
    return np.asarray(np.where(blurred < 1e-3, 0.0, np.minimum(blurred, 1.0)), dtype=np.float32)
