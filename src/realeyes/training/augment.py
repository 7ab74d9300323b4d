"""Training-time augmentation, applied identically to both classes so that no class-specific shortcut survives
(the one exception, hard real negatives, is off by default and says why).

Every crop is re-encoded as JPEG at a random quality (the sources differ in their original compression: the AI
sets are JPEG q95, the real photos vary), sometimes rescaled, flipped or made grey; crops are taken at native
resolution because resizing erases the up-sampling traces the classifier needs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import cv2
import numpy as np

from realeyes.imaging import GRID
from realeyes.training.generalisation.launder import harden, launder


@dataclass(frozen=True)
class AugmentConfig:
    crop: int = 160
    jpeg_probability: float = 0.9
    jpeg_quality: tuple[int, int] = (65, 100)
    rescale_probability: float = 0.15
    rescale_range: tuple[float, float] = (0.7, 1.3)
    grey_probability: float = 0.05
    # Platform-style laundering (generalisation.launder: short side to 512 px with a random kernel, JPEG q70-95)
    # before cropping, for both classes alike; 0 keeps the native-resolution training of the shipped 0.1.0.
    launder_probability: float = 0.0
    # One of the benchmark's hard pipelines (generalisation.launder.harden: upscaled, denoised, low-light,
    # recompressed) applied to the crop, for both classes alike: such processing must not read as either class.
    harden_probability: float = 0.0
    # The same hard pipelines on real crops only (hard real negatives): processed real photos must not read as
    # generated. One-sided by design: a processed generated image may then read as real, the cheaper error.
    harden_real_probability: float = 0.0
    # Of the laundered real crops, the share cut from a hard real photo made as the benchmark makes its own: the
    # whole photo through one of its hard pipelines, then laundered (`HardRealPhotos`). One-sided like the above;
    # the laundered share stays the same for both classes, so laundering itself is not a class cue.
    hard_real_share: float = 0.0


class HardRealPhotos:
    """Hard real negatives: whole real photos through one of the benchmark's hard pipelines, then laundered.

    A hard pipeline costs up to half a second on a 1 MP photo (denoising), so each photo gets at most
    `per_photo` variants, made on first use and kept as their laundered JPEG bytes.
    """

    def __init__(self, per_photo: int = 4) -> None:
        self.per_photo = per_photo
        self._variants: dict[str, list[bytes]] = defaultdict(list)

    def laundered(self, key: str, rgb: np.ndarray, rng: np.random.Generator) -> bytes:
        variants = self._variants[key]
        index = int(rng.integers(self.per_photo))
        if index >= len(variants):
            variants.append(launder(harden(rgb, rng)[1], rng))
            index = len(variants) - 1
        return variants[index]


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode with libjpeg (4:2:0, as cameras and most web images)."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError("JPEG decoding failed")
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


def decode_jpeg(data: bytes) -> np.ndarray:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError("JPEG decoding failed")
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


def random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    top = int(rng.integers(0, (rgb.shape[0] - size) // GRID + 1)) * GRID
    left = int(rng.integers(0, (rgb.shape[1] - size) // GRID + 1)) * GRID
    return rgb[top : top + size, left : left + size]


def augment(
    rgb: np.ndarray,
    config: AugmentConfig,
    rng: np.random.Generator,
    real: bool = False,
    hard_photos: tuple[HardRealPhotos, str] | None = None,
) -> np.ndarray:
    """One training crop (uint8 RGB, config.crop square) from a full image at least config.crop on each side;
    `real`: the image is a real photo (only hard real negatives depend on it); `hard_photos`: where this real
    photo's hard variants are kept, and its key there (needed when config.hard_real_share is set)."""
    crop = _crop(rgb, config, rng, hard_photos if real else None)
    # Drawn only when enabled, so that recipes without them keep their random sequence.
    if config.harden_probability and rng.random() < config.harden_probability:
        crop = harden(crop, rng)[1]
    if real and config.harden_real_probability and rng.random() < config.harden_real_probability:
        crop = harden(crop, rng)[1]
    return np.ascontiguousarray(crop)


def _crop(
    rgb: np.ndarray, config: AugmentConfig, rng: np.random.Generator, hard_photos: tuple[HardRealPhotos, str] | None
) -> np.ndarray:
    if rng.random() < config.launder_probability:
        # Drawn only when enabled, as above.
        if hard_photos and config.hard_real_share and rng.random() < config.hard_real_share:
            photos, key = hard_photos
            return random_crop(decode_jpeg(photos.laundered(key, rgb, rng)), config.crop, rng)
        return random_crop(decode_jpeg(launder(rgb, rng)), config.crop, rng)
    if rng.random() < config.rescale_probability:
        scale = float(rng.uniform(*config.rescale_range))
        height, width = rgb.shape[:2]
        if min(height, width) * scale >= config.crop:
            size = (round(width * scale), round(height * scale))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    crop = random_crop(rgb, config.crop, rng)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if rng.random() < config.grey_probability:
        crop = np.repeat(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    if rng.random() < config.jpeg_probability:
        crop = jpeg_roundtrip(
            np.ascontiguousarray(crop), int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
        )
    return np.ascontiguousarray(crop)
