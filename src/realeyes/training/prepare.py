"""Data preparation: load, drop unusable images, group near-duplicates, split by group, synthesise fakes.

Writes WORKDIR/manifest.csv (path,label,source,generator,group,split) and WORKDIR/summary.json. Training data
never enters the repository: the manifest points at ../shared/data (or the folders given) and at reconstructions
written under WORKDIR.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.training.dataset import (
    FAKE,
    REAL,
    Sample,
    difference_hash,
    load_rgb,
    merge_near_duplicates,
    split_by_group,
)

log = logging.getLogger(__name__)

RECONSTRUCTION = "taef2-reconstruction"
FIELDS = ["path", "label", "source", "generator", "group", "split"]


@dataclass(frozen=True)
class PrepareConfig:
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)  # train / validation / test, by group
    seed: int = 0
    min_side: int = 192  # smaller images cannot give a full evaluation crop
    near_duplicate_bits: int = 16  # of 256 dHash bits: the distance that counts as the same picture
    # The autoencoder costs ~60 GMAC per 0.2 MP on the CPU, so a bounded number of real images is reconstructed,
    # each as one centred square crop (training uses crops anyway).
    reconstructions: int = 240
    reconstruction_size: int = 256


Reconstructor = Callable[[np.ndarray], np.ndarray]


def prepare(
    samples: list[Sample], workdir: Path, config: PrepareConfig, reconstruct: Reconstructor | None = None
) -> Path:
    """Build the manifest; with `reconstruct`, every real image also yields a synthetic fake of the same content."""
    workdir.mkdir(parents=True, exist_ok=True)
    kept, hashes, skipped = [], [], 0
    for sample in samples:
        rgb = load_rgb(sample.path, config.min_side)
        if rgb is None:
            skipped += 1
            continue
        kept.append(sample)
        hashes.append(difference_hash(rgb))
    grouped = merge_near_duplicates(kept, hashes, config.near_duplicate_bits)
    assignment = split_by_group(grouped, config.fractions, config.seed)
    rows = [(sample, assignment[sample.group]) for sample in grouped]
    if reconstruct is not None:
        rows += _reconstructions(rows, workdir / "reconstructions", reconstruct, config)
    manifest = write_prepared(workdir / "manifest.csv", rows)
    _write_summary(workdir / "summary.json", rows, skipped, config)
    return manifest


def _reconstructions(
    rows: list[tuple[Sample, str]], folder: Path, reconstruct: Reconstructor, config: PrepareConfig
) -> list[tuple[Sample, str]]:
    """Real images passed through the autoencoder: same content, a decoder's traces (cached on disk)."""
    folder.mkdir(parents=True, exist_ok=True)
    real = sorted(
        (row for row in rows if row[0].label == REAL), key=lambda row: _stable_order(row[0].path, config.seed)
    )
    synthetic = []
    for sample, split in real[: config.reconstructions]:
        target = folder / f"{_stable_order(sample.path, 0)[:12]}-{Path(sample.path).stem}.png"
        if not target.exists():
            rgb = load_rgb(sample.path, config.min_side)
            if rgb is None:
                continue
            Image.fromarray(reconstruct(centre_crop(rgb, config.reconstruction_size))).save(target)
            log.info("reconstructed %s", sample.path)
        synthetic.append((Sample(str(target), FAKE, sample.source, RECONSTRUCTION, sample.group), split))
    return synthetic


def _stable_order(text: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


def centre_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """A centred square of `size` (or the largest that fits), at offsets that are multiples of 8."""
    side = min(size, *rgb.shape[:2]) // 8 * 8
    top, left = (rgb.shape[0] - side) // 16 * 8, (rgb.shape[1] - side) // 16 * 8
    return np.ascontiguousarray(rgb[top : top + side, left : left + side])


def write_prepared(manifest: Path, rows: list[tuple[Sample, str]]) -> Path:
    """The manifest every pipeline writes: one row per sample with its split (FIELDS)."""
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for sample, split in rows:
            writer.writerow({**asdict(sample), "split": split})
    return manifest


def read_prepared(manifest: Path) -> list[tuple[Sample, str]]:
    with manifest.open(newline="") as handle:
        return [
            (Sample(row["path"], int(row["label"]), row["source"], row["generator"], row["group"]), row["split"])
            for row in csv.DictReader(handle)
        ]


def _write_summary(path: Path, rows: list[tuple[Sample, str]], skipped: int, config: PrepareConfig) -> None:
    counts = Counter(f"{split}/{'ai' if s.label else 'real'}/{s.generator}" for s, split in rows)
    groups = {split: len({s.group for s, sp in rows if sp == split}) for split in ("train", "val", "test")}
    summary = {"config": asdict(config), "skipped": skipped, "groups": groups, "counts": dict(sorted(counts.items()))}
    path.write_text(json.dumps(summary, indent=2))
