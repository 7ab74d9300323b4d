"""The provisioned Grafana dashboard: valid JSON, PromQL that parses (promtool), and only metric names that
the service really exports (scraped from a live app) plus the drift gauges."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from deploy.tools import DEPLOY, explain, run, tool
from realeyes.application.settings import ServiceSettings
from realeyes.config import Settings
from realeyes.service.app import create_app

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "realeyes.json"
# Exported by the API from the latest `realeyes drift check` report; absent until one has run.
DRIFT_METRICS = {"realeyes_drift_score", "realeyes_drift_max_score"}
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def expressions() -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard()["panels"] for target in panel["targets"]]


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\brealeyes_[a-z_]+\b", expr))


def unknown_metrics(expr: str, exported: set[str]) -> set[str]:
    return {name for name in metric_names(expr) if name not in exported}


def samples_from_exposition(text: str) -> set[str]:
    """Every sample name the exposition can carry, from its # TYPE lines (a metric with no samples yet counts)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        if kind == "histogram":
            names |= {name + suffix for suffix in HISTOGRAM_SUFFIXES}
        elif kind == "counter":
            names |= {name + "_total", name}
        else:
            names.add(name)
    return names


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    data = tmp_path_factory.mktemp("metrics-app")
    app = create_app(ServiceSettings(data_dir=data, rate_limit_per_minute=0, allowed_hosts=["testserver"]), Settings())
    with TestClient(app) as client:
        client.get("/healthz")
        response = client.get("/metrics")
        assert response.status_code == 200
        yield samples_from_exposition(response.text)


def test_dashboard_is_provisioned_from_the_folder_grafana_reads() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "realeyes.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    uid = datasource["datasources"][0]["uid"]
    for panel in dashboard()["panels"]:
        assert panel["datasource"]["uid"] == uid, panel["title"]
    assert dashboard()["uid"] == "realeyes-overview"


def test_dashboard_covers_what_operators_watch() -> None:
    used = set().union(*(metric_names(expr) for _, expr in expressions()))
    assert {
        "realeyes_http_requests_total",
        "realeyes_http_request_duration_seconds_bucket",
        "realeyes_verdicts_total",
        "realeyes_p_fake_bucket",
        "realeyes_analyzer_duration_seconds_bucket",
        "realeyes_jobs",
        "realeyes_job_duration_seconds_bucket",
        "realeyes_drift_score",
        "realeyes_model_info",
    } <= used
    ids = [panel["id"] for panel in dashboard()["panels"]]
    assert len(ids) == len(set(ids))
    assert any(panel["type"] == "heatmap" for panel in dashboard()["panels"])


def test_every_panel_queries_only_exported_metrics(exported: set[str]) -> None:
    assert "realeyes_http_requests_total" in exported and "realeyes_p_fake_bucket" in exported
    allowed = exported | DRIFT_METRICS
    for title, expr in expressions():
        assert metric_names(expr), title
        assert unknown_metrics(expr, allowed) == set(), title


def test_unknown_metric_check_catches_a_typo(exported: set[str]) -> None:
    assert unknown_metrics("rate(realeyes_http_request_total[5m])", exported) == {"realeyes_http_request_total"}


def test_every_panel_query_parses_as_promql(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule (Grafana's $__rate_interval becomes 5m)."""
    rules = [
        {"record": f"dashboard:panel_{index}", "expr": expr.replace("$__rate_interval", "5m")}
        for index, (_, expr) in enumerate(expressions())
    ]
    path = tmp_path / "panels.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run(tool("promtool"), "check", "rules", str(path))
    assert result.returncode == 0, explain(result)
    broken = tmp_path / "broken.rules.yml"
    broken.write_text(
        yaml.safe_dump({"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "sum(rate(x[5m])"}]}]})
    )
    assert run(tool("promtool"), "check", "rules", str(broken)).returncode != 0
