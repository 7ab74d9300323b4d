"""The README stays true: its library example runs, and `make scan` gives the verdicts it shows."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SHIPPED_MODELS
from realeyes.cli import main


def test_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALEYES_MODELS_DIR", str(SHIPPED_MODELS))
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    code = block.group(1).replace('"photo.jpg"', repr(str(REPO / "samples" / "ai-declared-c2pa.jpg")))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README, by design
    assert output.getvalue().startswith("ai-generated 0.99 Valid C2PA content credentials")


def test_make_scan_shows_what_the_readme_says() -> None:
    result = CliRunner().invoke(
        main, ["scan", str(REPO / "samples"), "--jsonl"], env={"REALEYES_MODELS_DIR": str(SHIPPED_MODELS)}
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert {Path(r["path"]).name: r["label"] for r in records} == {
        "ai-declared-c2pa.jpg": "ai-generated",
        "camera-exif.jpg": "inconclusive",
        "webui-parameters.png": "ai-generated",
    }
