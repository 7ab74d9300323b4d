"""The README's curl examples work against a real server as written."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from conftest import REPO
from realeyes import samples
from service.live_server import running_server
from service.service_media import jpeg_bytes


def test_readme_curl_examples(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    commands = [line.split("  #")[0].strip() for line in readme.splitlines() if line.startswith("curl ")]
    assert len(commands) == 3
    (tmp_path / "photo.jpg").write_bytes(jpeg_bytes(seed=1))
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(seed=2))
    (tmp_path / "b.png").write_bytes(samples.png_bytes(samples.photo_like(64, 48, seed=3)))
    outputs: list[dict] = []
    with running_server(tmp_path) as base_url:
        for command in commands:
            if "<id>" in command:
                command = command.replace("<id>", outputs[-1]["id"])
            argv = shlex.split(re.sub(r"http://127\.0\.0\.1:8000", base_url, command))
            result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
            outputs.append(json.loads(result.stdout))
    analysis, job, status = outputs
    assert analysis["label"] in ("authentic", "ai-generated", "manipulated", "inconclusive")
    assert job["status"] == "queued" and job["progress"]["total"] == 2
    assert status["id"] == job["id"] and status["progress"]["total"] == 2
