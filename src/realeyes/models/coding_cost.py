"""Coding cost of an image under a lossless multi-resolution coder trained on real photos only (ZED's idea).

The coder predicts each 2x2 block's pixels from the half-resolution image, one sub-pixel phase after another
(top-left, then top-right knowing it, then bottom-left knowing both; the fourth follows from the block mean), as a
discretised logistic distribution per pixel. For an image it gives two numbers per scale: the *actual* coding cost
(bits per pixel the coder needs) and the *expected* cost (the entropy of its own predictions). Real photos cost
about what the coder expects; generated images are smoother than their textures promise, so they cost less than
expected. The gap needs no generated image to learn, so no generator is unseen to it.

Shared by the analyzer (numpy, ONNX Runtime) and the training pipeline (the loss is the same likelihood in torch).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from realeyes.imaging import grid_crops, to_luma

PHASES = 3  # coded phases of a 2x2 block; the fourth is implied by the block mean
IN_CHANNELS = 6  # low-res, known phase a, known phase b, one-hot of the coded phase (3)
SCALES = 2  # full resolution given half, half given quarter
EDGE_SCALES = 3.0  # pixels predicted within this many scales of 0 or 255 are saturated: left out of the statistics
_LN2 = float(np.log(2.0))


def pool2(values: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block (height and width must be even)."""
    return np.asarray((values[0::2, 0::2] + values[0::2, 1::2] + values[1::2, 0::2] + values[1::2, 1::2]) / 4.0)


def split_phases(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coded sub-pixel phases a (top-left), b (top-right), c (bottom-left) of every 2x2 block."""
    return values[0::2, 0::2], values[0::2, 1::2], values[1::2, 0::2]


def coder_inputs(high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs (3 phases, 6 channels, H/2, W/2) in [-0.5, 0.5], and the integer targets (3, H/2, W/2)."""
    low = pool2(high)
    a, b, c = split_phases(high)
    zero = np.zeros_like(low)
    inputs = []
    for phase in range(PHASES):
        onehot = [np.full_like(low, 1.0 if k == phase else 0.0) for k in range(PHASES)]
        known_a = a if phase >= 1 else zero
        known_b = b if phase >= 2 else zero
        inputs.append(np.stack([low / 255.0 - 0.5, known_a / 255.0 - 0.5, known_b / 255.0 - 0.5, *onehot]))
    targets = np.stack([np.rint(a), np.rint(b), np.rint(c)])
    return np.stack(inputs).astype(np.float32), targets.astype(np.float32)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(-np.logaddexp(0.0, -x))


def nll_bits(targets: np.ndarray, mean: np.ndarray, log_scale: np.ndarray) -> np.ndarray:
    """-log2 P(target) under a logistic of the given mean and log scale (pixel units), discretised to 0..255."""
    scale = np.exp(log_scale)
    upper = np.where(targets >= 255, np.inf, (targets + 0.5 - mean) / scale)
    lower = np.where(targets <= 0, -np.inf, (targets - 0.5 - mean) / scale)
    # log(sigmoid(u) - sigmoid(l)) = log_sigmoid(u) + log(1 - exp(log_sigmoid(l) - log_sigmoid(u)))
    log_upper = np.where(np.isinf(upper), 0.0, _log_sigmoid(np.where(np.isinf(upper), 0.0, upper)))
    log_lower = np.where(np.isinf(lower), -np.inf, _log_sigmoid(np.where(np.isinf(lower), 0.0, lower)))
    log_p = log_upper + np.log1p(-np.minimum(np.exp(log_lower - log_upper), 1.0 - 1e-12))
    return np.asarray(-log_p / _LN2)


def _entropy_table() -> tuple[np.ndarray, np.ndarray]:
    """Entropy (bits) of a discretised logistic far from 0 and 255, by log scale, averaged over sub-pixel offsets."""
    log_scales = np.linspace(-4.0, 6.0, 201)
    entropies = []
    for log_scale in log_scales:
        scale = np.exp(log_scale)
        reach = int(np.ceil(40 * scale)) + 2
        bins = np.arange(-reach, reach + 1, dtype=np.float64)[:, None]
        offsets = np.linspace(0.0, 1.0, 8, endpoint=False)[None, :]
        upper, lower = (bins + 0.5 - offsets) / scale, (bins - 0.5 - offsets) / scale
        p = 1.0 / (1.0 + np.exp(-upper)) - 1.0 / (1.0 + np.exp(-lower))
        entropies.append(float(np.mean(-np.sum(np.where(p > 0, p * np.log2(np.maximum(p, 1e-300)), 0.0), axis=0))))
    return log_scales, np.array(entropies)


_LOG_SCALES, _ENTROPIES = _entropy_table()


def expected_bits(log_scale: np.ndarray) -> np.ndarray:
    """Entropy of each pixel's predicted distribution: the cost the coder expects to pay."""
    return np.asarray(np.interp(log_scale, _LOG_SCALES, _ENTROPIES))


def outputs_to_pixels(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs (3, 2, H, W) -> predicted mean and log scale in pixel units."""
    return (outputs[:, 0] + 0.5) * 255.0, outputs[:, 1] + np.log(255.0)


def scale_costs(high: np.ndarray, run: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float]:
    """(actual, expected) bits per coded pixel of `high` given its half resolution; `run` is the network."""
    inputs, targets = coder_inputs(high)
    mean, log_scale = outputs_to_pixels(run(inputs))
    spread = EDGE_SCALES * np.exp(log_scale)
    interior = (mean - spread > 0.0) & (mean + spread < 255.0)
    if not interior.any():
        return 0.0, 0.0
    actual = nll_bits(targets, mean, log_scale)[interior]
    return float(actual.mean()), float(expected_bits(log_scale)[interior].mean())


def coding_costs(
    luma: np.ndarray, run: Callable[[np.ndarray], np.ndarray], scales: Collection[int] = range(SCALES)
) -> list[tuple[float, float]]:
    """(actual, expected) bits per pixel at each scale, finest first (luma: 2-D, sides divisible by 2**SCALES);
    scales not in `scales` are skipped and read (0, 0), so a statistic that ignores them costs nothing there."""
    costs, level = [], luma.astype(np.float64)
    for scale in range(SCALES):
        costs.append(scale_costs(level, run) if scale in scales else (0.0, 0.0))
        level = pool2(level)
    return costs


def crop_costs(
    rgb: np.ndarray,
    run: Callable[[np.ndarray], np.ndarray],
    crop: int,
    crops: int,
    scales: Collection[int] = range(SCALES),
) -> np.ndarray | None:
    """Mean (actual, expected) bits per pixel per scale, flattened, over `crops` grid crops of up to `crop` px of
    the image's luma: how the analyzer codes an image. None when the image is too small (under crop/2 a side)."""
    size = min(crop, *rgb.shape[:2]) // 2**SCALES * 2**SCALES
    if size < crop // 2:
        return None
    # luma is per pixel: converting only the coded crops gives the same values for a fraction of the work
    per_crop = [np.ravel(coding_costs(to_luma(c), run, scales)) for c in grid_crops(rgb, size, crops)]
    return np.asarray(np.mean(per_crop, axis=0))
