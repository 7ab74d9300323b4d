"""Every labelled image under ../shared/data for the benchmark, each with the source it is held out with.

A *source* is the unit held out in one fold: a real-photo publisher (imagenet-sample, camera-exif, each folder of
real-photos/diverse-2026, the real news photos of ecuador-flux-faces) or a generator family (SD 1, SD 2, SDXL,
..., each 2022 text-to-image model). Variants of one generator (SD 2 at 512 and 768 px, SD 1 text-to-image and
img2img) form one family so that a fold never tests on a near-twin of what it trained on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from realeyes.training.catalog import TRIM_BOTTOM
from realeyes.training.dataset import FAKE, REAL

# Generator folder -> family (the held-out unit). Folders not listed are their own family.
FAMILY = {
    "sd1.x": "sd1",
    "sd1.x-img2img": "sd1",
    "sd2.x-512": "sd2",
    "sd2.x-768": "sd2",
    "midjourney-cw_label-from-filename": "midjourney",
    "stylegan1-seeprettyface": "stylegan1",
    "stylegan1-seeprettyface-thumbs128": "stylegan1",
}
# 300 StyleGAN thumbnails would outweigh every other family; a fixed, evenly spaced subset keeps the family.
STYLEGAN_THUMBS_KEPT = 40
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic"}
# Smaller files are icons or test fixtures (camera-exif holds a 1x1 one), not photos anyone asks about.
MIN_SIDE = 64


@dataclass(frozen=True)
class BenchImage:
    path: Path
    key: str  # path relative to the data root: stable across machines (it seeds the laundering)
    label: int  # REAL or FAKE
    source: str  # the held-out unit
    trim_bottom: int = 0  # rows of a visible generator signature to cut before scoring


def benchmark_catalog(shared: Path) -> list[BenchImage]:
    """Every benchmark image under `shared` (the ../shared/data folder), sorted by key."""
    shared = shared.resolve()
    images = [*_real_photos(shared), *_generated(shared)]
    return sorted((i for i in images if _big_enough(i.path)), key=lambda image: image.key)


def _big_enough(path: Path) -> bool:
    with Image.open(path) as image:
        return min(image.size) >= MIN_SIDE


def _image(shared: Path, path: Path, label: int, source: str, trim: int = 0) -> BenchImage:
    return BenchImage(path, path.relative_to(shared).as_posix(), label, source, trim)


def _files(folder: Path) -> list[Path]:
    """Image files directly in `folder` (none when a set is absent: a partial data folder still runs)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _real_photos(shared: Path) -> list[BenchImage]:
    images = [_image(shared, p, REAL, "imagenet-sample") for p in _files(shared / "real-photos/imagenet-sample")]
    images += [_image(shared, p, REAL, "camera-exif") for p in _files(shared / "real-photos/camera-exif")]
    diverse = shared / "real-photos/diverse-2026"
    for folder in sorted(p for p in diverse.glob("*") if p.is_dir()):
        images += [_image(shared, p, REAL, f"diverse/{folder.name}") for p in _files(folder)]
    for path in sorted((shared / "faces/ecuador-flux-faces/real").glob("*/*.jpg")):
        images.append(_image(shared, path, REAL, "ecuador-news-photos"))
    return images


def _generated(shared: Path) -> list[BenchImage]:
    images = [
        _image(shared, p, FAKE, "flux1-dev-lora") for p in sorted(shared.glob("faces/ecuador-flux-faces/fake/*/*.jpg"))
    ]
    thumbs = 0
    for labels in (shared / "ai-generated/labels.csv", shared / "ai-generated-t2i-2022/labels.csv"):
        if not labels.is_file():
            continue
        with labels.open(newline="") as handle:
            for row in csv.DictReader(handle):
                generator = row["generator"]
                if generator.endswith("thumbs128"):
                    thumbs += 1
                    if thumbs % (300 // STYLEGAN_THUMBS_KEPT):
                        continue
                path = labels.parent / row["file"]
                family = FAMILY.get(generator, generator)
                images.append(_image(shared, path, FAKE, family, TRIM_BOTTOM.get(generator, 0)))
    return images
