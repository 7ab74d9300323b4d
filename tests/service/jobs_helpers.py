"""Submitting and following jobs in tests."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient


def submit(client: TestClient, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    response = client.post(
        "/v1/jobs", files=[("files", (name, data, "application/octet-stream")) for name, data in files]
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    return dict(response.json())


def wait_for(client: TestClient, job_id: str, until: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the job until `until(job)` holds; fail with the last state on timeout."""
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job did not reach the expected state in {timeout}s: {job}")


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")
