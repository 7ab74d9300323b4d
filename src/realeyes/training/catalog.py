"""The default training catalogue: which sets under ../shared/data are used, with what labels and groups.

Each entry records its licence so that model cards can list exactly what trained a model. Known confounds
(from each set's MANIFEST) are handled here or in augmentation: all AI sets are JPEG q95 re-encodes while the
real photos vary (every training crop is re-encoded at a random quality); DALL-E 2 images carry a colour bar in
the bottom-right corner (trimmed); StyleGAN thumbnails are 128 px tiles (too small for crops: left out).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realeyes.training.dataset import FAKE, REAL, Sample, load_rgb

# Pixels trimmed from the bottom of images of a generator that stamps a visible signature there.
TRIM_BOTTOM = {"dalle2": 24}


@dataclass(frozen=True)
class SourceSet:
    name: str
    licence: str


SOURCES = {
    "imagenet-sample": SourceSet("real-photos/imagenet-sample", "ImageNet terms (non-commercial research)"),
    "camera-exif": SourceSet("real-photos/camera-exif", "free to use (drewnoakes/metadata-extractor-images README)"),
    "ecuador-flux-faces": SourceSet("faces/ecuador-flux-faces", "MIT per the source README (no LICENSE file)"),
    "ai-generated": SourceSet("ai-generated", "per generator repository (see its labels.csv)"),
}


def sample_pixels(sample: Sample, min_side: int) -> np.ndarray | None:
    """A sample's decoded pixels with any signature bar trimmed, or None when unusable (see load_rgb)."""
    rgb = load_rgb(sample.path, min_side)
    if rgb is None:
        return None
    return np.ascontiguousarray(rgb[: rgb.shape[0] - TRIM_BOTTOM.get(sample.generator, 0)])


def shared_catalog(shared: Path) -> list[Sample]:
    """Every usable labelled image under `shared` (the ../shared/data folder)."""
    # Absolute paths: which real photos get autoencoder reconstructions is keyed on the path, so a relative
    # spelling of the same folder must not change the data set.
    shared = shared.resolve()
    samples = []
    for path in sorted((shared / SOURCES["imagenet-sample"].name).glob("*.JPEG")):
        samples.append(Sample(str(path), REAL, "imagenet-sample", "real", f"imagenet/{path.stem}"))
    for path in sorted((shared / SOURCES["camera-exif"].name).glob("*.jpg")):
        samples.append(Sample(str(path), REAL, "camera-exif", "real", f"camera/{path.stem}"))
    faces = shared / SOURCES["ecuador-flux-faces"].name
    for label, folder, generator in ((REAL, "real", "real"), (FAKE, "fake", "flux1-dev-lora")):
        for path in sorted((faces / folder).glob("*/*.jpg")):
            # Grouped by person: one person's photos and fakes never straddle splits.
            samples.append(Sample(str(path), label, "ecuador-flux-faces", generator, f"person/{path.parent.name}"))
    labels = shared / SOURCES["ai-generated"].name / "labels.csv"
    with labels.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["generator"].startswith("stylegan1-seeprettyface-thumbs"):
                continue
            path = labels.parent / row["file"]
            samples.append(Sample(str(path), FAKE, "ai-generated", row["generator"], f"ai/{path.stem}"))
    return samples
