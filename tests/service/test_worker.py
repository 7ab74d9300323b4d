"""Scale-out: API replicas hand jobs to `realeyes worker` processes through the real Redis; PostgreSQL holds
the jobs. A worker killed mid-job, or an API restarted with work queued, loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.jobs_helpers import finished, submit, wait_for
from service.service_media import jpeg_bytes

STALE_SECONDS = 2


@pytest.fixture
def cluster(make_client, postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[Callable, Callable]]:  # type: ignore[no-untyped-def]
    """(api(), worker()) factories sharing one PostgreSQL schema, one Redis and one file store."""
    settings = {
        "database_url": postgres_url,
        "queue": "redis",
        "redis_url": redis_url,
        "job_stale_seconds": STALE_SECONDS,
    }
    workers: list[subprocess.Popen[bytes]] = []

    def api():  # type: ignore[no-untyped-def]
        return make_client(**settings)

    def worker() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "REALEYES_DATA_DIR": str(tmp_path / "data"),
            "REALEYES_DATABASE_URL": postgres_url,
            "REALEYES_REDIS_URL": redis_url,
            "REALEYES_JOB_STALE_SECONDS": str(STALE_SECONDS),
        }
        with (tmp_path / f"worker{len(workers)}.log").open("wb") as log:  # the child keeps its own handle
            process = subprocess.Popen([sys.executable, "-m", "realeyes", "worker"], env=env, stdout=log, stderr=log)
        workers.append(process)
        return process

    yield api, worker
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_a_worker_process_runs_jobs_from_redis(cluster) -> None:  # type: ignore[no-untyped-def]
    api, worker = cluster
    client = api()
    worker()
    job = submit(client, [(f"w{i}.jpg", jpeg_bytes(seed=80 + i)) for i in range(3)])
    done = wait_for(client, job["id"], finished, timeout=60)
    assert done["status"] == "succeeded" and done["progress"] == {"done": 3, "total": 3, "fraction": 1.0}
    assert all("analysis_id" in item for item in done["result"]["items"])


def test_a_job_survives_its_worker_being_killed(cluster) -> None:  # type: ignore[no-untyped-def]
    api, worker = cluster
    client = api()
    first = worker()
    files = [(f"k{i}.jpg", jpeg_bytes(seed=200 + i, width=800, height=600)) for i in range(30)]
    job = submit(client, files)
    wait_for(client, job["id"], lambda j: j["status"] == "running" and j["progress"]["done"] >= 2, timeout=60)
    first.kill()  # SIGKILL: no chance to clean up
    first.wait()
    stopped_at = client.get(f"/v1/jobs/{job['id']}").json()
    assert stopped_at["status"] == "running" and stopped_at["progress"]["done"] < 30

    worker()
    done = wait_for(client, job["id"], finished, timeout=90)
    assert done["status"] == "succeeded" and done["progress"] == {"done": 30, "total": 30, "fraction": 1.0}
    assert done["attempts"] == 2
    names = [item["name"] for item in done["result"]["items"]]
    assert names == [name for name, _ in files]  # every item exactly once, in order


def test_jobs_queued_while_no_worker_runs_survive_an_api_restart(cluster) -> None:  # type: ignore[no-untyped-def]
    api, worker = cluster
    client = api()
    job = submit(client, [("q.jpg", jpeg_bytes(seed=90))])
    client.__exit__(None, None, None)  # the API stops with the job still queued

    restarted = api()
    assert restarted.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"
    worker()
    assert wait_for(restarted, job["id"], finished, timeout=60)["status"] == "succeeded"


def test_readiness_fails_and_jobs_are_refused_when_redis_is_down(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(queue="redis", redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["queue"] != "ok"
    refused = client.post("/v1/jobs", files=[("files", ("a.jpg", jpeg_bytes(seed=91), "image/jpeg"))])
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_unavailable"
    assert client.post("/v1/analyses", files={"file": ("a.jpg", jpeg_bytes(seed=91), "image/jpeg")}).status_code == 201
