"""Migrations, retention and logs: the parts of persistence the API tests do not show."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from realeyes.application.logs import JsonFormatter, reset_request_id, set_request_id
from realeyes.application.storage import FileStore
from realeyes.cli import main
from realeyes.store import Base, Database
from service.service_media import jpeg_bytes


def test_migrations_create_every_table_and_can_run_again(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    database.upgrade()  # idempotent: a restart must not fail
    tables = set(inspect(database.engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    with database.engine.connect() as connection:  # the migrations build exactly what the models declare
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    database.dispose()


def test_db_upgrade_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"REALEYES_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0 and "up to date" in result.output
    assert (tmp_path / "realeyes.db").exists()


def test_retention_removes_old_uploads_but_keeps_results(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(retention_days=7)
    analysis = client.post("/v1/analyses", files={"file": ("r.jpg", jpeg_bytes(seed=50), "image/jpeg")}).json()
    files: FileStore = client.app.state.realeyes.files
    upload = files.upload_path(analysis["sha256"])
    eight_days_ago = time.time() - 8 * 86400
    os.utime(upload, (eight_days_ago, eight_days_ago))
    assert files.purge_uploads(7) == 1 and not upload.exists()
    gone = client.get(analysis["image_url"])
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "upload_expired"
    assert client.get(f"/v1/analyses/{analysis['id']}").json()["label"] == analysis["label"]
    assert client.get(analysis["thumbnail_url"]).status_code == 200


def test_log_lines_are_json_with_the_request_id() -> None:
    record = logging.LogRecord("realeyes.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"status": 201}
    token = set_request_id("abc123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["request_id"] == "abc123" and line["status"] == 201 and line["level"] == "info"


@pytest.mark.parametrize("header", ["bad id with spaces", "x" * 100])
def test_unsafe_request_ids_are_replaced(make_client, header: str) -> None:  # type: ignore[no-untyped-def]
    response = make_client().get("/v1/analyses/none", headers={"X-Request-ID": header})
    assert response.headers["x-request-id"] != header and len(response.headers["x-request-id"]) == 32
