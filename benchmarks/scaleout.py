"""Scale-out proof: one API and two `realeyes worker` processes on this machine's PostgreSQL and Redis analyse a
batch of images submitted as many jobs; the report shows how the work spread and that every result is stored
exactly once.

    python benchmarks/scaleout.py                       # 500 images of 320 px in 50 jobs
    python benchmarks/scaleout.py --images 100 --jobs 10
    python benchmarks/scaleout.py --workers 1 2         # the same batch with 1, then 2 workers, and the ratio

Needs PostgreSQL (a fresh schema in database `test` is created and dropped) and Redis (database 14 is flushed)."""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from service_processes import free_port, processes, wait_ready
from sqlalchemy import create_engine, func, select, text

from realeyes import samples
from realeyes.store import Analysis

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/14"


def jpeg(seed: int, side: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(samples.photo_like(side, side, seed=seed)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def run(images: int, jobs: int, side: int, workers: int = 2) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    schema = f"scaleout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    database_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    port = free_port()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            env = {
                "REALEYES_DATA_DIR": scratch,
                "REALEYES_DATABASE_URL": database_url,
                "REALEYES_QUEUE": "redis",
                "REALEYES_REDIS_URL": REDIS,
                "REALEYES_RATE_LIMIT_PER_MINUTE": "0",
            }
            commands = [["serve", "--port", str(port)]] + [["worker"] for _ in range(workers)]
            with processes(commands, env, Path(scratch)):
                base = f"http://127.0.0.1:{port}"
                wait_ready(base)
                time.sleep(3)  # let the workers load their models before the clock starts
                payloads = [jpeg(seed, side) for seed in range(images)]
                started = time.perf_counter()
                with httpx.Client(base_url=base, timeout=60) as client:
                    ids = []
                    for job in range(jobs):
                        part = payloads[job::jobs]
                        files = [("files", (f"{job}-{i}.jpg", data, "image/jpeg")) for i, data in enumerate(part)]
                        ids.append(client.post("/v1/jobs", files=files).raise_for_status().json()["id"])
                    results = [wait_finished(client, job_id) for job_id in ids]
                elapsed = time.perf_counter() - started
        with create_engine(database_url).connect() as connection:
            stored = connection.execute(select(func.count()).select_from(Analysis)).scalar_one()
            distinct = connection.execute(select(func.count(func.distinct(Analysis.sha256)))).scalar_one()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    items = [item for job in results for item in job["result"]["items"]]
    return {
        "images": images,
        "jobs": jobs,
        "side_px": side,
        "statuses": dict(Counter(job["status"] for job in results)),
        "items_by_worker": dict(Counter(item.get("worker", "none") for item in items)),
        "items_with_analysis": sum("analysis_id" in item for item in items),
        "distinct_analysis_ids": len({item.get("analysis_id") for item in items if "analysis_id" in item}),
        "analyses_stored": stored,
        "distinct_sha256_stored": distinct,
        "seconds": round(elapsed, 1),
        "images_per_second": round(images / elapsed, 1),
    }


def wait_finished(client: httpx.Client, job_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").raise_for_status().json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise TimeoutError(job_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--side", type=int, default=320)
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="Worker processes, one run each.")
    options = parser.parse_args()
    runs = [run(options.images, options.jobs, options.side, workers) for workers in options.workers]
    for result, workers in zip(runs, options.workers, strict=True):
        result["workers"] = workers
        result["vs_first_run"] = round(result["images_per_second"] / runs[0]["images_per_second"], 2)
    print(json.dumps(runs[0] if len(runs) == 1 else runs, indent=2))


if __name__ == "__main__":
    main()
