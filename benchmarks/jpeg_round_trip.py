"""ELA's JPEG round trip: Pillow's encoder and decoder (before) against OpenCV's (`realeyes.analyzers.ela.
jpeg_round_trip`), on real photos; both must give the same pixels.

Usage (repository root, project virtualenv):
    taskset -c 0 python benchmarks/jpeg_round_trip.py [--size 1024] [--images 16] [--photos ../shared/data/real-photos]
    python benchmarks/jpeg_round_trip.py --check-all          # every JPEG and PNG under ../shared/data up to 4 MP

Photos as in real_photo_cost.py (square crops at --size, JPEG q90). Reported: median ms per round trip for each,
their ratio, and how many images differ (the ELA map is only unchanged if none does)."""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from real_photo_cost import square_photos

from realeyes.analyzers.ela import jpeg_round_trip

QUALITY = 90  # ELA's


def pillow_round_trip(rgb: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=QUALITY)
    return np.asarray(Image.open(buffer).convert("RGB"))


def opencv_round_trip(rgb: np.ndarray) -> np.ndarray:
    return jpeg_round_trip(rgb, QUALITY)


def median_ms(function, rgb: np.ndarray, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(rgb)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def every_image(shared: Path) -> list[Path]:
    return sorted(p for p in shared.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--photos", type=Path, default=Path("../shared/data/real-photos"))
    parser.add_argument("--check-all", action="store_true", help="Only compare pixels, on all of ../shared/data.")
    options = parser.parse_args()
    if options.check_all:
        checked = differ = 0
        for path in every_image(options.photos.parent):
            try:
                with Image.open(path) as image:
                    if image.width * image.height > 4_000_000:
                        continue
                    rgb = np.asarray(image.convert("RGB"))
            except OSError:
                continue
            checked += 1
            differ += not np.array_equal(pillow_round_trip(rgb), opencv_round_trip(rgb))
        print(f"{checked} images under {options.photos.parent}: {differ} differ")
        return
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for path in square_photos(options.photos, options.size, options.images, Path(scratch)):
            rgb = np.asarray(Image.open(path).convert("RGB"))
            same = np.array_equal(pillow_round_trip(rgb), opencv_round_trip(rgb))
            rows.append((median_ms(pillow_round_trip, rgb), median_ms(opencv_round_trip, rgb), same))
    before, after = (statistics.median(row[i] for row in rows) for i in (0, 1))
    print(f"{len(rows)} photos of {options.photos} at {options.size} px, JPEG q{QUALITY} round trip")
    differing = sum(not same for _, _, same in rows)
    print(f"Pillow {before:.2f} ms, OpenCV {after:.2f} ms ({after / before:.2f}x); differing: {differing}")


if __name__ == "__main__":
    main()
