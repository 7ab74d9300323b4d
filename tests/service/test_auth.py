"""API keys, scopes, the auto rule for auth, rate limits and CORS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from realeyes.application.settings import ServiceSettings
from realeyes.service.auth import create_key, revoke_key
from service.service_media import jpeg_bytes


def test_keys_are_required_when_configured(make_client, database_url) -> None:  # type: ignore[no-untyped-def]
    client = make_client(database_url=database_url, auth="required")
    database = client.app.state.realeyes.database
    key = create_key(database, "newsroom", ["analyze"])

    refused = client.get("/v1/analyses")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/analyses", headers={"Authorization": "Bearer re_wrong"}).status_code == 401
    assert client.get("/v1/analyses", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/v1/analyses", headers={"X-API-Key": key}).status_code == 200
    uploaded = client.post(
        "/v1/analyses", files={"file": ("a.jpg", jpeg_bytes(seed=20), "image/jpeg")}, headers={"X-API-Key": key}
    )
    assert uploaded.status_code == 201

    # Liveness, readiness and metrics stay open for the orchestrator and Prometheus.
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200

    assert revoke_key(database, "newsroom")
    assert client.get("/v1/analyses", headers={"X-API-Key": key}).status_code == 401


def test_a_key_without_the_scope_is_forbidden(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(auth="required")
    key = create_key(client.app.state.realeyes.database, "ops", ["admin"])
    response = client.get("/v1/analyses", headers={"X-API-Key": key})
    assert response.status_code == 403 and "analyze" in response.json()["error"]["message"]


def test_auth_is_automatic_beyond_loopback(make_client) -> None:  # type: ignore[no-untyped-def]
    assert make_client(listen_host="0.0.0.0").get("/v1/analyses").status_code == 401  # noqa: S104
    assert make_client(listen_host="127.0.0.1").get("/v1/analyses").status_code == 200
    assert make_client(listen_host="0.0.0.0", auth="off").get("/v1/analyses").status_code == 200  # noqa: S104


def test_rate_limit_answers_429_with_retry_after(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(rate_limit_per_minute=3)
    statuses = [client.get("/v1/analyses").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/v1/analyses")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_rate_limit_is_shared_through_redis(make_client, redis_url) -> None:  # type: ignore[no-untyped-def]
    # Two API replicas share one Redis: together they admit the limit, not twice the limit.
    first = make_client(rate_limit_per_minute=4, queue="redis", redis_url=redis_url)
    second = make_client(rate_limit_per_minute=4, queue="redis", redis_url=redis_url)
    statuses = [client.get("/v1/analyses").status_code for client in (first, second) * 3]
    assert statuses.count(200) == 4 and statuses.count(429) == 2


def test_rate_limit_is_shared_through_the_database_by_server_processes(make_client, database_url) -> None:  # type: ignore[no-untyped-def]
    # `realeyes serve --workers 2` without Redis: both processes count in the shared database.
    first = make_client(rate_limit_per_minute=4, server_processes=2, database_url=database_url)
    second = make_client(rate_limit_per_minute=4, server_processes=2, database_url=database_url)
    statuses = [client.get("/v1/analyses").status_code for client in (first, second) * 3]
    assert statuses.count(200) == 4 and statuses.count(429) == 2


def test_the_rate_limit_store_follows_the_deployment() -> None:
    assert ServiceSettings().resolved_rate_limit_store == "memory"
    assert ServiceSettings(server_processes=3).resolved_rate_limit_store == "database"
    assert ServiceSettings(queue="redis", server_processes=3).resolved_rate_limit_store == "redis"
    assert ServiceSettings(rate_limit_store="memory", server_processes=3).resolved_rate_limit_store == "memory"


def test_cors_allows_only_configured_origins(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(cors_origins=["https://desk.example.org"])
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options("/v1/analyses", headers={"Origin": "https://desk.example.org", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "https://desk.example.org"
    other = client.options("/v1/analyses", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers


def test_keys_cli_prints_the_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    env = {"REALEYES_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    created = subprocess.run(
        [sys.executable, "-m", "realeyes", "keys", "create", "--name", "desk", "--scopes", "analyze,admin"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("re_") and len(key) > 40
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("realeyes.db*"))  # database and its WAL
    assert stored and key.encode() not in stored
    listed = subprocess.run(
        [sys.executable, "-m", "realeyes", "keys", "list"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "desk" in listed and "admin,analyze" in listed and key not in listed
    bad_scope = subprocess.run(
        [sys.executable, "-m", "realeyes", "keys", "create", "--name", "x", "--scopes", "root"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert bad_scope.returncode == 2 and "unknown scope" in bad_scope.stderr
