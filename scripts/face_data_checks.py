"""Checks on the DFDC face crops behind three choices of the face-forgery pipeline (docs/MODELS.md):

1. framing: the served crop's margin (FACE_MARGIN) — the MTCNN box found on a DFDC crop (centred on a grey canvas),
   as a multiple of the crop's side, and its centre's offset;
2. a file-size-only baseline on the test split (DFDC's swapped crops are smaller files: the MANIFEST's confound);
3. sharpness by class on the training split (variance of the Laplacian of the 128 px grey crop): why soft
   background faces look swapped to the model.

    python scripts/face_data_checks.py --workdir runs/faces [--shared ../shared/data] [--crops 300]

WORKDIR is a `realeyes faces prepare` folder (its manifest.csv). Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from realeyes.training.metrics import auc_interval, roc_auc
from realeyes.video.faces import detect_faces


def framing(folder: Path, count: int) -> dict[str, float]:
    rows = list(csv.DictReader((folder / "labels.csv").open()))[:count]
    ratios, offsets = [], []
    for row in rows:
        crop = np.asarray(Image.open(folder / row["file"]).convert("RGB"))
        side = crop.shape[0]
        canvas = np.full((2 * side, 2 * side, 3), 128, np.uint8)
        canvas[side // 2 : side // 2 + side, side // 2 : side // 2 + side] = crop
        boxes = detect_faces(canvas)
        if boxes:
            box = boxes[0]
            ratios.append(max(box.width, box.height) / side)
            offsets.append((box.y + box.height / 2 - side) / side)
    return {
        "crops": len(rows),
        "found": len(ratios),
        "median_box_side_over_crop_side": round(float(np.median(ratios)), 3),
        "median_vertical_offset_of_box_centre": round(float(np.median(offsets)), 3),
    }


def file_size_baseline(manifest: Path, folder: Path) -> dict[str, object]:
    """AUC of 'smaller file = fake' on the original JPEGs of the test split's DFDC crops."""
    labels, scores = [], []
    for row in csv.DictReader(manifest.open()):
        if row["split"] == "test" and row["source"] == "dfdc-faces224":
            video_id = Path(row["path"]).stem.rsplit("-", 1)[-1]
            labels.append(int(row["label"]))
            scores.append(-(folder / "faces_224" / f"{video_id}.jpg").stat().st_size)
    interval = auc_interval(labels, scores)
    return {
        "n": len(labels),
        "auc": round(roc_auc(labels, scores) or 0.0, 4),
        "auc_ci95": [round(bound, 4) for bound in interval] if interval else None,
    }


def sharpness(manifest: Path) -> dict[str, float]:
    values: dict[str, list[float]] = {"real": [], "fake": []}
    for row in csv.DictReader(manifest.open()):
        if row["split"] == "train" and row["source"] == "dfdc-faces224":
            grey = cv2.cvtColor(np.asarray(Image.open(row["path"]).convert("RGB")), cv2.COLOR_RGB2GRAY)
            values["fake" if row["label"] == "1" else "real"].append(float(cv2.Laplacian(grey, cv2.CV_32F).var()))
    return {f"median_laplacian_variance_{name}": round(float(np.median(v)), 1) for name, v in values.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--crops", type=int, default=300, help="DFDC crops used for the framing check")
    args = parser.parse_args()
    folder, manifest = args.shared / "faces" / "dfdc-faces224", args.workdir / "manifest.csv"
    report = {
        "framing": framing(folder, args.crops),
        "file_size_only_test_baseline": file_size_baseline(manifest, folder),
        "train_sharpness": sharpness(manifest),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
