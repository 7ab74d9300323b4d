"""Copy-move search: the vectorised g2NN matching against OpenCV's brute-force knnMatch with a Python loop.

Usage (repository root, project virtualenv): python benchmarks/copy_move_matching.py [--images 12]

Both run in the same process on the SIFT descriptors of the same images (this script's photo-like images at 512
and 1024 px, which give the search its 1,000-keypoint maximum), one thread for OpenCV. Reported: median ms per
image for the keypoints (unchanged), each matcher, and the whole search, and whether the two matchers agree.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import synthetic_photo

from realeyes.analyzers import _copy_move as search


def brute_force_pairs(descriptors: np.ndarray, points: np.ndarray) -> set[tuple[int, int]]:
    """The matching as it was: knnMatch(k=4) and a loop over each keypoint's candidates."""
    pairs = set()
    for index, candidates in enumerate(cv2.BFMatcher(cv2.NORM_L2).knnMatch(descriptors, descriptors, k=4)):
        others = [m for m in candidates if m.trainIdx != index]
        for match, following in itertools.pairwise(others):
            if match.distance >= search.RATIO * following.distance:
                break
            if np.linalg.norm(points[index] - points[match.trainIdx]) > search.MIN_SHIFT:
                pairs.add((index, match.trainIdx))
    return pairs


def vectorised_pairs(descriptors: np.ndarray, points: np.ndarray) -> set[tuple[int, int]]:
    source, target = search._g2nn_pairs(descriptors, points)
    index_of = {tuple(point): i for i, point in enumerate(points.tolist())}
    return {(index_of[tuple(s)], index_of[tuple(t)]) for s, t in zip(source.tolist(), target.tolist(), strict=True)}


def timed(function, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = function(*args)
    return result, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12, help="images per size")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detector = cv2.SIFT_create(  # type: ignore[attr-defined]
        nfeatures=search.MAX_KEYPOINTS, nOctaveLayers=search.OCTAVE_LAYERS, contrastThreshold=search.CONTRAST
    )
    print("| size | keypoints | SIFT ms | knnMatch + loop ms | vectorised ms | ratio | whole search ms | same pairs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for size in (512, 1024):
        rows: dict[str, list[float]] = {"kp": [], "sift": [], "old": [], "new": [], "search": []}
        same = True
        for seed in range(args.images):
            grey = cv2.cvtColor(synthetic_photo(size, size, seed), cv2.COLOR_RGB2GRAY)
            factor = min(1.0, search.WORK_SIDE / max(grey.shape))
            small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
            (keypoints, descriptors), sift_ms = timed(detector.detectAndCompute, small, None)
            points = np.array([k.pt for k in keypoints], np.float32) / factor
            old, old_ms = timed(brute_force_pairs, descriptors, points)
            new, new_ms = timed(vectorised_pairs, descriptors, points)
            _, search_ms = timed(search.find_duplicates, cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB))
            same &= old == new
            for key, value in zip(rows, (len(keypoints), sift_ms, old_ms, new_ms, search_ms), strict=True):
                rows[key].append(value)
        median = {key: statistics.median(values) for key, values in rows.items()}
        print(
            f"| {size} | {median['kp']:.0f} | {median['sift']:.1f} | {median['old']:.1f} | {median['new']:.1f} | "
            f"{median['old'] / median['new']:.2f}x | {median['search']:.1f} | {'yes' if same else 'NO'} |"
        )


if __name__ == "__main__":
    main()
