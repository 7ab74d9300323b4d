"""Which pictures the face-forgery pipeline reads, who is in them, and which split each person belongs to.

The DFDC face crops (dfdc-faces224: 3,000 real videos and 3,000 face swaps made from them) are the labelled
training data: split by source video cluster (a fake stays with the real video it was made from), near-identical
real crops kept together. DFDC publishes no actor ids, so one actor can still appear in two splits; the labelled
clips (faceswap-ndb796, dfdc-sample) are never trained on: they are the cross-dataset test. The Ecuador set's
real photos add real faces to training (three people) and its FLUX fakes, whole generated images rather than
swaps, are an extra check ("extra" split) against the one Ecuador person held out.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.training.dataset import FAKE, REAL, Sample, difference_hash, merge_near_duplicates, split_by_group

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}
SPLITS = ("train", "val", "test", "extra")

# Ecuador people: three train, one (the smallest set) for validation, so a person is always held out.
ECUADOR_SPLITS = {"gonzalez": "train", "lasso": "train", "noboa": "train", "correa": "val"}

LICENCES = {
    "dfdc-faces224": "DFDC terms: research / non-commercial use only, no redistribution",
    "ecuador-flux-faces": "README says MIT (no LICENSE file); real photos are scraped news images",
    "faceswap-ndb796": "no licence file; research demo material (broadcast footage of public figures)",
    "dfdc-sample": "DFDC research terms (videos and crops); MIT for the source repository's code",
}


@dataclass(frozen=True)
class FaceInput:
    """A picture (or video) to take face crops from, and the split (train/val/test/extra) its person belongs to."""

    sample: Sample
    split: str
    video: bool = False
    framed: bool = False  # already a face crop in the served framing: used whole, no detection


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _media(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)


def _is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def ecuador_inputs(root: Path) -> list[FaceInput]:
    inputs = []
    for person, split in ECUADOR_SPLITS.items():
        group = f"ecuador/{person}"
        for path in _images(root / "real" / person):
            inputs.append(FaceInput(Sample(str(path), REAL, "ecuador-flux-faces", "real", group), split))
        for path in _images(root / "fake" / person):
            # FLUX fakes of training people would be judged against faces the model has seen: left out.
            if split == "val":
                inputs.append(FaceInput(Sample(str(path), FAKE, "ecuador-flux-faces", "flux-lora", group), "extra"))
    return inputs


def faceswap_inputs(root: Path) -> list[FaceInput]:
    """Bush and Obama: each swap clip puts one's face on the other's video, so both people form one test group."""
    group, source = "faceswap/bush-obama", "faceswap-ndb796"
    inputs = [
        FaceInput(Sample(str(p), REAL, f"{source}/crops", "real", group), "test")
        for p in _images(root / "real-face-crops")
    ]
    for path in sorted((root / "real").glob("*.mp4")):
        inputs.append(FaceInput(Sample(str(path), REAL, f"{source}/frames", "real", group), "test", video=True))
    for path in sorted((root / "fake").glob("*.mp4")):
        inputs.append(FaceInput(Sample(str(path), FAKE, f"{source}/frames", source, group), "test", video=True))
    return inputs


def dfdc_inputs(root: Path) -> list[FaceInput]:
    """DFDC: MTCNN crops (one real person, four fake videos) and the sample videos labelled in metadata.json."""
    inputs = []
    for class_dir, label in (("real", REAL), ("fake", FAKE)):
        for path in _images(root / "prepared_dataset" / class_dir):
            video_id = path.stem.split("-")[0]
            generator = "real" if label == REAL else "dfdc"
            inputs.append(
                FaceInput(Sample(str(path), label, "dfdc-sample/crops", generator, f"dfdc/{video_id}"), "test")
            )
    metadata_path = root / "train_sample_videos" / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    for path in sorted((root / "train_sample_videos").glob("*.mp4")):
        entry = metadata.get(path.name)
        if entry is None:
            continue
        label = FAKE if entry["label"] == "FAKE" else REAL
        generator = "dfdc" if label == FAKE else "real"
        sample = Sample(str(path), label, "dfdc-sample/frames", generator, f"dfdc/{path.stem}")
        inputs.append(FaceInput(sample, "test", video=True))
    return inputs


# Fakes this close to their source (mean absolute difference at 64 px) are failed or tiny swaps (MANIFEST).
MIN_SWAP_DIFFERENCE = 2.0
DFDC_FRACTIONS = (0.7, 0.15, 0.15)
SAME_PICTURE_BITS = 40  # of 256 dHash bits: real crops this close are the same recording (kept together)


def dfdc_crop_inputs(root: Path, seed: int = 0) -> list[FaceInput]:
    """dfdc-faces224: labelled real and face-swapped crops, split by source video cluster."""
    rows = list(csv.DictReader((root / "labels.csv").open()))
    kept = [
        row
        for row in rows
        if row["label"] == "REAL" or float(row["mean_abs_diff_to_paired_real_64px"] or 0) >= MIN_SWAP_DIFFERENCE
    ]
    samples = [
        Sample(
            str(root / row["file"]),
            FAKE if row["label"] == "FAKE" else REAL,
            "dfdc-faces224",
            "dfdc" if row["label"] == "FAKE" else "real",
            f"dfdc-faces224/{row['cluster_original_real_video']}",
        )
        for row in kept
    ]
    reals = [sample for sample in samples if sample.label == REAL]
    hashes = [difference_hash(np.asarray(Image.open(sample.path).convert("RGB"))) for sample in reals]
    merged = merge_near_duplicates(reals, hashes, SAME_PICTURE_BITS)
    group_of = {sample.group: twin.group for sample, twin in zip(reals, merged, strict=True)}
    samples = [replace(sample, group=group_of.get(sample.group, sample.group)) for sample in samples]
    assignment = split_by_group(samples, DFDC_FRACTIONS, seed)
    return [FaceInput(sample, assignment[sample.group], framed=True) for sample in samples]


def shared_face_inputs(shared: Path) -> list[FaceInput]:
    """Everything the face-forgery model uses from ../shared/data (missing sets are skipped)."""
    inputs: list[FaceInput] = []
    for relative, collect in (
        ("faces/dfdc-faces224", dfdc_crop_inputs),
        ("faces/ecuador-flux-faces", ecuador_inputs),
        ("video/faceswap-ndb796", faceswap_inputs),
        ("video/dfdc-sample", dfdc_inputs),
    ):
        if (shared / relative).is_dir():
            inputs += collect(shared / relative)
    return inputs


def folder_inputs(root: Path, seed: int, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> list[FaceInput]:
    """ROOT/real/<person>/* split by person with split_by_group; ROOT/fake/<group>/* (images or videos) -> test."""
    real = [
        Sample(str(path), REAL, root.name, "real", f"{root.name}/{person.name}")
        for person in sorted(p for p in (root / "real").glob("*") if p.is_dir())
        for path in _media(person)
    ]
    assignment = split_by_group(real, fractions, seed)
    inputs = [FaceInput(sample, assignment[sample.group], _is_video(sample.path)) for sample in real]
    for group in sorted(p for p in (root / "fake").glob("*") if p.is_dir()):
        for path in _media(group):
            sample = Sample(str(path), FAKE, root.name, group.name, f"{root.name}/fake/{group.name}")
            inputs.append(FaceInput(sample, "test", _is_video(path)))
    return inputs
