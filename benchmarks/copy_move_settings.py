"""Cheaper copy-move search settings against the shipped ones: quality on COVERAGE's validation half, time on
real photos.

Usage (repository root, project virtualenv; pin to one core for the times):
    taskset -c 0 python benchmarks/copy_move_settings.py [--shared ../shared/data] [--size 512] [--images 16]

Each candidate changes one constant of `realeyes.analyzers._copy_move`. Quality: the served localizer map
(network and search) and the search alone on the validation half of COVERAGE (odd pair ids; the test half is
never read), pixel F1 at 0.5 and the area flagged on the originals. Time: the search alone on the photos of
`real_photo_cost.py`'s selection, every photo through every candidate in turn, three rounds; median ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import cv2
from real_photo_cost import square_photos

from realeyes.analyzers import _copy_move as search
from realeyes.analyzers.localizer import LocalizerAnalyzer
from realeyes.training.localizer.real_forgeries import (
    copy_move_method,
    localisation_report,
    localizer_method,
    read_coverage,
    score,
)

CANDIDATES: dict[str, dict[str, int]] = {
    "shipped": {},
    "octave layers 2": {"OCTAVE_LAYERS": 2},
    "work side 192": {"WORK_SIDE": 192},
    "keypoints 500": {"MAX_KEYPOINTS": 500},
}
SHIPPED = {name: getattr(search, name) for name in ("OCTAVE_LAYERS", "WORK_SIDE", "MAX_KEYPOINTS")}


def use(candidate: str) -> None:
    for name, value in {**SHIPPED, **CANDIDATES[candidate]}.items():
        setattr(search, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--images", type=int, default=16)
    args = parser.parse_args()

    val, analyzer = read_coverage(args.shared, "val"), LocalizerAnalyzer()
    results: dict[str, dict[str, float]] = {}
    for candidate in CANDIDATES:
        use(candidate)
        served = localisation_report(val, score(localizer_method(analyzer), val), analyzer.threshold)
        alone = localisation_report(val, score(copy_move_method, val))
        results[candidate] = {
            "served_f1_at_05": served["pixel_f1_at_level"],
            "search_alone_f1_at_05": alone["pixel_f1_at_level"],
            "originals_area_flagged": served["authentic_flagged_area"],
        }
    times: dict[str, list[float]] = {candidate: [] for candidate in CANDIDATES}
    with tempfile.TemporaryDirectory() as scratch:
        paths = square_photos(args.shared / "real-photos", args.size, args.images, Path(scratch))
        photos = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in paths]
    for _ in range(3):
        for rgb in photos:
            for candidate in CANDIDATES:
                use(candidate)
                started = time.perf_counter()
                search.find_duplicates(rgb)
                times[candidate].append((time.perf_counter() - started) * 1000)
    use("shipped")
    for candidate, figures in results.items():
        figures["search_ms_median"] = round(statistics.median(times[candidate]), 2)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
