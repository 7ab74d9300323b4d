"""A one-file `realeyes scan` gives the cores a process pool would have used to that file's analyzers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realeyes import samples, scan
from realeyes.config import Settings


@pytest.fixture
def jpegs(photo: np.ndarray, tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_bytes(samples.jpeg_bytes(photo))
    return paths


@pytest.mark.parametrize(("files", "workers", "threads"), [(1, 2, 2), (1, 1, 1), (2, 1, 1)])
def test_one_file_runs_its_analyzers_on_the_workers_cores(
    monkeypatch: pytest.MonkeyPatch, jpegs: list[Path], files: int, workers: int, threads: int
) -> None:
    monkeypatch.setattr(scan, "_engine", None)  # restored afterwards: the in-process path sets these globals
    monkeypatch.setattr(scan, "_options", None)
    options = scan.ScanOptions(settings=Settings(), analyzers=["ela"])
    records = list(scan.scan_files(jpegs[:files], options, workers=workers))
    assert [record["path"] for record in records] == [str(path) for path in jpegs[:files]]
    assert all(record["label"] in {"authentic", "inconclusive", "ai-generated", "manipulated"} for record in records)
    assert scan._engine is not None and scan._engine.settings.analyzer_threads == threads
