"""Labelled image collections: folders or CSV manifests, near-duplicate grouping and group-aware splits."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from realeyes.errors import RealEyesError
from realeyes.media import load_media
from realeyes.scan import MEDIA_SUFFIXES

log = logging.getLogger(__name__)

REAL, FAKE = 0, 1
_LABELS = {"real": REAL, "authentic": REAL, "0": REAL, "ai": FAKE, "fake": FAKE, "1": FAKE}


@dataclass(frozen=True)
class Sample:
    """One labelled image. `group` keeps related images (same person, near-duplicates, a photo and its
    reconstruction) in the same split."""

    path: str
    label: int
    source: str
    generator: str
    group: str


def collect_folder(root: Path, source: str | None = None) -> list[Sample]:
    """`root/real/**` and `root/ai/**`; the first subfolder under ai/ (or real/) names the generator (or camera)."""
    samples = []
    for class_dir, label in (("real", REAL), ("ai", FAKE)):
        base = root / class_dir
        for path in sorted(p for p in base.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES):
            parts = path.relative_to(base).parts
            generator = parts[0] if len(parts) > 1 else ("real" if label == REAL else "unknown")
            samples.append(Sample(str(path), label, source or root.name, generator, f"{root.name}/{path.stem}"))
    return samples


def read_manifest(csv_path: Path) -> list[Sample]:
    """A CSV with columns path,label[,source,generator,group]; relative paths are relative to the CSV."""
    samples = []
    with csv_path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            label = _LABELS.get(row["label"].strip().lower())
            if label is None:
                raise ValueError(f"{csv_path}: unknown label {row['label']!r} (use real/ai)")
            path = (csv_path.parent / row["path"]).resolve()
            samples.append(
                Sample(
                    path=str(path),
                    label=label,
                    source=row.get("source") or csv_path.stem,
                    generator=row.get("generator") or ("real" if label == REAL else "unknown"),
                    group=row.get("group") or str(path),
                )
            )
    return samples


HASH_SIDE = 16  # a 16x16 difference hash (256 bits): 8x8 confuses different centred face crops


def difference_hash(rgb: np.ndarray) -> np.ndarray:
    """256-bit dHash as booleans: robust to re-encoding and resizing, so near-duplicates differ in few bits."""
    gray = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (HASH_SIDE + 1, HASH_SIDE), interpolation=cv2.INTER_AREA)
    return np.asarray(gray[:, 1:] > gray[:, :-1]).ravel()


def merge_near_duplicates(samples: list[Sample], hashes: list[np.ndarray], max_distance: int = 16) -> list[Sample]:
    """Give near-duplicates within one source (dHash Hamming distance <= max_distance) one shared group.

    Only within a source: across sources, similar-looking but different pictures could chain together
    transitively and swallow whole data sets into one group.
    """
    parent = list(range(len(samples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    bits = np.array(hashes, dtype=bool).reshape(len(samples), -1)
    sources = np.array([sample.source for sample in samples])
    for i in range(len(samples)):
        distances = (bits[i + 1 :] != bits[i]).sum(axis=1)
        for j in np.nonzero((distances <= max_distance) & (sources[i + 1 :] == sources[i]))[0] + i + 1:
            parent[root(int(j))] = root(i)
    # Same-group samples also stay together: union by their declared group.
    first_of_group: dict[str, int] = {}
    for i, sample in enumerate(samples):
        parent[root(i)] = root(first_of_group.setdefault(sample.group, i))
    return [replace(s, group=samples[root(i)].group) for i, s in enumerate(samples)]


def split_by_group(samples: list[Sample], fractions: tuple[float, float, float], seed: int) -> dict[str, str]:
    """Assign every group to train/val/test, stratified by (source, generator, label); returns group -> split.

    The assignment hashes the group name with the seed, so adding data does not reshuffle existing groups.
    """
    strata: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for sample in samples:
        strata[(sample.source, sample.generator, sample.label)].add(sample.group)
    assignment: dict[str, str] = {}
    for groups in strata.values():
        ordered = sorted(groups - assignment.keys(), key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
        n_train = round(len(ordered) * fractions[0])
        n_val = round(len(ordered) * fractions[1])
        for index, group in enumerate(ordered):
            assignment[group] = "train" if index < n_train else "val" if index < n_train + n_val else "test"
    return assignment


def load_rgb(path: str, min_side: int) -> np.ndarray | None:
    """Decoded pixels only (metadata never reaches training), or None when the image is too small or unreadable."""
    try:
        rgb = load_media(path).rgb
    except RealEyesError as exc:
        log.info("skipping %s: %s", path, exc)
        return None
    if rgb is None or min(rgb.shape[:2]) < min_side:
        return None
    return rgb
