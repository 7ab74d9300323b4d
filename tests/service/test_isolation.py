"""Stopping the service while analyses run: the analysis pool and the in-process job thread shut down cleanly.

The pool kills a worker that is still starting or mid-file; its caller gets PoolClosed (the service is stopping),
never a start-up failure or a crash blamed on the file, and the job thread has ended, and put its job back in the
queue, before the app disposes of the database."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from realeyes.application.isolation import AnalysisPool
from realeyes.config import Settings
from realeyes.errors import PoolClosed
from realeyes.store import Database, Job
from service.conftest import ClientFactory
from service.jobs_helpers import submit, wait_for
from service.test_budgets import cpu_bomb

# The bomb reaches the decoder (its scans are allowed) and keeps a worker busy for many seconds.
SLOW = Settings(max_jpeg_scans=100_000, analyzers=["metadata", "ela", "noise"])


def test_closing_the_pool_while_its_worker_starts_or_runs_is_a_shutdown() -> None:
    pool = AnalysisPool(SLOW, size=1, timeout_seconds=120)
    outcome: dict[str, Any] = {}

    def analyse() -> None:
        try:
            outcome["result"] = pool.analyze(cpu_bomb())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=analyse)
    thread.start()
    deadline = time.monotonic() + 30
    while not pool._all and time.monotonic() < deadline:  # the worker process exists: starting, or on the file
        time.sleep(0.01)
    pool.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), PoolClosed), outcome
    assert "shutting down" in str(outcome["error"])
    with pytest.raises(PoolClosed):
        pool.analyze(cpu_bomb())


def test_stopping_the_service_mid_job_requeues_the_job_and_leaves_no_thread_behind(
    make_client: ClientFactory,
) -> None:
    client = make_client(engine_settings=SLOW, analysis_timeout_seconds=120)
    state = client.app.state.realeyes  # type: ignore[attr-defined]
    job = submit(client, [("bomb.jpg", cpu_bomb())])
    wait_for(client, job["id"], lambda current: current["status"] == "running", timeout=30)
    threads = list(state.queue._threads)
    url = state.settings.resolved_database_url

    started = time.monotonic()
    client.__exit__(None, None, None)
    assert time.monotonic() - started < 30  # the running analysis was stopped, not waited for
    assert not any(thread.is_alive() for thread in threads)
    database = Database(url)
    try:
        with database.session() as session:
            assert session.get_one(Job, job["id"]).status == "queued"  # picked up again at the next start
    finally:
        database.dispose()
