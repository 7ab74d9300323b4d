"""Kubernetes manifests: rendered with kustomize (kubectl), validated offline against the Kubernetes JSON
schemas (kubernetes-validate, strict), scanned by checkov, and checked against what the service needs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dramatiq.brokers.redis import RedisBroker

from deploy.tools import K8S, checkov, explain, run, tool
from realeyes.jobs.redis_queue import QUEUE_NAME

OVERLAYS = ["laptop", "production"]
# Custom resources: kubernetes-validate has no schemas for them (only built-in kinds); the tests below check
# the fields that matter (KEDA list name, ServiceMonitor selectors, PrometheusRule content) instead.
CUSTOM_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
KUBERNETES_VERSION = "1.33"


def render(directory: Path) -> str:
    result = run(tool("kubectl"), "kustomize", str(directory))
    assert result.returncode == 0, explain(result)
    return result.stdout


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One overlay rendered to a file."""
    path = tmp_path_factory.mktemp("rendered") / f"{request.param}.yaml"
    path.write_text(render(K8S / "overlays" / request.param))
    yield path


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(path: Path, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents(path) if doc["kind"] == kind]


def pod_specs(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in documents(path):
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet"}:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield doc["metadata"]["name"], doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def validate(path: Path) -> Any:
    return run(tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(path))


def test_rendered_manifests_match_the_kubernetes_schemas(overlay: Path) -> None:
    result = validate(overlay)
    assert result.returncode == 0, explain(result)
    unvalidated = {
        line.split(" kind ")[1].split()[0] for line in result.stderr.splitlines() if "schema for kind" in line
    }
    assert unvalidated <= CUSTOM_KINDS, explain(result)


def test_schema_validation_rejects_a_broken_manifest(tmp_path: Path, overlay: Path) -> None:
    """The validator is not a rubber stamp: a misspelt field and a string where an integer belongs fail."""
    deployment = by_kind(overlay, "Deployment")[0]
    deployment["spec"]["replica"] = 2
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight thousand"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(deployment))
    result = validate(broken)
    assert result.returncode != 0, explain(result)


def test_checkov_finds_nothing_unjustified(overlay: Path) -> None:
    result = run(checkov(), "-f", str(overlay), "--framework", "kubernetes", "--compact", "--quiet", "--skip-download")
    assert result.returncode == 0, explain(result)
    assert "Failed checks: 0" in result.stdout, explain(result)


def test_checkov_flags_a_privileged_pod(tmp_path: Path) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad", "namespace": "realeyes"},
        "spec": {"containers": [{"name": "bad", "image": "busybox:latest", "securityContext": {"privileged": True}}]},
    }
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod))
    result = run(checkov(), "-f", str(path), "--framework", "kubernetes", "--compact", "--quiet", "--skip-download")
    assert result.returncode != 0
    assert "CKV_K8S_16" in result.stdout  # privileged container


def test_every_pod_meets_the_restricted_profile(overlay: Path) -> None:
    specs = dict(pod_specs(overlay))
    assert specs
    for name, spec in specs.items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        mounts = set()
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert "limits" in container["resources"] and "requests" in container["resources"], name
            mounts |= {mount["mountPath"] for mount in container["volumeMounts"]}
        # A read-only root needs somewhere to write: /tmp and the data directory are volumes.
        assert {"/tmp", "/var/lib/realeyes"} <= mounts, name


