"""Security scans of the source tree: bandit (Python) and detect-secrets (every tracked kind of file)."""

from __future__ import annotations

import json
from pathlib import Path

from deploy.tools import DEPLOY, REPO, explain, run, tool

BANDIT_BASELINE = DEPLOY / "security" / "bandit-baseline.json"
# B404/B603/B607 (subprocess): ruff's S603/S607 already demand a reviewed `noqa` on every such call.
BANDIT_SKIPS = "B404,B603,B607"
# What detect-secrets reads: everything the repository ships except binary samples and virtual environments.
SCANNED = [
    ".ci", ".github", "Dockerfile", "compose.yaml", "Makefile", "pyproject.toml", "README.md", "params.yaml",
    "dvc.yaml", "src", "tests", "scripts", "deploy", "docs", "benchmarks", "models",
]  # fmt: skip
# Model cards and registries record the SHA-256 of their files: checksums, not secrets.
CHECKSUM_LINES = r'^\s*"sha256": "[0-9a-f]{64}",?$'


def bandit(*paths: str) -> object:
    return run(tool("bandit"), "-r", *paths, "-q", "-s", BANDIT_SKIPS, "-b", str(BANDIT_BASELINE))


def test_bandit_finds_nothing_new_in_src() -> None:
    result = bandit("src")
    assert result.returncode == 0, explain(result)  # type: ignore[attr-defined]


def test_bandit_baseline_lists_only_reviewed_findings() -> None:
    baseline = json.loads(BANDIT_BASELINE.read_text())
    assert {(item["test_id"], item["filename"]) for item in baseline["results"]} <= {
        ("B614", "src/realeyes/training/export.py"),
        ("B614", "src/realeyes/training/localizer/export.py"),
    }


def test_bandit_flags_shell_injection(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text('import subprocess\nsubprocess.call("ls " + input(), shell=True)\n')
    result = run(tool("bandit"), "-r", str(tmp_path), "-q", "-s", BANDIT_SKIPS, "-b", str(BANDIT_BASELINE))
    assert result.returncode != 0
    assert "B602" in result.stdout


def detect_secrets(*paths: str, cwd: Path = REPO) -> dict[str, list[dict[str, object]]]:
    result = run(tool("detect-secrets"), "scan", "--all-files", "--exclude-lines", CHECKSUM_LINES, *paths, cwd=cwd)
    assert result.returncode == 0, explain(result)
    findings: dict[str, list[dict[str, object]]] = json.loads(result.stdout)["results"]
    return findings


def test_detect_secrets_finds_no_secret_in_the_repository() -> None:
    present = [path for path in SCANNED if (REPO / path).exists()]
    assert detect_secrets(*present) == {}


def test_secrets_baseline_is_empty() -> None:
    """.secrets.baseline (for pre-commit users) records no accepted secret: there is none to accept."""
    baseline = json.loads((REPO / ".secrets.baseline").read_text())
    assert baseline["results"] == {}


def test_detect_secrets_flags_a_planted_key(tmp_path: Path) -> None:
    # AWS's documented example key and a PEM header: fake, allow-listed here, flagged in the planted files.
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"  # pragma: allowlist secret
    pem = "-----BEGIN RSA PRIVATE KEY-----"  # pragma: allowlist secret
    (tmp_path / "settings.py").write_text(f'AWS_SECRET_ACCESS_KEY = "{key}"\n')
    (tmp_path / "key.pem").write_text(f"{pem}\nMIIB\n-----END RSA PRIVATE KEY-----\n")
    findings = detect_secrets("settings.py", "key.pem", cwd=tmp_path)
    assert set(findings) == {"settings.py", "key.pem"}
