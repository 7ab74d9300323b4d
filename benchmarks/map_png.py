"""PNG encoding of the maps the service stores, on the maps of real photos as `realeyes.pictures.render` stores
them: PIL's level-1 zlib (the first encoder), OpenCV's run-length zlib at level 1 with libpng's adaptive row filters
(the second) and `realeyes.imaging.map_to_png` (the same with one fixed "up" filter).

Usage (repository root, project virtualenv):
    taskset -c 0 python benchmarks/map_png.py [--size 512] [--images 16] [--photos ../shared/data/real-photos]

Every encoder gets the same 8-bit maps; the PNGs decode to identical pixels (checked on every map). Reported per
map: median ms and mean size for each encoder, and the shipped encoder's ratios to the other two."""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from real_photo_cost import square_photos

from realeyes.engine import Engine
from realeyes.imaging import map_to_gray, map_to_png, shrink
from realeyes.pictures import DISPLAY_MAP_SIDE


def pil_level_1(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(map_to_gray(values)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def opencv_adaptive_filters(values: np.ndarray) -> bytes:
    options = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
    return cv2.imencode(".png", map_to_gray(values), options)[1].tobytes()


ENCODERS = {"PIL level 1": pil_level_1, "OpenCV RLE, adaptive filters": opencv_adaptive_filters, "shipped": map_to_png}


def decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def timed(encode, values: np.ndarray, repeats: int = 5) -> tuple[float, bytes]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        png = encode(values)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0, png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/real-photos"))
    options = parser.parse_args()
    engine = Engine()
    results: dict[str, list[dict[str, tuple[float, int]]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as scratch:
        for path in square_photos(options.photos, options.size, options.images, Path(scratch)):
            for evidence in engine.analyze(path).evidence:
                for name, heatmap in evidence.maps.items():
                    values = shrink(
                        heatmap.values, engine.settings.map_max_side if heatmap.spatial else DISPLAY_MAP_SIDE
                    )
                    encoded = {label: timed(encode, values) for label, encode in ENCODERS.items()}
                    pixels = [decoded(png) for _, png in encoded.values()]
                    if any(not np.array_equal(pixels[0], other) for other in pixels[1:]):
                        raise SystemExit(f"{path} {name}: the PNGs decode to different pixels")
                    results[name].append({label: (ms, len(png)) for label, (ms, png) in encoded.items()})
    print(f"{options.images} photos of {options.photos}, {options.size} px\n")
    labels = list(ENCODERS)
    print("| map | " + " | ".join(f"{label} ms | KB" for label in labels) + " | shipped time vs each | size vs each |")
    print("|---|" + "---:|---:|" * len(labels) + "---|---|")
    for name, rows in sorted(results.items()):
        ms = {label: statistics.median(row[label][0] for row in rows) for label in labels}
        kb = {label: statistics.mean(row[label][1] for row in rows) / 1024 for label in labels}
        cells = " | ".join(f"{ms[label]:.2f} | {kb[label]:.1f}" for label in labels)
        times = " / ".join(f"{ms['shipped'] / ms[label]:.2f}x" for label in labels[:-1])
        sizes = " / ".join(f"{kb['shipped'] / kb[label]:.2f}x" for label in labels[:-1])
        print(f"| {name} | {cells} | {times} | {sizes} |")


if __name__ == "__main__":
    main()
