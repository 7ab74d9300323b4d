"""Prometheus configuration and alert rules: promtool checks them and runs their unit tests."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from deploy.tools import DEPLOY, REPO, explain, run, tool

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "realeyes.rules.yml"
RULES_TESTS = PROMETHEUS / "rules" / "realeyes.rules.test.yml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"


def test_prometheus_config_and_its_rule_files_are_valid() -> None:
    result = run(tool("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, explain(result)
    assert "1 rule files found" in result.stdout


def test_alert_rules_pass_promtool_check() -> None:
    result = run(tool("promtool"), "check", "rules", str(RULES))
    assert result.returncode == 0, explain(result)
    assert "SUCCESS: 6 rules found" in result.stdout


def test_alert_unit_tests_pass() -> None:
    result = run(tool("promtool"), "test", "rules", str(RULES_TESTS))
    assert result.returncode == 0, explain(result)


def test_alert_unit_tests_catch_a_changed_threshold(tmp_path: Path) -> None:
    """The unit tests pin the thresholds: raising the error-rate threshold to 50% must fail them."""
    loosened = RULES.read_text().replace("> 0.05", "> 0.5")
    assert loosened != RULES.read_text()
    (tmp_path / "realeyes.rules.yml").write_text(loosened)
    (tmp_path / "realeyes.rules.test.yml").write_text(RULES_TESTS.read_text())
    result = run(tool("promtool"), "test", "rules", str(tmp_path / "realeyes.rules.test.yml"))
    assert result.returncode != 0, explain(result)
    assert "RealEyesHighErrorRate" in result.stdout + result.stderr


def test_every_alert_has_a_not_firing_case() -> None:
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    silent = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"] == []
    }
    fired = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert alerts == silent == fired


def test_every_alert_has_a_runbook_section_in_operations_doc() -> None:
    operations = (REPO / "docs" / "OPERATIONS.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
               for line in operations.splitlines() if line.startswith("#")}  # fmt: skip
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"]["runbook_url"].partition("#")[2]
            assert anchor in anchors, f"{rule['alert']}: no heading '#{anchor}' in docs/OPERATIONS.md"


def test_kubernetes_prometheusrule_carries_the_same_alerts() -> None:
    result = run(tool("python"), str(REPO / "scripts" / "sync_prometheusrule.py"), "--check")
    assert result.returncode == 0, explain(result)
    resource = yaml.safe_load(PROMETHEUS_RULE.read_text())
    assert resource["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
