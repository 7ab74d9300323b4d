"""Fixed evaluation sets and manifest reading: held-out real crops paired with self-blended copies of themselves.

Each real crop appears once per variant as itself and once blended, both re-encoded at the same random JPEG
quality, so the two classes differ only by the blend. The sets are seeded: every checkpoint sees the same pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.training.augment import jpeg_roundtrip
from realeyes.training.dataset import FAKE, REAL, Sample
from realeyes.training.faces.sbi import self_blend
from realeyes.training.prepare import read_prepared

EVAL_JPEG_QUALITY = (70, 95)
VAL_VARIANTS = 8  # (real, self-blend) pairs per validation crop: one validation person, so be generous


@dataclass(frozen=True)
class Crop:
    sample: Sample
    rgb: np.ndarray


def load_crops(manifest: Path, split: str, label: int | None = None) -> list[Crop]:
    """The crops of one split (optionally one label), decoded into memory (128 px crops are small)."""
    return [
        Crop(sample, np.asarray(Image.open(sample.path).convert("RGB")))
        for sample, sample_split in read_prepared(manifest)
        if sample_split == split and (label is None or sample.label == label)
    ]


def self_blended_set(reals: list[Crop], variants: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(images, labels): every real crop `variants` times as itself and as a self-blend, identically re-encoded."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(variants):
        for crop in reals:
            quality = int(rng.integers(EVAL_JPEG_QUALITY[0], EVAL_JPEG_QUALITY[1] + 1))
            blended, _ = self_blend(crop.rgb, rng)
            images += [jpeg_roundtrip(crop.rgb, quality), jpeg_roundtrip(blended, quality)]
            labels += [REAL, FAKE]
    return images, np.array(labels)


def validation_set(manifest: Path, variants: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The validation split's labelled fakes against its real crops, as stored; self-blends of its real crops when
    it has no labelled fakes. Model selection and calibration both read it."""
    reals, fakes = load_crops(manifest, "val", REAL), load_crops(manifest, "val", FAKE)
    if fakes:
        return [crop.rgb for crop in reals + fakes], np.array([crop.sample.label for crop in reals + fakes])
    return self_blended_set(reals, variants, seed)
