"""Face detector recall and speed: OpenCV's Haar cascade (the detector RealEyes used before) against the MTCNN
detector it serves now (`realeyes.video.faces.detect_faces`), on labelled faces from ../shared/data.

Usage (repository root, project virtualenv):

    python benchmarks/face_detection.py [--shared ../shared/data] [--crops 600]

Every picture below holds at least one real or face-swapped face, so recall = pictures where the detector
found a face. Face crops are tight, so each is centred on a mid-grey canvas twice its side (a detector
needs context around a face). Video frames: every 10th frame of the labelled clips. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from realeyes.video.faces import MIN_FACE, detect_faces


@cache
def haar_cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def haar_faces(rgb: np.ndarray) -> int:
    """What RealEyes' detector did before MTCNN: Haar frontal cascade on an equalised grey copy <= 640 px."""
    scale = min(1.0, 640 / max(rgb.shape[:2]))
    small = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    smallest = max(12, round(MIN_FACE * scale))
    return len(haar_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(smallest, smallest)))


def mtcnn_faces(rgb: np.ndarray) -> int:
    return len(detect_faces(rgb))


def on_canvas(rgb: np.ndarray) -> np.ndarray:
    side = max(rgb.shape[:2])
    canvas = np.full((2 * side, 2 * side, 3), 128, np.uint8)
    top, left = (2 * side - rgb.shape[0]) // 2, (2 * side - rgb.shape[1]) // 2
    canvas[top : top + rgb.shape[0], left : left + rgb.shape[1]] = rgb
    return canvas


def crop_sets(shared: Path, crops: int) -> Iterator[tuple[str, list[np.ndarray]]]:
    folder = shared / "faces" / "dfdc-faces224"
    if (folder / "labels.csv").is_file():
        rows = list(csv.DictReader((folder / "labels.csv").open()))
        picked = np.random.default_rng(0).choice(len(rows), min(crops, len(rows)), replace=False)
        for label in ("REAL", "FAKE"):
            chosen = [rows[i] for i in picked if rows[i]["label"] == label]
            yield (
                f"dfdc-faces224 {label.lower()} crops",
                [on_canvas(np.asarray(Image.open(folder / row["file"]).convert("RGB"))) for row in chosen],
            )
    for name, path in (
        ("faceswap-ndb796 real crops", shared / "video" / "faceswap-ndb796" / "real-face-crops"),
        ("dfdc-sample crops", shared / "video" / "dfdc-sample" / "prepared_dataset"),
    ):
        files = sorted(path.rglob("*.png"))
        if files:
            yield name, [on_canvas(np.asarray(Image.open(file).convert("RGB"))) for file in files]


def clip_frames(shared: Path, every: int = 10) -> Iterator[tuple[str, list[np.ndarray]]]:
    clips = sorted((shared / "video").rglob("*.mp4"))
    frames = []
    for clip in clips:
        capture = cv2.VideoCapture(str(clip))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            index += 1
        capture.release()
    if frames:
        yield f"frames of the {len(clips)} labelled clips (every {every}th)", frames


def measure(detector: Callable[[np.ndarray], int], pictures: list[np.ndarray]) -> tuple[float, float]:
    """(recall, median ms per picture)."""
    hits, times = 0, []
    for rgb in pictures:
        started = time.perf_counter()
        hits += detector(rgb) > 0
        times.append(time.perf_counter() - started)
    return hits / len(pictures), 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--crops", type=int, default=600, help="DFDC crops drawn (half real, half fake)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print("| pictures | n | Haar recall | MTCNN recall | Haar ms | MTCNN ms |")
    print("|---|---|---|---|---|---|")
    for name, pictures in [*crop_sets(args.shared, args.crops), *clip_frames(args.shared)]:
        haar_recall, haar_ms = measure(haar_faces, pictures)
        mtcnn_recall, mtcnn_ms = measure(mtcnn_faces, pictures)
        print(f"| {name} | {len(pictures)} | {haar_recall:.1%} | {mtcnn_recall:.1%} | {haar_ms:.1f} | {mtcnn_ms:.1f} |")


if __name__ == "__main__":
    main()
