"""Scan many files: expand paths, analyse in a process pool (one Engine per process), write maps."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.errors import RealEyesError
from realeyes.media import sniff_format
from realeyes.pictures import render
from realeyes.report import error_record, terminal_safe, verdict_record
from realeyes.verdict import Verdict

log = logging.getLogger(__name__)

# In directories, a file is scanned if its content is recognised or its name looks like media, so that a
# damaged photo is reported while README or LICENSE files beside it are skipped.
MEDIA_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif", ".jxl",
    ".svg", ".pdf", ".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi",
}  # fmt: skip


@dataclass(frozen=True)
class Expansion:
    files: list[Path]
    skipped: list[Path]
    missing: list[str]


def expand_paths(arguments: Iterable[str]) -> Expansion:
    """Files as given, directories recursively (sorted, hidden entries skipped), and glob patterns."""
    files: list[Path] = []
    skipped: list[Path] = []
    missing: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            for candidate in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
                (files if _looks_like_media(candidate) else skipped).append(candidate)
        elif path.exists():
            files.append(path)
        elif matches := sorted(glob.glob(argument, recursive=True)):
            files.extend(Path(m) for m in matches if Path(m).is_file())
        else:
            missing.append(argument)
    return Expansion(files=list(dict.fromkeys(files)), skipped=skipped, missing=missing)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _looks_like_media(path: Path) -> bool:
    if path.suffix.lower() in MEDIA_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            return sniff_format(handle.read(512)) is not None
    except OSError:
        return True  # unreadable: let the scan report why


@dataclass(frozen=True)
class ScanOptions:
    settings: Settings
    analyzers: list[str] | None = None
    maps_dir: Path | None = None


def scan_files(files: list[Path], options: ScanOptions, workers: int) -> Iterator[dict[str, Any]]:
    """Yield one record per file, in input order; never raises for a bad file."""
    map_stems = _unique_stems(files)
    jobs = [(str(path), map_stems[path]) for path in files]
    if workers <= 1 or len(files) <= 1:
        if len(files) == 1 and workers > options.settings.analyzer_threads:
            # One file: the cores a pool would have used run its analyzers side by side instead.
            options = replace(options, settings=options.settings.model_copy(update={"analyzer_threads": workers}))
        _init_worker(options)
        yield from map(_scan_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(options,)) as pool:
        yield from pool.map(_scan_one, jobs, chunksize=1)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _unique_stems(files: list[Path]) -> dict[Path, str]:
    """Map file names for --save-maps: the file stem, with -2, -3... when two inputs share a stem."""
    seen: dict[str, int] = {}
    stems = {}
    for path in files:
        count = seen.get(path.stem, 0) + 1
        seen[path.stem] = count
        stems[path] = path.stem if count == 1 else f"{path.stem}-{count}"
    return stems


_engine: Engine | None = None
_options: ScanOptions | None = None


def _init_worker(options: ScanOptions) -> None:
    """Build the engine once per process; analyzers load their resources here, not per file."""
    global _engine, _options
    _options = options
    _engine = Engine(options.settings, analyzers=options.analyzers)


def _scan_one(job: tuple[str, str]) -> dict[str, Any]:
    path, stem = job
    if _engine is None or _options is None:
        raise RuntimeError("_init_worker must run before _scan_one")
    try:
        verdict = _engine.analyze(path)
        directory, max_side = _options.maps_dir, _options.settings.map_max_side
        maps, frames = _save_pictures(verdict, directory, max_side, stem) if directory else ({}, {})
        return verdict_record(path, verdict, maps, frames)
    except RealEyesError as exc:
        return error_record(path, exc.code, str(exc), _engine.thresholds.ai_generated)
    except Exception as exc:  # a bug or resource failure must not stop a batch: report it for this file
        # The file name is whatever the folder holds: no ANSI or control characters reach the operator's terminal.
        log.error("unexpected failure on %s: %s", terminal_safe(path), terminal_safe(repr(exc)))
        log.debug("traceback for %s", terminal_safe(path), exc_info=True)
        return error_record(path, "internal_error", f"{type(exc).__name__}: {exc}", _engine.thresholds.ai_generated)


def _save_pictures(
    verdict: Verdict, directory: Path, max_side: int, stem: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Write every map as DIR/<stem>.<map>.png and a video's key frames as DIR/<stem>.<frame>.jpg, as the API
    stores them (realeyes.pictures); return the paths written, by map and by frame name."""
    directory.mkdir(parents=True, exist_ok=True)
    pictures = render(verdict, max_side)
    maps = {name: _write(directory / f"{stem}.{name}.png", png) for name, png in pictures.maps.items()}
    frames = {name: _write(directory / f"{stem}.{name}.jpg", jpeg) for name, jpeg in pictures.frames.items()}
    return maps, frames


def _write(target: Path, data: bytes) -> str:
    target.write_bytes(data)
    return str(target)
