"""Training crops for the coder: luma of real photos as they come, laundered, and through a hard pipeline first.

The hard pipelines (upscaled, denoised, low-light, recompressed) are in what the coder learns as real, so that a
real photo that went through one is not surprising to it (EVALUATION.md, "hard real photos")."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.imaging import to_luma
from realeyes.models.coding_cost import coder_inputs, pool2
from realeyes.training.generalisation.launder import harden, launder, read_oriented, rng_for

NATIVE_SIDE = 512  # native-resolution crops are cut to this size to bound memory


def photo_variants(path: Path, key: str) -> list[np.ndarray]:
    """Luma (float) of a native crop, the laundered photo and a hard + laundered copy."""
    rgb = read_oriented(path.read_bytes())
    rng = rng_for(key, "coder-native")
    top = int(rng.integers(0, max(1, rgb.shape[0] - NATIVE_SIDE + 1)))
    left = int(rng.integers(0, max(1, rgb.shape[1] - NATIVE_SIDE + 1)))
    native = rgb[top : top + NATIVE_SIDE, left : left + NATIVE_SIDE]
    laundered = launder(rgb, rng_for(key, "coder-launder"))
    _, hard = harden(rgb, rng_for(key, "coder-harden"))
    hard_laundered = launder(hard, rng_for(key, "coder-launder-hard"))
    return [to_luma(native).astype(np.float32)] + [_decoded_luma(data) for data in (laundered, hard_laundered)]


def _decoded_luma(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return to_luma(np.asarray(image.convert("RGB"))).astype(np.float32)


def random_batch(
    pool: list[np.ndarray], size: int, crop: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of `size` random crops (see coding_cost.coder_inputs), half of them at the coarser scale:
    a crop twice as large, halved, so that every tile has the same shape. Pool images are at least 2 * crop."""
    inputs, targets = [], []
    for _ in range(size):
        luma = pool[int(rng.integers(len(pool)))]
        side = crop * (1 + int(rng.integers(2)))
        top = int(rng.integers(0, (luma.shape[0] - side) // 2 + 1)) * 2
        left = int(rng.integers(0, (luma.shape[1] - side) // 2 + 1)) * 2
        level = luma[top : top + side, left : left + side].astype(np.float64)
        if side > crop:
            level = pool2(level)
        if rng.random() < 0.5:
            level = level[:, ::-1]
        x, y = coder_inputs(level)
        inputs.append(x)
        targets.append(y)
    return np.concatenate(inputs), np.concatenate(targets)
