"""Where a whole analysis spends its time: cProfile of the default Engine on real photos, heaviest functions first.

Usage (repository root, project virtualenv; pin to one core as real_photo_cost.py does):
    taskset -c 0 python benchmarks/engine_profile.py [--size 1024] [--images 16] [--rounds 2] [--top 25] \
        [--callers resize]

The photos are real_photo_cost.py's (the JPEGs under --photos, resized and centre-cropped to --size, JPEG q90).
Two photos warm the engine up first; then every photo is analysed --rounds times under the profiler. Printed: the
functions with the most time of their own, per analysis (profiling itself adds ~5-10 %); with --callers, also who
called the functions whose name matches (pstats' callers list, totals over every analysis).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path

from real_photo_cost import add_photo_options, chosen_photos

from realeyes.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_photo_options(parser)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--callers", help="Also list the callers of functions matching this regular expression.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        photos = chosen_photos(args, Path(scratch))
        engine = Engine()
        for photo in photos[:2]:
            engine.analyze(photo)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.rounds):
            for photo in photos:
                engine.analyze(photo)
        profile.disable()

    analyses = args.rounds * len(photos)
    stats = pstats.Stats(profile).sort_stats("tottime")
    print(f"{analyses} analyses of {len(photos)} photos, {args.size} px: ms per analysis, own time\n")
    print("| own ms | calls per analysis | function |\n|---:|---:|---|")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[: args.top]  # type: ignore[attr-defined]
    for (filename, line, name), (_, calls, own, _, _) in rows:
        where = name if filename == "~" else f"{Path(filename).name}:{line}({name})"
        print(f"| {1000 * own / analyses:.1f} | {calls / analyses:.1f} | {where} |")
    if args.callers:
        stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
