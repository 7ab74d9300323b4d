"""Localizer bundles side by side: what each costs per image, network and copy-move search apart, one thread.

Usage (repository root, project virtualenv):
    python benchmarks/localizer_versions.py models/localizer/realeyes-unet-localizer-0.3.0 \
        models/localizer/realeyes-unet-localizer-0.4.0 [--images 30] [--photos DIR]

Each image goes through every bundle in turn (so a slower or busier moment of the machine hits them alike), as the
analyzer serves it: the network (input conversion and the bundle's one-thread ONNX Runtime session) and the
copy-move search. Images: this script's 512 px photo-like images, or with --photos the JPEG/PNG files of DIR,
laundered by the generalisation benchmark's own `launder` (512 px, random kernel, JPEG q70-95, seeded by the file
name). Reported: median ms of each part per bundle and each bundle's ratio to the first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import synthetic_photo

from realeyes.analyzers._copy_move import find_duplicates
from realeyes.analyzers.localizer import LocalizerAnalyzer
from realeyes.training.generalisation.launder import SIDE, launder, read_oriented, rng_for


def laundered(path: Path) -> np.ndarray:
    """The photo as the generalisation benchmark launders it."""
    return read_oriented(launder(read_oriented(path.read_bytes()), rng_for(path.name, "localizer-bench")))


def images(count: int, photos: Path | None) -> list[np.ndarray]:
    if photos is None:
        return [synthetic_photo(SIDE, SIDE, seed) for seed in range(count)]
    paths = sorted(p for p in photos.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[:count]
    return [laundered(path) for path in paths]


def milliseconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+")
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--photos", type=Path, help="photos to launder instead of the synthetic ones")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the search's OpenCV calls, like the network, on one core
    analyzers = [LocalizerAnalyzer.from_bundle(path) for path in args.bundles]
    inputs = images(args.images, args.photos)
    for analyzer in analyzers:  # sessions created and warmed before the clock starts
        analyzer.pixel_logits(inputs[0])
    find_duplicates(inputs[0])
    network: list[list[float]] = [[] for _ in analyzers]
    search: list[list[float]] = [[] for _ in analyzers]
    for rgb in inputs:
        for index, analyzer in enumerate(analyzers):
            network[index].append(milliseconds(lambda: analyzer.pixel_logits(rgb)))  # noqa: B023 (run at once)
            search[index].append(milliseconds(lambda: find_duplicates(analyzer.analysed(rgb))))  # noqa: B023
    where = f"the photos of {args.photos}, laundered" if args.photos else "photo-like synthetic images"
    print(f"# Localizer bundles, {len(inputs)} images of {SIDE} px ({where}), one thread\n")
    print("| bundle | network ms | copy-move search ms | together ms | network vs first | together vs first |")
    print("|---|---:|---:|---:|---:|---:|")
    base_network = statistics.median(network[0])
    base_total = statistics.median([n + s for n, s in zip(network[0], search[0], strict=True)])
    for analyzer, net, found in zip(analyzers, network, search, strict=True):
        total = statistics.median([n + s for n, s in zip(net, found, strict=True)])
        print(
            f"| {analyzer.model_version} | {statistics.median(net):.1f} | {statistics.median(found):.1f} | "
            f"{total:.1f} | {statistics.median(net) / base_network:.2f}x | {total / base_total:.2f}x |"
        )


if __name__ == "__main__":
    main()
