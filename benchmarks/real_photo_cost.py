"""Wall and CPU time of a whole analysis on real photos, per analyzer.

Usage (repository root, project virtualenv):
    python benchmarks/real_photo_cost.py [--size 1024] [--images 16] [--rounds 2] [--blas-threads N] \
        [--photos ../shared/data/real-photos]

Photos: the JPEGs under --photos whose short side is at least --size, in a fixed shuffled order, resized so the
short side is --size (area averaging), centre-cropped square and saved as JPEG q90. One default Engine analyses
every photo --rounds times. --blas-threads overrides the engine's one BLAS thread (threadpoolctl), to compare
with numpy's default in a separate run: within one process, threads that spun after one setting's products would
be billed to the next. Reported: median and p90 wall ms, median process CPU ms (every thread of the process),
and each analyzer's median ms. Pin the process to one core with `taskset -c 0` to measure "on one core".
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_info, threadpool_limits

from realeyes.engine import Engine


def square_photos(folder: Path, size: int, count: int, scratch: Path) -> list[Path]:
    """Up to `count` photos of `folder` at least `size` px on the short side, as size x size JPEG q90 files."""
    chosen: list[Path] = []
    for bgr in square_pixels(folder, size, count):
        target = scratch / f"{len(chosen):03d}.jpg"
        cv2.imwrite(str(target), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        chosen.append(target)
    return chosen


def square_pixels(folder: Path, size: int, count: int) -> list[np.ndarray]:
    """Up to `count` JPEGs of `folder` (searched recursively, in a fixed shuffled order) whose short side is at
    least `size`, resized so that it is `size` (area averaging) and centre-cropped square; BGR arrays."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    np.random.default_rng(0).shuffle(paths)  # type: ignore[arg-type]
    chosen: list[np.ndarray] = []
    for path in paths:
        with Image.open(path) as image:
            if min(image.size) < size:
                continue
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        scale = size / min(bgr.shape[:2])
        width, height = round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)
        bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
        top, left = (height - size) // 2, (width - size) // 2
        chosen.append(bgr[top : top + size, left : left + size])
        if len(chosen) == count:
            break
    return chosen


def add_photo_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose the photos and how often each is analysed (shared with engine_profile.py)."""
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/real-photos"))


def chosen_photos(args: argparse.Namespace, scratch: Path) -> list[Path]:
    """The photos the options ask for, written under `scratch`; exits with a message when there are none."""
    photos = square_photos(args.photos, args.size, args.images, scratch)
    if not photos:
        raise SystemExit(f"no JPEG of at least {args.size} px on its short side under {args.photos}")
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_photo_options(parser)
    parser.add_argument("--blas-threads", type=int, help="Override the engine's one BLAS thread.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        photos = chosen_photos(args, Path(scratch))
        engine = Engine()
        if args.blas_threads:
            threadpool_limits(args.blas_threads, user_api="blas")
        engine.analyze(photos[0])  # warm-up: sessions are built on first use
        wall, cpu, per_analyzer = [], [], defaultdict(list)
        for _ in range(args.rounds):
            for photo in photos:
                started, cpu_started = time.perf_counter(), time.process_time()
                verdict = engine.analyze(photo)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                for evidence in verdict.evidence:
                    per_analyzer[evidence.analyzer].append(evidence.elapsed_ms or 0.0)

    threads = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    print(f"{len(photos)} photos of {args.photos}, {args.size}x{args.size} JPEG q90, {args.rounds} rounds, ", end="")
    print(f"BLAS threads {sorted(threads)}\n")
    print("| median ms | p90 ms | median CPU ms | " + " | ".join(per_analyzer) + " |")
    print("|---:|---:|---:|" + "---:|" * len(per_analyzer))
    cells = [f"{statistics.median(times):.1f}" for times in per_analyzer.values()]
    p90 = float(np.percentile(wall, 90))
    print(f"| {statistics.median(wall):.1f} | {p90:.1f} | {statistics.median(cpu):.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
