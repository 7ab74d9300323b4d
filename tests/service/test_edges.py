"""Hardened edges of the service, part 2 (issue 11): keys and CORS refusals (#19), zip central directories (#7),
jobs left running by a dead process (#14), Host and Origin checks in loopback mode (#8), and header/idle
timeouts of `realeyes serve` (#5)."""

from __future__ import annotations

import io
import os
import socket
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from realeyes.application.settings import ServiceSettings
from realeyes.application.storage import FileStore
from realeyes.cli import main
from realeyes.service.auth import MAX_KEY_NAME, create_key, lookup_key, revoke_key
from realeyes.store import Database, Job
from service.conftest import ClientFactory
from service.jobs_helpers import finished, wait_for
from service.live_server import running_server
from service.service_media import jpeg_bytes


@pytest.fixture
def sqlite_client(make_client: ClientFactory, tmp_path: Path) -> TestClient:
    return make_client(database_url=f"sqlite:///{tmp_path / 'edges.db'}")


# ------------------------------------------------------------------ finding 19: keys and CORS on refusals


def test_a_key_needs_a_scope_and_a_bounded_name(tmp_path: Path) -> None:
    env = {"REALEYES_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    for scopes in (",", " , ,", ""):
        result = runner.invoke(main, ["keys", "create", "--name", "desk", "--scopes", scopes], env=env)
        assert result.exit_code == 2 and "at least one scope" in result.stderr, (scopes, result.output)
    too_long = runner.invoke(main, ["keys", "create", "--name", "n" * (MAX_KEY_NAME + 1)], env=env)
    assert too_long.exit_code == 2 and f"1 to {MAX_KEY_NAME} characters" in too_long.stderr
    hostile = runner.invoke(main, ["keys", "create", "--name", "desk\x1b[2J"], env=env)
    assert hostile.exit_code == 2
    assert runner.invoke(main, ["keys", "create", "--name", "n" * MAX_KEY_NAME], env=env).exit_code == 0
    listed = runner.invoke(main, ["keys", "list"], env=env).stdout
    assert listed.count("\n") == 1  # only the valid key was created

    database = Database(ServiceSettings(data_dir=tmp_path).resolved_database_url)
    with pytest.raises(ValueError, match="at least one scope"):
        create_key(database, "api", [])
    database.dispose()


def test_a_revoked_keys_name_can_be_used_again(tmp_path: Path) -> None:
    env = {"REALEYES_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    first = runner.invoke(main, ["keys", "create", "--name", "desk"], env=env)
    assert first.exit_code == 0
    assert runner.invoke(main, ["keys", "create", "--name", "desk"], env=env).exit_code == 2  # active: taken
    assert runner.invoke(main, ["keys", "revoke", "desk"], env=env).exit_code == 0
    second = runner.invoke(main, ["keys", "create", "--name", "desk"], env=env)
    assert second.exit_code == 0, second.output
    old_key, new_key = first.stdout.strip().splitlines()[-1], second.stdout.strip().splitlines()[-1]
    database = Database(ServiceSettings(data_dir=tmp_path).resolved_database_url)
    assert lookup_key(database, old_key) is None
    found = lookup_key(database, new_key)
    assert found is not None and found.name == "desk"
    assert revoke_key(database, "desk") and not revoke_key(database, "desk")
    database.dispose()
    listed = runner.invoke(main, ["keys", "list"], env=env).stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["desk", "desk"]
    assert all("revoked" in line for line in listed)


def test_a_refused_body_carries_the_cors_headers(make_client: ClientFactory, tmp_path: Path) -> None:
    origin = "https://desk.example"
    client = make_client(database_url=f"sqlite:///{tmp_path / 'cors.db'}", cors_origins=[origin], max_upload_bytes=1000)
    big = b"x" * 200_000
    declared = client.post("/v1/analyses", files={"file": ("big.jpg", big, "image/jpeg")}, headers={"Origin": origin})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "payload_too_large"
    assert declared.headers["access-control-allow-origin"] == origin
    assert declared.headers["x-content-type-options"] == "nosniff" and declared.headers["x-request-id"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while streaming
        for _ in range(20):
            yield b"y" * 10_000

    streamed = client.post(
        "/v1/analyses",
        content=chunks(),
        headers={"Origin": origin, "Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert streamed.status_code == 413
    assert streamed.headers["access-control-allow-origin"] == origin


# ------------------------------------------------------------------ finding 14: jobs left running by a dead process


def test_a_job_left_running_by_a_dead_process_is_rerun_at_start_up(make_client: ClientFactory, tmp_path: Path) -> None:
    """What kill -9 leaves: a job `running`, its heartbeat fresh (the process died a moment ago), held by a pid of
    this host that no longer runs. The next start re-runs it at once, not after job_stale_seconds (60 s)."""
    gone = subprocess.Popen([sys.executable, "-c", ""])  # any short-lived process: its pid is then free
    gone.wait()
    settings = ServiceSettings(data_dir=tmp_path / "data")
    database = Database(settings.resolved_database_url)
    database.upgrade()
    files = FileStore(settings.storage_dir)
    items = [{"name": f"k{i}.jpg", "sha256": files.put_upload(jpeg_bytes(seed=80 + i))} for i in range(2)]
    with database.session() as session:
        for job_id, worker in (
            ("killed1", f"{socket.gethostname()}:{gone.pid}:0123abcd"),  # a dead process of this host
            ("restarted1", f"{socket.gethostname()}:{os.getpid()}:0123abcd"),  # this pid, an earlier start
        ):
            session.add(
                Job(
                    id=job_id, kind="batch", items=items, status="running", attempts=1, done=0,
                    heartbeat_at=datetime.now(UTC), worker=worker,
                )
            )  # fmt: skip
        session.add(  # another host's worker is judged by its heartbeat, which is fresh: left alone
            Job(
                id="elsewhere1", kind="batch", items=items, status="running", attempts=1, done=0,
                heartbeat_at=datetime.now(UTC), worker="some-other-host:4242:0123abcd",
            )
        )  # fmt: skip
    database.dispose()

    started = time.monotonic()
    client = make_client(job_stale_seconds=60)
    for job_id in ("killed1", "restarted1"):
        job = wait_for(client, job_id, finished, timeout=20)
        assert job["status"] == "succeeded" and job["progress"]["done"] == 2 and job["attempts"] == 2, job
    assert time.monotonic() - started < 20
    assert client.get("/v1/jobs/elsewhere1").json()["status"] == "running"


# ------------------------------------------------------------------ finding 7: zip central directories bounded


def zip_of(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"f{index}.jpg", b"x")
    return buffer.getvalue()


def test_a_zip_declaring_too_many_entries_is_refused_before_its_directory_is_parsed(
    make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(database_url=f"sqlite:///{tmp_path / 'zips.db'}", max_job_files=5)
    parsed: list[int] = []
    real_parse = zipfile.ZipFile._RealGetContents  # type: ignore[attr-defined]

    def spy(archive: zipfile.ZipFile) -> None:
        parsed.append(1)
        real_parse(archive)

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", spy)

    refused = client.post("/v1/jobs", files=[("files", ("many.zip", zip_of(11), "application/zip"))])
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert error["code"] == "payload_too_large" and "declares 11 entries" in error["message"]
    assert not parsed  # refused from the end record alone

    # A directory that claims to be huge (here a lie: the file is tiny) is refused the same way, not parsed.
    data = bytearray(zip_of(2))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 12, 90_000_000)  # central directory size
    huge = client.post("/v1/jobs", files=[("files", ("huge.zip", bytes(data), "application/zip"))])
    assert huge.status_code == 413 and "central directory" in huge.json()["error"]["message"], huge.text
    assert not parsed

    accepted = client.post("/v1/jobs", files=[("files", ("ok.zip", zip_of(4), "application/zip"))])
    assert accepted.status_code == 202, accepted.text
    assert parsed  # a zip within the bounds is read as before


# ------------------------------------------------------------------ finding 5: header/idle timeouts, connection cap


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection (recv returns b"" or the connection resets), else None."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_a_live_server_closes_connections_that_never_finish_their_headers(tmp_path: Path) -> None:
    env = {
        "REALEYES_HEADER_TIMEOUT_SECONDS": "1.5",
        "REALEYES_KEEP_ALIVE_SECONDS": "1",
        "REALEYES_MAX_CONNECTIONS": "6",
        "REALEYES_ANALYZERS": '["metadata"]',
    }
    with running_server(tmp_path, env) as base_url:
        silent = _connect(base_url)  # opens and sends nothing
        partial = _connect(base_url)  # a request line and one header, never the blank line
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickle = _connect(base_url)  # one byte at a time, never finishing: the deadline is not extended
        started = time.monotonic()
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaa":
            try:
                trickle.send(bytes([byte]))
            except OSError:
                break
            if time.monotonic() - started > 6:
                break
            time.sleep(0.1)
        assert time.monotonic() - started < 5, "the trickling connection was never closed"
        for sock in (silent, partial, trickle):
            assert _closed_within(sock, 5) is not None
            sock.close()

        # A complete request is answered; the idle keep-alive after it is closed after REALEYES_KEEP_ALIVE_SECONDS.
        kept = _connect(base_url)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert kept.recv(4096).startswith(b"HTTP/1.1 200")
        waited = _closed_within(kept, 5)
        assert waited is not None and waited < 4
        kept.close()

        # Beyond REALEYES_MAX_CONNECTIONS, a new connection is closed at once (before any header deadline).
        held = [_connect(base_url) for _ in range(6)]
        time.sleep(0.3)
        extra = _connect(base_url)
        waited = _closed_within(extra, 1.2)
        assert waited is not None and waited < 1.2
        for sock in [*held, extra]:
            sock.close()


# ------------------------------------------------------------------ finding 8: Host and Origin in loopback mode


def test_a_live_loopback_server_refuses_foreign_hosts_and_cross_site_writes(tmp_path: Path) -> None:
    import httpx

    with running_server(tmp_path, {"REALEYES_ANALYZERS": '["metadata"]'}) as base_url:
        port = base_url.rsplit(":", 1)[1]
        upload = {"file": ("a.jpg", jpeg_bytes(seed=90), "image/jpeg")}
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
                assert http.get("/v1/analyses", headers={"Host": host}).status_code == 200, host
            rebound = http.get("/v1/analyses", headers={"Host": f"evil.example:{port}"})  # DNS rebinding
            assert rebound.status_code == 421 and rebound.json()["error"]["code"] == "misdirected_request"
            assert http.get("/", headers={"Host": "evil.example"}).status_code == 421

            cross = http.post("/v1/analyses", files=upload, headers={"Origin": "https://evil.example"})
            assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_origin_refused"
            assert http.post("/v1/analyses", files=upload, headers={"Origin": "null"}).status_code == 403
            assert http.get("/v1/analyses", headers={"Origin": "https://evil.example"}).status_code == 200  # a read
            listed = http.get("/v1/analyses").json()
            assert not listed["items"], listed  # nothing was stored by the refused uploads

            own = http.post("/v1/analyses", files=upload, headers={"Origin": base_url})  # the web UI's own page
            assert own.status_code == 201, own.text
            assert http.post("/v1/analyses", files=upload).status_code in (200, 201)  # curl sends no Origin


def test_allowed_hosts_and_cors_origins_extend_the_loopback_rules(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client(
        database_url=f"sqlite:///{tmp_path / 'hosts.db'}",
        allowed_hosts=["testserver", "realeyes.lan"],
        cors_origins=["https://desk.example"],
    )
    assert client.get("/v1/analyses", headers={"Host": "realeyes.lan:8000"}).status_code == 200
    assert client.get("/v1/analyses", headers={"Host": "other.lan"}).status_code == 421
    upload = {"file": ("a.jpg", jpeg_bytes(seed=91), "image/jpeg")}
    assert client.post("/v1/analyses", files=upload, headers={"Origin": "https://desk.example"}).status_code == 201
    assert client.delete("/v1/analyses/x", headers={"Origin": "https://evil.example"}).status_code == 403
    # With keys required, the key is the credential: no Host rule (a reverse proxy names the server).
    keyed = make_client(database_url=f"sqlite:///{tmp_path / 'keyed.db'}", auth="required", allowed_hosts=[])
    assert keyed.get("/v1/analyses", headers={"Host": "api.example.org"}).status_code == 401
