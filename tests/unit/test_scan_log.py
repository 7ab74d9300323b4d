"""`realeyes scan` logs an unexpected per-file failure without the file name's control characters (issue 11,
finding 11: the log line on stderr, besides the table)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from realeyes import scan
from realeyes.config import Settings

ESC = "\x1b"


class _Exploding:
    class thresholds:  # mimics the engine's attribute
        ai_generated = 0.6

    def analyze(self, path: str) -> None:
        raise RuntimeError(f"cannot read {path}")


def test_an_unexpected_failure_is_logged_without_control_characters(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    name = str(tmp_path / f"{ESC}[2J{ESC}]0;owned{chr(7)}bad\rname.png")
    monkeypatch.setattr(scan, "_engine", _Exploding())
    monkeypatch.setattr(scan, "_options", scan.ScanOptions(settings=Settings()))
    with caplog.at_level(logging.DEBUG, logger="realeyes.scan"):
        record = scan._scan_one((name, "stem"))
    assert record["error"]["code"] == "internal_error"
    lines = [entry.getMessage() for entry in caplog.records]
    assert any("unexpected failure on" in line for line in lines), lines
    for line in lines:
        assert ESC not in line and chr(7) not in line and "\r" not in line, repr(line)
    assert any("bad name.png" in line or "bad?name.png" in line for line in lines), lines
