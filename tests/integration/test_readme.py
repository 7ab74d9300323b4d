"""The README's library example runs as written (on a shipped sample instead of photo.jpg)."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import REPO


def test_readme_library_example_runs() -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    code = block.group(1).replace('"photo.jpg"', repr(str(REPO / "samples" / "ai-declared-c2pa.jpg")))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README, by design
    assert output.getvalue().startswith("ai-generated 0.99 Valid C2PA content credentials")


def test_make_run_shows_what_the_readme_says() -> None:
    import json

    from click.testing import CliRunner

    from realeyes.cli import main

    result = CliRunner().invoke(main, ["scan", str(REPO / "samples"), "--jsonl"])
    labels = {
        json.loads(line)["path"].rsplit("/", 1)[-1]: json.loads(line)["label"] for line in result.stdout.splitlines()
    }
    assert result.exit_code == 0
    assert labels == {
        "ai-declared-c2pa.jpg": "ai-generated",
        "camera-exif.jpg": "inconclusive",
        "webui-parameters.png": "ai-generated",
    }
