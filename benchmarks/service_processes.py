"""Start real `realeyes serve` and `realeyes worker` processes for the service benchmarks."""

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
def processes(commands: list[list[str]], env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `realeyes <args>` for each command; SIGTERM them all at the end."""
    started = []
    try:
        for index, args in enumerate(commands):
            with (logs / f"{args[0]}-{index}.log").open("wb") as log:
                started.append(
                    subprocess.Popen(  # noqa: S603 - our own CLI with arguments built here
                        [sys.executable, "-m", "realeyes", *args], env={**os.environ, **env}, stdout=log, stderr=log
                    )
                )
        yield started
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)


def wait_ready(base_url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2):  # noqa: S310 - our own server
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
