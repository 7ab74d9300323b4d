"""CPU per image of the coding-cost analyzer served from two (or more) coder bundles: a layout against another.

Usage (repository root, project virtualenv; pin to one core to measure "on one core"):
    taskset -c 0 python benchmarks/coder_layouts.py models/surprisal/realeyes-coding-cost-0.2.0 \
        models/surprisal/realeyes-coding-cost-0.3.0 [--photos ../shared/data/real-photos] [--blocks 5]

Images: 16 real photos of --photos at least 512 px on the short side, resized and centre-cropped to 512 px and
saved as JPEG q90 (as `real_photo_cost.py` makes them), or with --synthetic 16 photo-like scenes
(`samples.photo_like`). The bundles' analyzers run in one process, in alternating blocks over every image, so a
slow period of the machine touches each alike. Reported: each bundle's CPU ms per image per block, the medians,
and their ratio to the first bundle.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from real_photo_cost import square_pixels

from realeyes import samples
from realeyes.analyzers.surprisal import SurprisalAnalyzer
from realeyes.config import Settings
from realeyes.media import Media, load_media

SIDE, COUNT = 512, 16


def images(photos: Path | None, settings: Settings) -> list[Media]:
    if photos is None:
        scenes = [samples.photo_like(SIDE, SIDE, seed=seed) for seed in range(COUNT)]
    else:
        scenes = [np.ascontiguousarray(bgr[:, :, ::-1]) for bgr in square_pixels(photos, SIDE, COUNT)]
    if not scenes:
        raise SystemExit(f"no JPEG of at least {SIDE} px on the short side under {photos}")
    return [load_media(samples.jpeg_bytes(rgb, quality=90), settings) for rgb in scenes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundles", type=Path, nargs="+")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--photos", type=Path, default=Path("../shared/data/real-photos"))
    source.add_argument("--synthetic", action="store_true")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()

    settings = Settings()
    media = images(None if args.synthetic else args.photos, settings)
    analyzers = {path.name: SurprisalAnalyzer.from_bundle(path, settings) for path in args.bundles}
    for analyzer in analyzers.values():
        analyzer.analyze(media[0])  # session built and warm before the clock
    per_block: dict[str, list[float]] = {name: [] for name in analyzers}
    for _ in range(args.blocks):
        for name, analyzer in analyzers.items():
            start = time.process_time()
            for item in media:
                analyzer.analyze(item)
            per_block[name].append((time.process_time() - start) / len(media) * 1000)
    first = statistics.median(next(iter(per_block.values())))
    print(f"{len(media)} images, {'synthetic' if args.synthetic else args.photos}, {args.blocks} blocks")
    for name, values in per_block.items():
        median = statistics.median(values)
        blocks = " ".join(f"{v:.1f}" for v in values)
        print(f"{name}: CPU ms per image {blocks}; median {median:.1f} ({median / first:.2f}x)")


if __name__ == "__main__":
    main()
