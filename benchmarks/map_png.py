"""PNG encoding of the maps the service stores: PIL's level-1 zlib (before) against OpenCV's run-length zlib at
level 1 (`realeyes.imaging.map_to_png`), on the maps of real photos as `realeyes.pictures.render` stores them.

Usage (repository root, project virtualenv):
    taskset -c 0 python benchmarks/map_png.py [--size 512] [--images 16] [--photos ../shared/data/real-photos]

Both encoders get the same 8-bit maps; the PNGs decode to identical pixels (checked on every map). Reported per
map: median ms for each encoder, the ratio, and the mean size of each."""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image
from real_photo_cost import square_photos

from realeyes.engine import Engine
from realeyes.imaging import map_to_png, shrink
from realeyes.pictures import DISPLAY_MAP_SIDE


def pil_level_1(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


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
    results: dict[str, list[tuple[float, float, int, int]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as scratch:
        for path in square_photos(options.photos, options.size, options.images, Path(scratch)):
            for evidence in engine.analyze(path).evidence:
                for name, heatmap in evidence.maps.items():
                    values = shrink(
                        heatmap.values, engine.settings.map_max_side if heatmap.spatial else DISPLAY_MAP_SIDE
                    )
                    before_ms, before = timed(pil_level_1, values)
                    after_ms, after = timed(map_to_png, values)
                    if not np.array_equal(decoded(before), decoded(after)):
                        raise SystemExit(f"{path} {name}: the two PNGs decode to different pixels")
                    results[name].append((before_ms, after_ms, len(before), len(after)))
    print(f"{options.images} photos of {options.photos}, {options.size} px\n")
    print("| map | PIL level 1 ms | OpenCV RLE ms | time ratio | PIL KB | OpenCV KB | size ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rows in sorted(results.items()):
        before_ms, after_ms = (statistics.median(r[i] for r in rows) for i in (0, 1))
        before_kb, after_kb = (statistics.mean(r[i] for r in rows) / 1024 for i in (2, 3))
        print(
            f"| {name} | {before_ms:.2f} | {after_ms:.2f} | {after_ms / before_ms:.2f}x | {before_kb:.1f} | "
            f"{after_kb:.1f} | {after_kb / before_kb:.2f}x |"
        )


if __name__ == "__main__":
    main()
