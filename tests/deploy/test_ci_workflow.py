"""The GitHub Actions workflow: valid against the workflow schema, and mirroring .ci/run."""

from __future__ import annotations

import yaml

from deploy.tools import REPO, explain, run, tool

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def test_workflow_matches_the_github_workflow_schema() -> None:
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW))
    assert result.returncode == 0, explain(result)


def test_workflow_runs_what_ci_runs_and_builds_and_scans_the_image() -> None:
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "scripts/install_ops_tools.sh" in ci_run and "make test" in ci_run
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    commands = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert "make test" in commands and "scripts/install_ops_tools.sh" in commands
    assert set(jobs["test"]["services"]) == {"postgres", "redis"}
    assert jobs["test"]["env"]["REALEYES_REQUIRE_SERVICES"] == "1"
    uses = [step.get("uses", "") for step in jobs["image"]["steps"]]
    assert any(action.startswith("docker/build-push-action") for action in uses)
    assert any(action.startswith("aquasecurity/trivy-action") for action in uses)
