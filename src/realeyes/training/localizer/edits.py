"""The manipulations: each returns the content pasted into the edit region (an image the size of the photo).

The caller blends that content into the photo inside the region (see synthesis.py), so each edit only decides
what the region shows: another photo (splice), the same photo elsewhere (copy-move), an inpainting or blur of
it, a down/up-scaled copy of it, or what the TAEF2 autoencoder makes of it (a local AI edit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from realeyes.training.augment import jpeg_roundtrip

# (photo, region) -> the photo with at least the region (and its feather margin) replaced by an autoencoder pass.
Reconstructor = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EditInputs:
    photo: np.ndarray  # RGB uint8, the image being edited
    region: np.ndarray  # bool, where the edit goes
    donor: np.ndarray  # RGB uint8 from another real photo (splicing)
    reconstruct: Reconstructor


Edit = Callable[[EditInputs, np.random.Generator], np.ndarray]


def splice(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """A window of another photo, carrying that photo's own traces: its camera noise, often its own JPEG history
    (saved at another quality, on an 8x8 grid that rarely lines up with the host's), often resampled and rotated
    to fit, and colour- or brightness-matched to the region as an editor would."""
    donor = inputs.donor
    if rng.random() < 0.5:
        donor = jpeg_roundtrip(np.ascontiguousarray(donor), int(rng.integers(60, 96)))
    if rng.random() < 0.5:
        donor = _warp(donor, float(rng.uniform(-15, 15)), float(rng.uniform(0.6, 1.4)), rng)
    height, width = inputs.photo.shape[:2]
    # A smaller donor is mirrored outward to the photo's size.
    short = (max(0, height - donor.shape[0]), max(0, width - donor.shape[1]))
    donor = np.pad(donor, ((0, short[0]), (0, short[1]), (0, 0)), mode="symmetric")
    top = int(rng.integers(0, donor.shape[0] - height + 1))
    left = int(rng.integers(0, donor.shape[1] - width + 1))
    content = donor[top : top + height, left : left + width]
    if rng.random() < 0.5:
        content = match_colour(content, inputs.photo, inputs.region)
    elif rng.random() < 0.5:
        content = _relight(content, rng)
    return np.ascontiguousarray(content)


def _warp(rgb: np.ndarray, degrees: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate and scale about the centre with a random interpolation kernel (keeps the size; edges mirrored)."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, scale)
    kernel = int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4]))
    return np.asarray(
        cv2.warpAffine(np.ascontiguousarray(rgb), matrix, (width, height), flags=kernel, borderMode=cv2.BORDER_REFLECT)
    )


def _relight(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A brightness gain and gamma change, as when a pasted object is fitted to the scene's lighting."""
    gain, gamma = float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.8, 1.25))
    scaled = 255.0 * np.power(rgb.astype(np.float32) / 255.0, gamma) * gain
    return np.asarray(np.clip(np.round(scaled), 0, 255), dtype=np.uint8)


def match_colour(content: np.ndarray, photo: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Shift and scale each channel of `content` so that inside the region it has the photo's mean and spread."""
    source = content[region].astype(np.float32)
    target = photo[region].astype(np.float32)
    gain = (target.std(axis=0) + 1.0) / (source.std(axis=0) + 1.0)
    matched = (content.astype(np.float32) - source.mean(axis=0)) * gain + target.mean(axis=0)
    return np.asarray(np.clip(np.round(matched), 0, 255), dtype=np.uint8)


def copy_move(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """The same photo shifted (at least a fifth of its size), and half the time rotated and rescaled to fit the
    target, as copy-move forgeries are; sometimes mirrored."""
    height, width = inputs.photo.shape[:2]
    dy = int(rng.integers(height // 5, max(height // 5 + 1, height // 2))) * int(rng.choice([-1, 1]))
    dx = int(rng.integers(width // 5, max(width // 5 + 1, width // 2))) * int(rng.choice([-1, 1]))
    source = inputs.photo[:, ::-1] if rng.random() < 0.25 else inputs.photo
    if rng.random() < 0.5:
        source = _warp(source, float(rng.uniform(-30, 30)), float(rng.uniform(0.75, 1.3)), rng)
    shift = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    return np.asarray(
        cv2.warpAffine(np.ascontiguousarray(source), shift, (width, height), borderMode=cv2.BORDER_REFLECT)
    )


def inpaint(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """OpenCV inpainting (Telea or Navier-Stokes) of the region from its surroundings: an object removal."""
    method = cv2.INPAINT_TELEA if rng.random() < 0.5 else cv2.INPAINT_NS
    hole = inputs.region.astype(np.uint8)
    return np.asarray(cv2.inpaint(np.ascontiguousarray(inputs.photo), hole, float(rng.uniform(3, 9)), method))


def blur(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian or median smoothing of the photo (retouching, a blurred-out detail)."""
    if rng.random() < 0.7:
        return np.asarray(cv2.GaussianBlur(inputs.photo, (0, 0), float(rng.uniform(1.2, 4.0))))
    return np.asarray(cv2.medianBlur(np.ascontiguousarray(inputs.photo), int(rng.choice([3, 5, 7]))))


def resample(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """The photo scaled in place: down and back up (lost detail), or zoomed in about the region (interpolation)."""
    height, width = inputs.photo.shape[:2]
    interpolation = int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST]))
    if rng.random() < 0.5:
        scale = float(rng.uniform(0.3, 0.75))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(inputs.photo, size, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.resize(small, (width, height), interpolation=interpolation))
    rows, cols = np.nonzero(inputs.region)
    centre = (float(cols.mean()), float(rows.mean()))
    zoom = cv2.getRotationMatrix2D(centre, 0.0, float(rng.uniform(1.15, 1.8)))
    return np.asarray(
        cv2.warpAffine(inputs.photo, zoom, (width, height), flags=interpolation, borderMode=cv2.BORDER_REFLECT)
    )


def autoencode(inputs: EditInputs, rng: np.random.Generator) -> np.ndarray:
    """The photo passed through the autoencoder: in the region, a decoder's texture replaces the camera's."""
    return inputs.reconstruct(inputs.photo, inputs.region)


EDITS: dict[str, Edit] = {
    "splice": splice,
    "copy-move": copy_move,
    "inpaint": inpaint,
    "blur": blur,
    "resample": resample,
    "autoencoder": autoencode,
}
