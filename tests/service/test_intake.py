"""Hardened intake (issue 11): the key and the rate limit are checked before the body is read (#3); a database
or disk failure while storing an analysis leaves no file behind, and a full disk is a 507 (#13)."""

from __future__ import annotations

import errno
import os
import select
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from realeyes.application.settings import ServiceSettings
from realeyes.service.auth import create_key
from realeyes.service.deps import GatedRoute, caller_scope
from realeyes.store import Database
from service.conftest import ClientFactory
from service.live_server import running_server
from service.service_media import jpeg_bytes

# ------------------------------------------------------------------ finding 3: the caller before the body

DECLARED = 16 * 1024 * 1024  # what each refused request says its body is; the client stops once it is answered
CHUNK = 64 * 1024


def _upload_head(path: str, field: str, headers: dict[str, str]) -> tuple[bytes, bytes]:
    """The request head of a multipart upload declaring DECLARED body bytes, and the body's first bytes."""
    boundary = "realeyesboundary"
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {DECLARED}"]
    lines += [f"Content-Type: multipart/form-data; boundary={boundary}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head, part


def _send_until_answered(base_url: str, path: str, field: str, headers: dict[str, str]) -> tuple[bytes, int]:
    """Stream an upload of DECLARED bytes in chunks, looking for the server's answer before each chunk. Returns
    the answer's first bytes and how many body bytes had been sent when it came (DECLARED: only at the end)."""
    host, port = base_url.removeprefix("http://").split(":")
    head, part = _upload_head(path, field, headers)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + part)
        sent = len(part)
        filler = b"\xff" * CHUNK
        while sent < DECLARED:
            readable, _, _ = select.select([sock], [], [], 0.01)
            if readable:
                break
            chunk = filler[: DECLARED - sent]
            try:
                sock.sendall(chunk)
            except (TimeoutError, OSError):  # the server stopped reading (it answered, or closed): read its answer
                break
            sent += len(chunk)
        answer = b""
        deadline = time.monotonic() + 30
        while not _complete(answer) and time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            answer += data
        return answer, sent


def _complete(answer: bytes) -> bool:
    """Whether `answer` holds a whole response: its head and Content-Length bytes of body."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next(
        (line.split(b":", 1)[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), b"0"
    )
    return len(body) >= int(length)


def _wait_for_a_fresh_minute() -> None:
    """The rate limit counts in fixed one-minute windows: keep the requests of one test inside one window."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_a_live_server_refuses_an_upload_without_a_key_before_reading_its_body(tmp_path: Path) -> None:
    data_dir = tmp_path / "server-data"
    database = Database(ServiceSettings(data_dir=data_dir).resolved_database_url)
    database.upgrade()
    key = create_key(database, "desk", ["analyze"])
    admin_only = create_key(database, "ops", ["admin"])
    database.dispose()
    env = {"REALEYES_AUTH": "required", "REALEYES_RATE_LIMIT_PER_MINUTE": "4", "REALEYES_ANALYZERS": '["metadata"]'}
    _wait_for_a_fresh_minute()
    with running_server(tmp_path, env) as base_url:
        refusals = [
            ("/v1/analyses", "file", {}, b"401"),
            ("/v1/jobs", "files", {}, b"401"),
            ("/predict", "file", {}, b"401"),
            ("/v1/analyses", "file", {"Authorization": "Bearer re_not_a_key"}, b"401"),
            ("/v1/jobs", "files", {"X-API-Key": admin_only}, b"403"),
        ]
        for path, field, headers, status in refusals:
            started = time.monotonic()
            answer, sent = _send_until_answered(base_url, path, field, headers)
            assert answer.startswith(b"HTTP/1.1 " + status), (path, headers, answer[:200])
            # Answered while the client was still streaming: the server did not wait for (or spool) the body.
            assert sent < DECLARED // 4, (path, sent)
            assert time.monotonic() - started < 10
            if status == b"401":
                assert b"www-authenticate: bearer" in answer.lower()

        import httpx

        with httpx.Client(base_url=base_url, timeout=30, headers={"X-API-Key": key}) as http:
            # A valid key is admitted once per request (the rate limit counts it once) and its upload is stored.
            assert http.get("/v1/analyses").status_code == 200
            upload = http.post("/v1/analyses", files={"file": ("a.jpg", jpeg_bytes(seed=95), "image/jpeg")})
            assert upload.status_code == 201, upload.text
            listed = http.get("/v1/analyses").json()
            assert [item["id"] for item in listed["items"]] == [upload.json()["id"]]
            assert http.get("/v1/analyses").status_code == 200  # the 4th request of the minute
            limited = http.get("/v1/analyses")
            assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        # Over the limit: a large upload gets its 429 before its body is read.
        answer, sent = _send_until_answered(base_url, "/v1/jobs", "files", {"X-API-Key": key})
        assert answer.startswith(b"HTTP/1.1 429"), answer[:200]
        assert b"retry-after:" in answer.lower() and b'"rate_limited"' in answer
        assert sent < DECLARED // 4, sent


