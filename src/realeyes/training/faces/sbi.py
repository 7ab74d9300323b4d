"""Self-blended images (SBI): a real face blended with a slightly altered copy of itself inside a face mask.

Face swaps paste a generated face into a target frame; what they share is the blending boundary (colour, sharpness
and geometry steps along a face-shaped seam). Blending a face with a transformed copy of itself produces exactly
that boundary, without any identity change, so a model trained on it learns seams rather than generators.
We have no landmarks: the mask is a randomly deformed ellipse around the centre of the crop, where `face_crop`
puts the face; its size is set as if the face box filled 1 / (1 + 2 * margin) of the crop side, so with
INNER_FACE_MARGIN it covers the inner face (eyes, nose, mouth), the region face swaps replace.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INNER_FACE_MARGIN = 0.25


@dataclass(frozen=True)
class BlendConfig:
    axis_x: tuple[float, float] = (0.30, 0.46)  # ellipse semi-axes as fractions of the detected box side
    axis_y: tuple[float, float] = (0.40, 0.58)
    shift: float = 0.06  # centre jitter (fraction of the box side)
    wobble: float = 0.10  # amplitude of the low-frequency radius deformation
    blur_sigma: tuple[float, float] = (1.0, 6.0)  # feathering of the mask edge, px at crop scale
    blend_ratios: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # as in SBI: mostly full blends
    move: float = 0.03  # translation of the source copy (fraction of the crop side)
    scale: tuple[float, float] = (0.95, 1.05)
    colour_shift: float = 12.0  # per-channel offset, in 0-255 units
    contrast: tuple[float, float] = (0.9, 1.1)


def face_mask(
    side: int, config: BlendConfig, rng: np.random.Generator, margin: float = INNER_FACE_MARGIN
) -> np.ndarray:
    """A soft float32 mask in [0, 1] (side x side): a deformed ellipse around the face, edge blurred."""
    box = side / (1 + 2 * margin)
    cx = side / 2 + rng.uniform(-config.shift, config.shift) * box
    cy = side / 2 + rng.uniform(-config.shift, config.shift + 0.05) * box  # the eyes sit above the crop's centre
    ax, ay = rng.uniform(*config.axis_x) * box, rng.uniform(*config.axis_y) * box
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    radius = np.ones_like(angles)
    for harmonic in (2, 3, 4):
        radius += rng.uniform(0, config.wobble) * np.cos(harmonic * angles + rng.uniform(0, 2 * np.pi))
    points = np.stack([cx + ax * radius * np.cos(angles), cy + ay * radius * np.sin(angles)], axis=1)
    mask = np.zeros((side, side), np.float32)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1.0)
    sigma = rng.uniform(*config.blur_sigma)
    # A finite kernel keeps the mask exactly zero far from the ellipse, so untouched pixels stay untouched.
    kernel = 2 * int(np.ceil(3 * sigma)) + 1
    return np.asarray(np.clip(cv2.GaussianBlur(mask, (kernel, kernel), sigma), 0.0, 1.0), np.float32)


def altered_copy(rgb: np.ndarray, config: BlendConfig, rng: np.random.Generator) -> np.ndarray:
    """The blend source: the same face with shifted colours, a little moved or rescaled, sharpened or blurred."""
    offset = rng.uniform(-1, 1, 3) * config.colour_shift
    image = (rgb.astype(np.float32) - 128) * rng.uniform(*config.contrast) + 128 + offset
    side = rgb.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), 0.0, rng.uniform(*config.scale))
    matrix[:, 2] += rng.uniform(-config.move, config.move, 2) * side
    moved = cv2.warpAffine(image.astype(np.float32), matrix, (side, side), borderMode=cv2.BORDER_REFLECT_101)
    if rng.random() < 0.5:
        altered = cv2.GaussianBlur(moved, (0, 0), rng.uniform(0.5, 1.5))
    else:
        altered = moved + rng.uniform(0.3, 1.0) * (moved - cv2.GaussianBlur(moved, (0, 0), 1.0))
    return np.asarray(np.clip(altered, 0, 255), np.float32)


def self_blend(
    rgb: np.ndarray, rng: np.random.Generator, config: BlendConfig = BlendConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """(blended uint8 RGB, mask): the face crop with an altered copy of itself pasted inside the mask."""
    mask = face_mask(rgb.shape[0], config, rng) * float(rng.choice(config.blend_ratios))
    source = altered_copy(rgb, config, rng)
    blended = source * mask[:, :, None] + rgb.astype(np.float32) * (1 - mask[:, :, None])
    return np.asarray(np.clip(np.round(blended), 0, 255), np.uint8), mask
