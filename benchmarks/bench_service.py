"""Load test of the running service on loopback, with production settings: several server processes, CPU work
off the event loop, PostgreSQL (or SQLite) for results, the shipped models loaded.

    python benchmarks/bench_service.py                    # 5 minutes of 512 px JPEG analyses, then 2048 px
    python benchmarks/bench_service.py --seconds 30 --database sqlite
    python benchmarks/bench_service.py --photos ../shared/data/real-photos   # real photos instead of synthetic

Every request carries a different image (no cached results), prepared before the clock starts so the client
spends little CPU while measuring. By default the images are synthetic photo-like scenes (`samples.photo_like`),
whose repeated shapes and textures give the localizer's copy-move search far more keypoint matches than photos
do; with --photos, the scenes are the JPEGs of those folders (at least 512 px on the short side, resized and
centre-cropped to 512 px, as `real_photo_cost.py` makes them). Either way each request's copy of a scene differs
from every other by one 8x8 block of noise. The client shares the machine's cores with the server, as it would
on a laptop. Reports throughput, latency percentiles, errors and each server process's resident memory."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image
from real_photo_cost import square_pixels
from service_processes import free_port, processes, wait_ready
from sqlalchemy import create_engine, text

from realeyes import samples

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parents[1]


def synthetic_scenes(side: int, count: int) -> list[np.ndarray]:
    return [samples.photo_like(side, side, seed=seed) for seed in range(count)]


def photo_scenes(folders: list[Path], side: int) -> list[np.ndarray]:
    scenes = [bgr[:, :, ::-1] for folder in folders for bgr in square_pixels(folder, side, count=100_000)]
    if not scenes:
        raise SystemExit(f"no JPEG of at least {side} px on the short side under {', '.join(map(str, folders))}")
    return scenes


def variants(scenes: list[np.ndarray], count: int) -> list[bytes]:
    """`count` distinct JPEGs q90: the scenes in turn, each copy with a different 8x8 block of noise."""
    rng = np.random.default_rng(0)
    out = []
    for index in range(count):
        pixels = scenes[index % len(scenes)].copy()
        y, x = rng.integers(0, min(pixels.shape[:2]) - 8, size=2)
        pixels[y : y + 8, x : x + 8] = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def resident_mb(root_pid: int) -> dict[int, float]:
    """VmRSS of the server's processes (the supervisor and its children), from /proc."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid, parent = int(fields["Pid"]), int(fields["PPid"])
        if (pid == root_pid or parent == root_pid) and "VmRSS" in fields:
            found[pid] = round(int(fields["VmRSS"].split()[0]) / 1024, 1)
    return found


async def load(base: str, payloads: list[bytes], seconds: float, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    cursor = 0
    deadline = time.perf_counter() + seconds

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal cursor
        while time.perf_counter() < deadline and cursor < len(payloads):
            data, cursor = payloads[cursor], cursor + 1
            started = time.perf_counter()
            try:
                response = await client.post("/v1/analyses", files={"file": ("load.jpg", data, "image/jpeg")})
                ok = response.status_code == 201
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                ok, key = False, type(exc).__name__
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors[key] = errors.get(key, 0) + 1

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    values = np.array(latencies) * 1000
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 1),
        "analyses_per_minute": round(len(latencies) / elapsed * 60),
        "latency_ms": {f"p{q}": round(float(np.percentile(values, q)), 1) for q in (50, 95, 99)} if len(values) else {},
        "ran_out_of_images": cursor >= len(payloads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2, help="Server processes.")
    parser.add_argument("--concurrency", type=int, default=8, help="Requests in flight.")
    parser.add_argument("--rate", type=float, default=40.0, help="Images to prepare per second of load.")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--logs", type=Path, help="Keep the server's log here.")
    parser.add_argument(
        "--photos", type=Path, action="append", help="Take the 512 px scenes from this folder's JPEGs (repeatable)."
    )
    options = parser.parse_args()

    print(f"preparing {int(options.seconds * options.rate)} distinct 512 px JPEGs…", flush=True)
    scenes = photo_scenes(options.photos, 512) if options.photos else synthetic_scenes(512, 64)
    small = variants(scenes, int(options.seconds * options.rate))
    large = variants(synthetic_scenes(2048, 4), 20)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES) if options.database == "postgres" else None
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "REALEYES_DATA_DIR": scratch,
            "REALEYES_RATE_LIMIT_PER_MINUTE": "0",
            "REALEYES_MODELS_DIR": os.environ.get("REALEYES_MODELS_DIR", str(REPO / "models")),
        }
        if admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            env["REALEYES_DATABASE_URL"] = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        port = free_port()
        try:
            logs = options.logs or Path(scratch)
            logs.mkdir(parents=True, exist_ok=True)
            with processes([["serve", "--port", str(port), "--workers", str(options.workers)]], env, logs) as (server,):
                base = f"http://127.0.0.1:{port}"
                wait_ready(base)
                asyncio.run(load(base, small[:20], 60, 2))  # warm-up: first requests load lazily-built state
                report: dict[str, Any] = {"settings": vars(options)}
                report["512px"] = asyncio.run(load(base, small[20:], options.seconds, options.concurrency))
                report["2048px_sequential"] = asyncio.run(load(base, large, 600, 1))
                report["server_rss_mb"] = resident_mb(server.pid)
        finally:
            if admin is not None:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
