"""The scale-out proof (benchmarks/scaleout.py) as a test: one API and two workers on the real PostgreSQL and
Redis analyse 500 images sent as 50 jobs; both workers take part and every result is stored exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO


def test_500_images_spread_over_two_workers_each_stored_once(redis_url: str, postgres_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scaleout.py"), "--images", "500", "--jobs", "50", "--side", "256"],
        capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["statuses"] == {"succeeded": 50}
    assert len(report["items_by_worker"]) == 2 and min(report["items_by_worker"].values()) >= 50, report
    assert report["items_with_analysis"] == report["distinct_analysis_ids"] == 500
    assert report["analyses_stored"] == report["distinct_sha256_stored"] == 500
