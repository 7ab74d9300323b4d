"""Files on disk: uploads content-addressed by SHA-256, and each analysis's maps, key frames and thumbnail."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from realeyes.errors import InsufficientStorage

STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("uploads", "maps", "frames", "thumbnails"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def upload_path(self, sha256: str) -> Path:
        return self.root / "uploads" / sha256[:2] / sha256

    def put_upload(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.upload_path(sha256)
        if not path.exists():
            _atomic_write(path, data)
        return sha256

    def read_upload(self, sha256: str) -> bytes | None:
        path = self.upload_path(sha256)
        return path.read_bytes() if path.exists() else None

    def delete_upload(self, sha256: str) -> None:
        self.upload_path(sha256).unlink(missing_ok=True)

    def map_path(self, analysis_id: str, name: str) -> Path:
        return self.root / "maps" / analysis_id / f"{name}.png"

    def put_map(self, analysis_id: str, name: str, png: bytes) -> None:
        _atomic_write(self.map_path(analysis_id, name), png)

    def frame_path(self, analysis_id: str, name: str) -> Path:
        return self.root / "frames" / analysis_id / f"{name}.jpg"

    def put_frame(self, analysis_id: str, name: str, jpeg: bytes) -> None:
        _atomic_write(self.frame_path(analysis_id, name), jpeg)

    def thumbnail_path(self, analysis_id: str) -> Path:
        return self.root / "thumbnails" / f"{analysis_id}.jpg"

    def put_thumbnail(self, analysis_id: str, jpeg: bytes) -> None:
        _atomic_write(self.thumbnail_path(analysis_id), jpeg)

    def copy_analysis_files(self, source_id: str, target_id: str, maps: list[str], frames: list[str]) -> bool:
        """Give `target_id` copies of `source_id`'s maps, key frames and thumbnail (another owner's record of the
        same bytes). False, with nothing left behind, when one of the maps or frames is gone."""
        try:
            for name in maps:
                _atomic_write(self.map_path(target_id, name), self.map_path(source_id, name).read_bytes())
            for name in frames:
                _atomic_write(self.frame_path(target_id, name), self.frame_path(source_id, name).read_bytes())
            thumbnail = self.thumbnail_path(source_id)
            if thumbnail.exists():
                _atomic_write(self.thumbnail_path(target_id), thumbnail.read_bytes())
        except FileNotFoundError:
            self.delete_analysis_files(target_id)
            return False
        except BaseException:  # a full disk, say: no partial copy is left behind
            self.delete_analysis_files(target_id)
            raise
        return True

    def delete_analysis_files(self, analysis_id: str) -> None:
        shutil.rmtree(self.root / "maps" / analysis_id, ignore_errors=True)
        shutil.rmtree(self.root / "frames" / analysis_id, ignore_errors=True)
        self.thumbnail_path(analysis_id).unlink(missing_ok=True)

    def purge_uploads(self, older_than_days: int) -> int:
        """Retention: delete uploads not written for `older_than_days`; results and maps stay."""
        cutoff = time.time() - older_than_days * 86400
        removed = 0
        for path in (self.root / "uploads").glob("*/*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _atomic_write(path: Path, data: bytes) -> None:
    """A reader (or a crash) never sees half a file: write aside, then rename. A full disk (or quota) is
    InsufficientStorage (the service's 507), with nothing left behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        if exc.errno in STORAGE_FULL_ERRNOS:
            raise InsufficientStorage("the server's storage is full; retry later") from exc
        raise
