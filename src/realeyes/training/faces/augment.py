"""Augmentation applied identically to real crops and self-blended ones, after blending.

Both classes are re-encoded as JPEG at a random quality, so compression is never a class cue; small shifts, zooms
and turns mimic the jitter of the Haar detector between frames; down-and-up resizing mimics small faces in video.
Global colour changes keep the model from memorising the few training photos (any unseen colouring would
otherwise look "not real"): the blend is the only difference left between the classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from realeyes.training.augment import jpeg_roundtrip


@dataclass(frozen=True)
class FaceAugmentConfig:
    shift: float = 0.04  # fraction of the crop side
    zoom: tuple[float, float] = (0.94, 1.06)
    turn: float = 8.0  # degrees
    brightness: tuple[float, float] = (0.8, 1.2)
    contrast: tuple[float, float] = (0.8, 1.2)
    saturation: tuple[float, float] = (0.6, 1.3)
    # Video faces are soft and compressed already; DFDC's crops are video frames, so milder degradation than for
    # sharp photos: with p 0.5 down-and-up resizing and JPEG 30-95 on 90 % of crops, validation AUC stalled at 0.64.
    low_resolution_probability: float = 0.2
    low_resolution_side: tuple[int, int] = (64, 110)  # faces this small in the frame are up-sampled to 128
    blur_probability: float = 0.15
    blur_sigma: tuple[float, float] = (0.4, 1.2)
    jpeg_probability: float = 0.7
    jpeg_quality: tuple[int, int] = (50, 95)


def jitter(rgb: np.ndarray, config: FaceAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    side = rgb.shape[0]
    angle = rng.uniform(-config.turn, config.turn)
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, rng.uniform(*config.zoom))
    matrix[:, 2] += rng.uniform(-config.shift, config.shift, 2) * side
    return np.asarray(cv2.warpAffine(rgb, matrix, (side, side), borderMode=cv2.BORDER_REFLECT_101))


def recolour(rgb: np.ndarray, config: FaceAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """The whole crop's saturation, contrast and brightness changed at random."""
    image = rgb.astype(np.float32)
    grey = image.mean(axis=2, keepdims=True)
    image = grey + (image - grey) * rng.uniform(*config.saturation)
    mean = float(image.mean())
    image = (image - mean) * rng.uniform(*config.contrast) + mean * rng.uniform(*config.brightness)
    return np.asarray(np.clip(np.round(image), 0, 255), np.uint8)


def augment_crop(rgb: np.ndarray, config: FaceAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """One training crop (uint8 RGB, same size) from a real or self-blended face crop."""
    crop = recolour(jitter(rgb, config, rng), config, rng)
    if rng.random() < 0.5:
        crop = np.ascontiguousarray(crop[:, ::-1])
    if rng.random() < config.low_resolution_probability:
        side = crop.shape[0]
        small = int(rng.integers(config.low_resolution_side[0], config.low_resolution_side[1] + 1))
        crop = cv2.resize(cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA), (side, side))
    if rng.random() < config.blur_probability:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(*config.blur_sigma))
    if rng.random() < config.jpeg_probability:
        crop = jpeg_roundtrip(crop, int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1)))
    return np.ascontiguousarray(crop)
