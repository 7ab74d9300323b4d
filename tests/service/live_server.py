"""A real `realeyes serve` process on a free port, for tests that need HTTP from outside the process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(tmp_path: Path, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    port = free_port()
    environment = {**os.environ, "REALEYES_DATA_DIR": str(tmp_path / "server-data"), **(env or {})}
    command = [sys.executable, "-m", "realeyes", "serve", "--port", str(port), "--workers", str(workers)]
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/readyz", timeout=2):  # noqa: S310 - our own server
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
