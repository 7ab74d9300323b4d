"""One synthetic training or test image: a real photo, maybe edited in a random region, then recompressed whole.

The mask rule (exact by construction): a pixel is manipulated when the edited content has at least half the
weight in its blend (the feathered region's weight >= 0.5) and its value changed (any channel by >= 1 grey level)
before the final recompression. Pixels outside the feathered seam are bit-identical to the photo until then.
Authentic images get the same recompression with an empty mask, so compression is no shortcut to the label.
Some images are then resized whole before that recompression, as platforms do (the mask follows: a resized pixel
is manipulated when at least half of it came from manipulated pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realeyes.training.augment import jpeg_roundtrip
from realeyes.training.localizer.edits import EDITS, EditInputs, Reconstructor
from realeyes.training.localizer.regions import MAX_FEATHER_SIGMA, feathered, random_region

AUTHENTIC = "authentic"
KINDS = tuple(EDITS)
MIN_MEAN_CHANGE = 2.0  # grey levels inside the mask: a weaker edit is redrawn (e.g. a blur of a flat wall)
ATTEMPTS = 8


@dataclass(frozen=True)
class SynthesisConfig:
    authentic_probability: float = 0.3
    kinds: tuple[str, ...] = KINDS
    hard_seam_probability: float = 0.25  # otherwise the seam is feathered with a random sigma
    jpeg_probability: float = 0.85  # otherwise stored losslessly (PNG)
    jpeg_quality: tuple[int, int] = (60, 100)
    resize_probability: float = 0.35  # share of images resized whole before the final recompression
    resize_scale: tuple[float, float] = (0.5, 0.9)


@dataclass(frozen=True)
class Synthesized:
    rgb: np.ndarray  # uint8 RGB after the final recompression
    mask: np.ndarray  # bool, True = manipulated
    kind: str  # an edit name or "authentic"
    compression: str  # "jpeg<quality>" or "png"


def synthesize(
    photo: np.ndarray,
    donor: np.ndarray,
    reconstruct: Reconstructor,
    rng: np.random.Generator,
    config: SynthesisConfig,
    kind: str | None = None,
    resize_to: tuple[int, int] | None = None,
) -> Synthesized:
    """Edit `photo` with `kind` (drawn from the config when None), resize it to `resize_to` (height, width) when
    given, and recompress it; donor is another real photo."""
    if kind is None:
        authentic = rng.random() < config.authentic_probability
        kind = AUTHENTIC if authentic else config.kinds[int(rng.integers(len(config.kinds)))]
    if kind == AUTHENTIC:
        edited, mask = photo, np.zeros(photo.shape[:2], dtype=bool)
    else:
        edited, mask = manipulate(photo, kind, donor, reconstruct, rng, config.hard_seam_probability)
    if resize_to is not None and resize_to != edited.shape[:2]:
        edited, mask = resize(edited, mask, resize_to, rng)
    rgb, compression = recompress(edited, rng, config)
    return Synthesized(rgb, mask, kind, compression)


def manipulate(
    photo: np.ndarray,
    kind: str,
    donor: np.ndarray,
    reconstruct: Reconstructor,
    rng: np.random.Generator,
    hard_seam_probability: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The edited photo (before recompression) and its exact mask; regions are redrawn until the edit is visible.

    After ATTEMPTS the last edit is kept whatever its strength (rare: a flat photo); its mask still follows the
    rule, so it may be empty, and such an image is scored as authentic.
    """
    height, width = photo.shape[:2]
    for _ in range(ATTEMPTS):
        region = random_region(height, width, rng)
        content = EDITS[kind](EditInputs(photo, region, donor, reconstruct), rng)
        sigma = 0.0 if rng.random() < hard_seam_probability else float(rng.uniform(0.7, MAX_FEATHER_SIGMA))
        weight = feathered(region, sigma)[:, :, None]
        edited = np.round(weight * content + (1 - weight) * photo).astype(np.uint8)
        change = np.abs(edited.astype(np.int16) - photo).max(axis=2)
        mask = (weight[:, :, 0] >= 0.5) & (change >= 1)
        if mask.any() and change[mask].mean() >= MIN_MEAN_CHANGE:
            break
    return edited, mask


def platform_scale(rng: np.random.Generator, config: SynthesisConfig) -> float:
    """The factor a platform-style whole-image resize applies (1.0: not resized)."""
    if rng.random() < config.resize_probability:
        return float(rng.uniform(*config.resize_scale))
    return 1.0


def resize(
    rgb: np.ndarray, mask: np.ndarray, size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The image resized to (height, width) with a random kernel, and its mask by the majority rule."""
    kernel = int(rng.choice([cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4]))
    resized = cv2.resize(rgb, (size[1], size[0]), interpolation=kernel)
    share = cv2.resize(mask.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return np.asarray(resized), np.asarray(share >= 0.5)


def recompress(rgb: np.ndarray, rng: np.random.Generator, config: SynthesisConfig) -> tuple[np.ndarray, str]:
    """The whole image re-encoded as JPEG at a random quality, or kept lossless (as a PNG would store it)."""
    if rng.random() < config.jpeg_probability:
        quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
        return jpeg_roundtrip(np.ascontiguousarray(rgb), quality), f"jpeg{quality}"
    return rgb, "png"
