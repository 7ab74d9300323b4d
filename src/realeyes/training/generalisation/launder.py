"""What platforms do to an upload, applied identically to real and generated images (EVALUATION.md section 2).

`launder`: EXIF orientation applied, short side resized to 512 px (Lanczos, bilinear or area, at random),
centre-cropped to 512x512, saved as JPEG quality 70-95 with 4:2:0 chroma and no metadata.
`harden`: one of the unusual pipelines real photos go through before they are laundered (small images upscaled,
denoised, low-light shot noise, repeated recompression), for the "hard real photos" condition.
Every random choice comes from a generator seeded by the image's key, so a rerun produces the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageOps

SIDE = 512
QUALITY = (70, 95)
KERNELS = (cv2.INTER_LANCZOS4, cv2.INTER_LINEAR, cv2.INTER_AREA)


def rng_for(key: str, purpose: str) -> np.random.Generator:
    """A generator seeded by the image's key: the same image is always laundered the same way."""
    digest = hashlib.sha256(f"{purpose}:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def read_oriented(data: bytes) -> np.ndarray:
    """Decoded RGB pixels with the EXIF orientation applied."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def resize_short_side(rgb: np.ndarray, side: int, kernel: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = side / min(height, width)
    size = (max(side, round(width * scale)), max(side, round(height * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=kernel))


def centre_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    return rgb[top : top + side, left : left + side]


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG, 4:2:0 chroma, no metadata."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def launder(rgb: np.ndarray, rng: np.random.Generator) -> bytes:
    """The platform-style re-encoding of already oriented pixels (see the module docstring)."""
    kernel = KERNELS[int(rng.integers(len(KERNELS)))]
    square = centre_crop(resize_short_side(rgb, SIDE, kernel), SIDE)
    return encode_jpeg(np.ascontiguousarray(square), int(rng.integers(QUALITY[0], QUALITY[1] + 1)))


def _upscaled(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A small copy blown up again, as with thumbnails re-posted at full size.
    factor = float(rng.uniform(2.0, 4.0))
    size = (max(8, round(rgb.shape[1] / factor)), max(8, round(rgb.shape[0] / factor)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    kernel = (cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)[int(rng.integers(2))]
    return np.asarray(cv2.resize(small, (rgb.shape[1], rgb.shape[0]), interpolation=kernel))


def _denoised(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    strength = float(rng.uniform(5.0, 12.0))
    return np.asarray(cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(rgb), None, strength, strength, 5, 15))


def _low_light(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Darkened, then brightened back with the shot noise of a high-ISO exposure.
    gain = float(rng.uniform(4.0, 10.0))
    dark = (rgb.astype(np.float32) / 255.0) ** 1.6 / gain
    photons = rng.poisson(dark * 400.0) / 400.0
    return np.clip((photons * gain) ** (1 / 1.6) * 255.0, 0, 255).astype(np.uint8)


def _recompressed(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    for _ in range(int(rng.integers(3, 6))):
        data = encode_jpeg(rgb, int(rng.integers(50, 80)))
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return rgb


HARD_PIPELINES: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "upscaled": _upscaled,
    "denoised": _denoised,
    "low-light": _low_light,
    "recompressed": _recompressed,
}


def harden(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """One hard pipeline chosen at random (at most 1024 px on the long side first, as it is about to be laundered)."""
    scale = 1024 / max(rgb.shape[:2])
    if scale < 1:
        size = (max(8, round(rgb.shape[1] * scale)), max(8, round(rgb.shape[0] * scale)))
        rgb = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    name = sorted(HARD_PIPELINES)[int(rng.integers(len(HARD_PIPELINES)))]
    return name, HARD_PIPELINES[name](rgb, rng)