def test_refusals_before_the_body_keep_their_error_bodies(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client(database_url=f"sqlite:///{tmp_path / 'gate.db'}", auth="required")
    upload = {"file": ("a.jpg", jpeg_bytes(seed=96), "image/jpeg")}
    missing = client.post("/v1/analyses", files=upload)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    error = missing.json()["error"]
    assert error["code"] == "unauthorized" and error["message"].startswith("an API key is required")
    assert error["request_id"] == missing.headers["x-request-id"]
    unknown = client.post("/predict", files=upload, headers={"X-API-Key": "re_unknown"})
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "unknown or revoked API key"
    admin = create_key(client.app.state.realeyes.database, "ops", ["admin"])
    forbidden = client.post("/v1/jobs", files={"files": upload["file"]}, headers={"X-API-Key": admin})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    # A route without a caller, an unknown path and a wrong method answer as before.
    assert client.get("/healthz").status_code == 200
    assert client.post("/v1/nothing", files=upload).status_code == 404
    assert client.put("/v1/analyses", headers={"X-API-Key": admin}).status_code == 405
    metrics = client.get("/metrics").text
    assert 'route="/v1/analyses",status="401"' in metrics  # refusals are still counted under their route


def test_every_route_that_needs_a_caller_is_gated_before_its_body() -> None:
    from realeyes.service.routes import analyses, compat, feedback, jobs, system

    gated = []
    for module in (analyses, compat, feedback, jobs, system):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            if caller_scope(route.dependant) is not None:
                assert isinstance(route, GatedRoute), route.path
                gated.append((sorted(route.methods)[0], route.path))
    assert {("POST", "/v1/analyses"), ("POST", "/v1/jobs"), ("POST", "/predict")} <= set(gated)


# ------------------------------------------------------------------ finding 13: no orphaned files, 507


def _stored_files(client: TestClient) -> list[Path]:
    root: Path = client.app.state.realeyes.files.root
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def failing_database(client: TestClient) -> Iterator[Callable[[str], None]]:
    """fail(point): the database fails while an analysis is stored, at `point`: the INSERT of its upload
    reference ("insert"; "full": SQLite's disk is full), or the COMMIT of the transaction that inserted it
    ("commit"; the upload is written)."""
    engine = client.app.state.realeyes.database.engine
    where: dict[str, str] = {}

    def before_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.lstrip().upper()
        if text.startswith("INSERT INTO ANALYSES"):
            connection.info["stored_analysis"] = True
        if where.get("point") == "insert" and text.startswith("INSERT INTO UPLOAD_REFS"):
            raise OperationalError(statement, None, Exception("server closed the connection unexpectedly"))
        if where.get("point") == "full" and text.startswith("INSERT INTO UPLOAD_REFS"):
            full = sqlite3.OperationalError("database or disk is full")
            full.sqlite_errorcode = 13  # SQLITE_FULL
            raise OperationalError(statement, None, full)

    def before_commit(connection: Any) -> None:
        if connection.info.pop("stored_analysis", False) and where.get("point") == "commit":
            raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", before_commit)

    def fail(point: str) -> None:
        where["point"] = point

    yield fail
    event.remove(engine, "before_cursor_execute", before_execute)
    event.remove(engine, "commit", before_commit)


@pytest.mark.parametrize(
    ("point", "status", "code"),
    [
        ("insert", 503, "database_unavailable"),
        ("commit", 503, "database_unavailable"),
        ("full", 507, "insufficient_storage"),
    ],
)
def test_a_database_failure_while_storing_leaves_no_file_behind(
    client: TestClient, failing_database: Callable[[str], None], point: str, status: int, code: str
) -> None:
    failing_database(point)
    data = jpeg_bytes(seed=97)
    response = client.post("/v1/analyses", files={"file": ("a.jpg", data, "image/jpeg")})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert _stored_files(client) == []  # no maps, no thumbnail, no upload
    failing_database("")
    assert client.get("/v1/analyses").json()["total"] == 0
    again = client.post("/v1/analyses", files={"file": ("a.jpg", data, "image/jpeg")})
    assert again.status_code == 201, again.text
    assert len(_stored_files(client)) == 5  # 3 maps, the thumbnail and the upload


def _disk_full_at(monkeypatch: pytest.MonkeyPatch, root: Path, folder: str, nth: int = 1) -> None:
    """Writes of the file store fail with ENOSPC from the `nth` file written under `root/folder` on."""
    real_replace = os.replace
    seen = {"count": 0}

    def replace(source: Any, target: Any, **kwargs: Any) -> None:
        if Path(target).is_relative_to(root / folder):
            seen["count"] += 1
            if seen["count"] >= nth:
                raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize(("folder", "nth"), [("maps", 2), ("thumbnails", 1), ("uploads", 1)])
def test_a_full_disk_is_a_507_and_leaves_no_file_behind(
    make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str, nth: int
) -> None:
    client = make_client(database_url=f"sqlite:///{tmp_path / 'full.db'}")
    root: Path = client.app.state.realeyes.files.root
    _disk_full_at(monkeypatch, root, folder, nth)
    data = jpeg_bytes(seed=98)
    for path in ("/v1/analyses", "/predict"):
        response = client.post(path, files={"file": ("a.jpg", data, "image/jpeg")})
        assert response.status_code == 507, (path, response.text)
        error = response.json()["error"]
        assert (
            error["code"] == "insufficient_storage" and error["message"] == "the server's storage is full; retry later"
        )
        assert str(root) not in response.text and "Traceback" not in response.text
        assert _stored_files(client) == [], path
    if folder == "uploads":  # a batch job's intake stores its files at once
        refused = client.post("/v1/jobs", files=[("files", ("a.jpg", data, "image/jpeg"))])
        assert refused.status_code == 507 and refused.json()["error"]["code"] == "insufficient_storage"
        assert _stored_files(client) == []
    assert client.get("/v1/analyses").json()["total"] == 0
    monkeypatch.undo()  # space again: the same upload is stored
    assert client.post("/v1/analyses", files={"file": ("a.jpg", data, "image/jpeg")}).status_code == 201
