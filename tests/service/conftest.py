"""Service tests run the real app in-process on SQLite and on the machine's PostgreSQL, and real Redis.

When REALEYES_REQUIRE_SERVICES=1 (set by .ci/run, which starts them), an unreachable PostgreSQL or Redis fails
the tests instead of skipping them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from realeyes.application.settings import ServiceSettings
from realeyes.config import Settings
from realeyes.service.app import create_app

POSTGRES_URL = os.environ.get("REALEYES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REALEYES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("REALEYES_REQUIRE_SERVICES") == "1"
# The test's started clients: they are stopped before its database goes, whatever order the fixtures were set up in.
_CLIENTS = pytest.StashKey[list[TestClient]]()


def close_clients(request: pytest.FixtureRequest) -> None:
    """Stop the test's apps (their job threads and analysis workers included), newest first."""
    clients = request.node.stash.get(_CLIENTS, [])
    while clients:
        clients.pop().__exit__(None, None, None)


def unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {exc}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    # An app still running (its job thread, its recovery) would use the schema while it is dropped.
    close_clients(request)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'realeyes.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ClientFactory]:
    """make_client(**service_settings) -> a started TestClient; the engine runs without models (fast)."""
    clients = request.node.stash.setdefault(_CLIENTS, [])

    def factory(engine_settings: Settings | None = None, **overrides: Any) -> TestClient:
        # TestClient sends Host: testserver, which loopback mode answers only when configured to.
        options: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "rate_limit_per_minute": 0,
            "allowed_hosts": ["testserver"],
            **overrides,
        }
        app = create_app(ServiceSettings(**options), engine_settings or Settings())
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    close_clients(request)


@pytest.fixture
def client(make_client: ClientFactory, database_url: str) -> TestClient:
    return make_client(database_url=database_url)
