"""Schema-driven fuzzing: schemathesis generates requests from the served OpenAPI document and sends them to a
real server process; no request may get a 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.live_server import running_server

EXAMPLES = os.environ.get("REALEYES_FUZZ_EXAMPLES", "25")


def test_fuzzing_the_openapi_finds_no_server_errors(tmp_path: Path) -> None:
    with running_server(tmp_path, {"REALEYES_RATE_LIMIT_PER_MINUTE": "0"}) as base_url:
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [
                str(st), "run", f"{base_url}/openapi.json",
                "--checks", "not_a_server_error",
                "--max-examples", EXAMPLES,
                "--seed", "1",
                "--phases", "examples,coverage,fuzzing",
                "--request-timeout", "30",
                "--suppress-health-check", "all",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )  # fmt: skip
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "Server error" not in result.stdout, summary
