"""Face crops for training and evaluation: detect, crop with the shared convention, check splits, write a manifest.

Every crop comes from `realeyes.video.faces.face_crop` on the largest box `detect_faces` finds (in the frame, or
inside a face picture), so training and inference see the same framing; crops already in that framing (DFDC's,
whose framing defines FACE_MARGIN) are only resized. Crops are written as
PNG under WORKDIR/crops (never into the repository); WORKDIR/manifest.csv lists them with their split.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from realeyes.training.dataset import Sample, difference_hash, load_rgb, merge_near_duplicates
from realeyes.training.faces.sources import SPLITS, FaceInput
from realeyes.training.prepare import write_prepared
from realeyes.video.faces import FACE_CROP_SIZE, detect_faces, face_crop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FacePrepareConfig:
    frames_per_video: int = 40  # evenly spaced: consecutive frames are near-duplicates
    min_side: int = 64  # pictures smaller than this hold no usable face
    near_duplicate_bits: int = 16  # of 256 dHash bits (as the image classifier's prepare)


def video_frames(path: str, count: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, RGB frame) for `count` evenly spaced frames, decoded in order (seeking is unreliable in mp4)."""
    capture = cv2.VideoCapture(path)
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        wanted = set(np.linspace(0, max(total - 1, 0), min(count, max(total, 1))).round().astype(int).tolist())
        index = 0
        while wanted:
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                wanted.discard(index)
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def pictures(item: FaceInput, config: FacePrepareConfig) -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB) of each picture an input stands for: the image itself, or sampled video frames."""
    stem = Path(item.sample.path).stem
    if item.video:
        for index, rgb in video_frames(item.sample.path, config.frames_per_video):
            yield f"{stem}-f{index:05d}", rgb
    else:
        picture = load_rgb(item.sample.path, config.min_side)
        if picture is not None:
            yield stem, picture


def largest_face_crop(rgb: np.ndarray, framed: bool = False) -> np.ndarray | None:
    """The served crop of the largest face; a picture that is already a face crop in that framing is resized."""
    if framed:
        return np.asarray(cv2.resize(rgb, (FACE_CROP_SIZE, FACE_CROP_SIZE), interpolation=cv2.INTER_AREA))
    boxes = detect_faces(rgb)
    return face_crop(rgb, boxes[0]) if boxes else None


def crop_inputs(inputs: list[FaceInput], folder: Path, config: FacePrepareConfig) -> list[tuple[Sample, str]]:
    """Write one crop per picture with a detected face; returns (crop sample, split) rows."""
    rows, missed = [], Counter[str]()
    for item in inputs:
        target_dir = folder / item.sample.source.replace("/", "-")
        target_dir.mkdir(parents=True, exist_ok=True)
        for name, rgb in pictures(item, config):
            crop = largest_face_crop(rgb, item.framed)
            if crop is None:
                missed[item.sample.source] += 1
                continue
            digest = hashlib.sha256(item.sample.path.encode()).hexdigest()[:8]
            target = target_dir / f"{'fake' if item.sample.label else 'real'}-{digest}-{name}.png"
            Image.fromarray(crop).save(target)
            rows.append((replace(item.sample, path=str(target)), item.split))
    for source, count in sorted(missed.items()):
        log.info("%s: no face detected in %d pictures", source, count)
    return rows


def drop_leaks(rows: list[tuple[Sample, str]], bits: int) -> tuple[list[tuple[Sample, str]], int]:
    """Drop training crops that are near-duplicates (dHash) of a held-out crop: a split by person is only as good
    as the person labels, and the same photo can appear under two names."""
    samples = [sample for sample, _ in rows]
    hashes = [difference_hash(np.asarray(Image.open(sample.path).convert("RGB"))) for sample in samples]
    merged = merge_near_duplicates(samples, hashes, bits)
    held_out = {m.group for m, (_, split) in zip(merged, rows, strict=True) if split != "train"}
    kept = [row for m, row in zip(merged, rows, strict=True) if not (row[1] == "train" and m.group in held_out)]
    return kept, len(rows) - len(kept)


def prepare_faces(inputs: list[FaceInput], workdir: Path, config: FacePrepareConfig) -> Path:
    """Crop, check and write WORKDIR/manifest.csv (FIELDS of the image pipeline) and WORKDIR/summary.json."""
    workdir.mkdir(parents=True, exist_ok=True)
    rows, dropped = drop_leaks(crop_inputs(inputs, workdir / "crops", config), config.near_duplicate_bits)
    manifest = write_prepared(workdir / "manifest.csv", rows)
    counts = Counter(f"{split}/{'fake' if s.label else 'real'}/{s.source}" for s, split in rows)
    groups = {split: sorted({s.group for s, sp in rows if sp == split}) for split in SPLITS}
    summary = {
        "config": asdict(config),
        "inputs": len(inputs),
        "dropped_train_near_duplicates_of_held_out": dropped,
        "groups": groups,
        "counts": dict(sorted(counts.items())),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return manifest
