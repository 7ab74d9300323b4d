"""Batch jobs with the laptop default: the in-process worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from realeyes.application.settings import ServiceSettings
from realeyes.application.storage import FileStore
from realeyes.store import Database, Job
from service.jobs_helpers import finished, submit, wait_for
from service.service_media import jpeg_bytes, zip_of


def test_a_batch_runs_to_completion_with_per_item_results(client) -> None:  # type: ignore[no-untyped-def]
    files = [(f"p{i}.jpg", jpeg_bytes(seed=30 + i)) for i in range(3)] + [("notes.txt", b"plain text")]
    job = submit(client, files)
    assert job["status"] == "queued" and job["progress"] == {"done": 0, "total": 4, "fraction": 0.0}
    done = wait_for(client, job["id"], finished)
    assert done["status"] == "succeeded" and done["progress"] == {"done": 4, "total": 4, "fraction": 1.0}
    items = done["result"]["items"]
    assert [item["name"] for item in items] == ["p0.jpg", "p1.jpg", "p2.jpg", "notes.txt"]
    assert items[3]["error"]["code"] == "unsupported_media"
    for item in items[:3]:
        analysis = client.get(f"/v1/analyses/{item['analysis_id']}").json()
        assert analysis["label"] == item["label"] and analysis["filename"] == item["name"]


def test_a_zip_is_expanded_and_its_junk_skipped(client) -> None:  # type: ignore[no-untyped-def]
    archive = zip_of(
        {
            "a/one.jpg": jpeg_bytes(seed=40),
            "two.jpg": jpeg_bytes(seed=41),
            "__MACOSX/._two.jpg": b"x",
            ".DS_Store": b"x",
        }
    )
    job = wait_for(client, submit(client, [("batch.zip", archive)])["id"], finished)
    assert job["status"] == "succeeded"
    assert [item["name"] for item in job["result"]["items"]] == ["one.jpg", "two.jpg"]


def test_zip_bombs_and_oversized_batches_are_refused(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_job_bytes=1_000_000, max_job_files=3)
    bomb = zip_of({"zeros.jpg": b"\0" * 5_000_000})  # 5 MB inflating from a few kB
    assert len(bomb) < 50_000
    response = client.post("/v1/jobs", files=[("files", ("bomb.zip", bomb, "application/zip"))])
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
    many = [("files", (f"{i}.jpg", b"x", "image/jpeg")) for i in range(4)]
    assert client.post("/v1/jobs", files=many).status_code == 413
    # Not a readable zip: kept as one file, which then fails on its own with a clear error.
    broken = submit(client, [("b.zip", b"PK\x03\x04 broken")])
    item = wait_for(client, broken["id"], finished)["result"]["items"][0]
    assert item["name"] == "b.zip" and item["error"]["code"] == "unsupported_media"
    assert client.post("/v1/jobs").status_code == 422


def test_cancel_stops_a_job_between_items(client) -> None:  # type: ignore[no-untyped-def]
    job = submit(client, [(f"c{i}.jpg", jpeg_bytes(seed=100 + i, width=640, height=480)) for i in range(40)])
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 202
    ended = wait_for(client, job["id"], finished)
    assert ended["status"] == "cancelled" and ended["progress"]["done"] < 40
    again = client.delete(f"/v1/jobs/{job['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    assert client.get("/v1/jobs/unknown").status_code == 404


def test_jobs_left_by_a_dead_process_are_finished_after_restart(make_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # What a crash leaves behind: one job accepted but never started, one abandoned halfway.
    settings = ServiceSettings(data_dir=tmp_path / "data", job_stale_seconds=1)
    database = Database(settings.resolved_database_url)
    database.upgrade()
    files = FileStore(settings.storage_dir)
    items = [{"name": f"r{i}.jpg", "sha256": files.put_upload(jpeg_bytes(seed=60 + i))} for i in range(3)]
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    with database.session() as session:
        session.add(Job(id="queued1", kind="batch", items=items, heartbeat_at=long_ago))
        session.add(
            Job(id="halfway1", kind="batch", items=items, status="running", attempts=1, heartbeat_at=long_ago, done=0)
        )
    database.dispose()

    client = make_client(job_stale_seconds=1)
    for job_id in ("queued1", "halfway1"):
        job = wait_for(client, job_id, finished, timeout=30)
        assert job["status"] == "succeeded" and job["progress"]["done"] == 3, job
    assert client.get("/v1/jobs/halfway1").json()["attempts"] == 2


def test_a_job_that_keeps_failing_ends_failed_with_the_reason(make_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = make_client(job_retries=1)
    analyses = client.app.state.realeyes.analyses

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(analyses, "analyze", broken)
    job = wait_for(client, submit(client, [("f.jpg", jpeg_bytes(seed=70))])["id"], finished, timeout=30)
    assert job["status"] == "failed" and "disk full" in job["error"] and job["attempts"] == 2


def test_a_file_over_the_size_limit_is_refused_at_intake(make_client) -> None:  # type: ignore[no-untyped-def]
    from realeyes.config import Settings

    client = make_client(engine_settings=Settings(max_bytes=10_000))
    big = jpeg_bytes(seed=71, width=640, height=480)
    assert len(big) > 10_000
    response = client.post("/v1/jobs", files=[("files", ("big.jpg", big, "image/jpeg"))])
    assert response.status_code == 413 and "REALEYES_MAX_BYTES" in response.json()["error"]["message"]
