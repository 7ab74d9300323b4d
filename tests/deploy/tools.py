"""Finding the operations tools the deploy tests run, and running them.

A missing tool skips its test on a developer's machine; under REALEYES_REQUIRE_SERVICES=1 (.ci/run, which
installs them all through scripts/install_ops_tools.sh) it fails the test instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OPS_TOOLS = Path(os.environ.get("REALEYES_OPS_TOOLS", REPO / "build" / "ops-tools"))
REQUIRE = os.environ.get("REALEYES_REQUIRE_SERVICES") == "1"
TIMEOUT_SECONDS = 300


def _missing(what: str) -> None:
    message = f"{what} is not installed (scripts/install_ops_tools.sh installs it)"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str, *candidates: Path) -> str:
    """The path of an executable: the given candidates, this virtual environment's bin, then PATH."""
    for candidate in (*candidates, Path(sys.executable).parent / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        _missing(name)
    assert found is not None
    return found


def checkov() -> str:
    """checkov lives in its own virtual environment: its pins (packaging, networkx, boto3) clash with ours."""
    return tool("checkov", OPS_TOOLS / "checkov" / "bin" / "checkov")


def airflow_python() -> str:
    """Airflow lives in its own virtual environment: it pins an older FastAPI than the service uses."""
    python = OPS_TOOLS / "airflow" / "bin" / "python"
    if not python.is_file():
        _missing(f"Airflow (a virtual environment at {python.parent.parent})")
    return str(python)


def run(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool offline-safe and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, **(env or {})},
        check=False,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout[-6000:]}\nstderr:\n{result.stderr[-6000:]}"
