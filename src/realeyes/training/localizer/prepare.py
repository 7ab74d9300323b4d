"""Localizer data: real photos split by photo, fixed synthetic validation/test sets, an autoencoder cache.

WORKDIR/manifest.csv       real photos with their split (group-aware, near-duplicates merged: training/prepare.py)
WORKDIR/autoencoder/       TAEF2 passes of one crop per training photo (too slow to compute during training)
WORKDIR/{val,test}/        fixed synthetic images (PNG, already recompressed), masks and index.csv (seeded)
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.training.dataset import REAL, Sample, load_rgb
from realeyes.training.localizer.edits import Reconstructor
from realeyes.training.localizer.synthesis import AUTHENTIC, KINDS, SynthesisConfig, platform_scale, synthesize
from realeyes.training.prepare import PrepareConfig, centre_crop, prepare, read_prepared

log = logging.getLogger(__name__)

PHOTO_SOURCES = ("imagenet-sample", "camera-exif")  # real photos only: every edit starts from a camera image
SET_FIELDS = ["image", "mask", "kind", "compression", "photo", "group"]
CACHE_FIELDS = ["photo", "top", "left", "file"]


@dataclass(frozen=True)
class LocalizerPrepareConfig:
    seed: int = 0
    crop: int = 256  # training crop side: photos smaller than this are not used
    eval_side: int = 512  # fixed-set images are centre crops of at most this side (native resolution)
    edits_per_photo: int = 3  # manipulated versions of each held-out photo, besides one authentic version
    reconstructions: int = 160  # training photos with a cached autoencoder crop


def real_photos(samples: list[Sample]) -> list[Sample]:
    return [s for s in samples if s.label == REAL and s.source in PHOTO_SOURCES]


def stable_seed(text: str, seed: int) -> int:
    return int(hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()[:12], 16)


def prepare_localizer(
    samples: list[Sample], workdir: Path, config: LocalizerPrepareConfig, reconstruct: Reconstructor
) -> Path:
    """Split the photos, write the fixed validation and test sets and the training autoencoder cache."""
    manifest = prepare(samples, workdir, PrepareConfig(seed=config.seed, min_side=config.crop, reconstructions=0))
    rows = read_prepared(manifest)
    for split in ("val", "test"):
        write_fixed_set([s for s, sp in rows if sp == split], workdir / split, config, reconstruct)
    cache_reconstructions([s for s, sp in rows if sp == "train"], workdir / "autoencoder", config, reconstruct)
    return manifest


def write_fixed_set(
    photos: list[Sample], folder: Path, config: LocalizerPrepareConfig, reconstruct: Reconstructor
) -> Path:
    """One authentic and `edits_per_photo` edited versions of each photo; edit kinds cycle so each is equally used."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = [centre_crop(rgb, config.eval_side) for rgb in _load(photos, config.crop)]
    rows: list[list[object]] = []
    turn = 0
    for index, (sample, photo) in enumerate(zip(photos, pixels, strict=True)):
        rng = np.random.default_rng(stable_seed(sample.path, config.seed))
        donor = pixels[(index + 1 + int(rng.integers(len(pixels) - 1))) % len(pixels)] if len(pixels) > 1 else photo
        kinds = [AUTHENTIC] + [KINDS[(turn + k) % len(KINDS)] for k in range(config.edits_per_photo)]
        turn += config.edits_per_photo
        for kind in kinds:
            scale = platform_scale(rng, SynthesisConfig())
            size = (round(photo.shape[0] * scale), round(photo.shape[1] * scale)) if scale < 1 else None
            made = synthesize(photo, donor, reconstruct, rng, SynthesisConfig(), kind, size)
            stem = f"{len(rows):04d}-{kind}"
            Image.fromarray(made.rgb).save(folder / f"{stem}.png")
            Image.fromarray(made.mask.astype(np.uint8) * 255).save(folder / f"{stem}.mask.png")
            rows.append([f"{stem}.png", f"{stem}.mask.png", kind, made.compression, sample.path, sample.group])
        log.info("%s: %d images", folder.name, len(rows))
    return _write_csv(folder / "index.csv", SET_FIELDS, rows)


def cache_reconstructions(
    photos: list[Sample], folder: Path, config: LocalizerPrepareConfig, reconstruct: Reconstructor
) -> Path:
    """A random crop-sized window of the first photos (in a seeded order), passed through the autoencoder."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = sorted(photos, key=lambda s: stable_seed(s.path, config.seed))[: config.reconstructions]
    rows: list[list[object]] = []
    for sample, photo in zip(chosen, _load(chosen, config.crop), strict=True):
        rng = np.random.default_rng(stable_seed(sample.path, config.seed + 1))
        top = int(rng.integers(0, (photo.shape[0] - config.crop) // 8 + 1)) * 8
        left = int(rng.integers(0, (photo.shape[1] - config.crop) // 8 + 1)) * 8
        window = np.ascontiguousarray(photo[top : top + config.crop, left : left + config.crop])
        name = f"{stable_seed(sample.path, 0):012x}.png"
        if not (folder / name).exists():
            Image.fromarray(reconstruct(window, np.ones(window.shape[:2], bool))).save(folder / name)
        rows.append([sample.path, top, left, name])
    return _write_csv(folder / "index.csv", CACHE_FIELDS, rows)


def _load(photos: list[Sample], min_side: int) -> list[np.ndarray]:
    loaded = [load_rgb(s.path, min_side) for s in photos]
    missing = [s.path for s, rgb in zip(photos, loaded, strict=True) if rgb is None]
    if missing:  # the manifest only lists photos that loaded at this size
        raise ValueError(f"photos no longer readable: {missing[:3]}")
    return [rgb for rgb in loaded if rgb is not None]


def _write_csv(path: Path, fields: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(rows)
    return path


@dataclass(frozen=True)
class FixedImage:
    rgb: np.ndarray
    mask: np.ndarray
    kind: str
    group: str


def read_fixed_set(folder: Path) -> list[FixedImage]:
    """The images and masks written by write_fixed_set."""
    with (folder / "index.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        FixedImage(
            rgb=np.asarray(Image.open(folder / row["image"]).convert("RGB")),
            mask=np.asarray(Image.open(folder / row["mask"])) > 127,
            kind=row["kind"],
            group=row["group"],
        )
        for row in rows
    ]
