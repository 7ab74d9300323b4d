"""Hardened edges of the service (issue 11): bounded metric labels, per-file decoder failures, safe downloads,
security headers and model cards without build-host details."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.conftest import ClientFactory


@pytest.fixture
def sqlite_client(make_client: ClientFactory, tmp_path: Path) -> TestClient:
    return make_client(database_url=f"sqlite:///{tmp_path / 'hardening.db'}")


def _label_values(metrics_text: str, metric: str, label: str) -> set[str]:
    pattern = re.compile(rf'^{metric}\{{[^}}]*\b{label}="([^"]*)"', re.MULTILINE)
    return set(pattern.findall(metrics_text))


# ------------------------------------------------------------------ finding 4: bounded metric labels


def test_made_up_methods_and_paths_do_not_grow_the_metric_labels(sqlite_client: TestClient) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    for index in range(20):
        sqlite_client.request(f"X{tag}{index}", "/healthz")
        sqlite_client.request(f"Y{tag}{index}", f"/no/such/{tag}/{index}")
        sqlite_client.get(f"/v1/analyses/{tag}{index}")  # a real route with a path parameter
        sqlite_client.get(f"/static/{tag}{index}.js")  # a mounted app
    body = sqlite_client.get("/metrics").text
    methods = _label_values(body, "realeyes_http_requests_total", "method")
    routes = _label_values(body, "realeyes_http_requests_total", "route")
    assert methods and methods <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "TRACE",
        "CONNECT",
        "other",
    }
    assert "other" in methods
    assert not any(tag in route for route in routes), routes  # templates, never the raw path
    assert "/v1/analyses/{analysis_id}" in routes
    latency_methods = _label_values(body, "realeyes_http_request_duration_seconds_count", "method")
    assert not any(tag in method for method in latency_methods)