def test_api_probes_health_and_readiness_with_a_bounded_memory(overlay: Path) -> None:
    (api,) = [doc for doc in by_kind(overlay, "Deployment") if doc["metadata"]["name"] == "realeyes-api"]
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["limits"]["memory"] == "600Mi"
    assert container["command"] == ["realeyes", "serve", "--host", "0.0.0.0", "--port", "8000"]
    (ingress,) = by_kind(overlay, "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "60m"


def test_no_secret_values_are_committed(overlay: Path) -> None:
    assert by_kind(overlay, "Secret") == []
    for _, spec in pod_specs(overlay):
        for container in spec["containers"]:
            refs = [source["secretRef"]["name"] for source in container["envFrom"] if "secretRef" in source]
            assert refs == ["realeyes-secrets"]
            assert all("value" not in env or "URL" not in env["name"] for env in container.get("env", []))


def test_network_policy_denies_by_default(overlay: Path) -> None:
    policies = {doc["metadata"]["name"]: doc["spec"] for doc in by_kind(overlay, "NetworkPolicy")}
    assert policies["default-deny-all"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ports = {port["port"] for rule in policies["database-and-queue-egress"]["egress"] for port in rule["ports"]}
    assert ports == {5432, 6379}
    assert {port["port"] for rule in policies["api-ingress"]["ingress"] for port in rule["ports"]} == {8000}


def test_production_scales_workers_on_the_dramatiq_queue_list() -> None:
    rendered = render(K8S / "overlays" / "production")
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    (scaled,) = [doc for doc in docs if doc["kind"] == "ScaledObject"]
    trigger = scaled["spec"]["triggers"][0]
    # Dramatiq's Redis broker keeps pending message ids in the list "<namespace>:<queue name>".
    namespace = RedisBroker.__init__.__kwdefaults__["namespace"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == f"{namespace}:{QUEUE_NAME}" == "dramatiq:realeyes-jobs"
    worker = next(doc for doc in docs if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "realeyes-worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]


def test_production_service_monitors_select_services_and_ports() -> None:
    docs = [doc for doc in yaml.safe_load_all(render(K8S / "overlays" / "production")) if doc]
    services = [doc for doc in docs if doc["kind"] == "Service"]
    monitors = [doc for doc in docs if doc["kind"] == "ServiceMonitor"]
    assert len(monitors) == 2
    for monitor in monitors:
        wanted = monitor["spec"]["selector"]["matchLabels"]
        matching = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
        assert len(matching) == 1, monitor["metadata"]["name"]
        port_names = {port["name"] for port in matching[0]["spec"]["ports"]}
        assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= port_names


def test_retrain_component_mounts_models_read_only(tmp_path: Path) -> None:
    """The optional retrain component composes onto production: serving pods read the models PVC read-only."""
    production = os.path.relpath(K8S / "overlays" / "production", tmp_path)
    retrain = os.path.relpath(K8S / "components" / "retrain", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [production],
                "components": [retrain],
            }
        )
    )
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render(tmp_path))
    result = validate(rendered)
    assert result.returncode == 0, explain(result)
    specs = dict(pod_specs(rendered))
    for name in ("realeyes-api", "realeyes-worker", "realeyes-drift-check"):
        mounts = {m["mountPath"]: m for c in specs[name]["containers"] for m in c["volumeMounts"]}
        assert mounts["/app/models"]["readOnly"] is True, name
    command = specs["realeyes-retrain"]["containers"][0]["command"]
    assert command[:4] == ["realeyes", "retrain", "--workdir", "/tmp/retrain"]
    assert_retrain_settings_exist([arg.removeprefix("--set=") for arg in command if arg.startswith("--set=")])
    result = run(checkov(), "-f", str(rendered), "--framework", "kubernetes", "--compact", "--quiet", "--skip-download")
    assert result.returncode == 0, explain(result)


def test_drift_cronjob_runs_the_drift_check(overlay: Path) -> None:
    (cronjob,) = [doc for doc in by_kind(overlay, "CronJob") if doc["metadata"]["name"] == "realeyes-drift-check"]
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["template"]["spec"]["containers"][0]["command"] == ["realeyes", "drift", "check"]
    assert job["backoffLimit"] == 0  # a non-zero exit means drift: not a crash to retry


def assert_retrain_settings_exist(assignments: list[str]) -> None:
    """Each STAGE.KEY=VALUE the CronJob passes names a setting of the classifier pipeline's stage."""
    from realeyes.training.pipeline import create, parse_assignments, settings_fields

    stages = create("classifier").stages
    assert assignments
    for key in parse_assignments(tuple(assignments)):
        stage, _, name = key.partition(".")
        assert name in {f.name for f, _ in settings_fields(stages[stage].settings)}, key
