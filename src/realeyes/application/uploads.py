"""Reference-counted uploads: a content-addressed upload is kept while an analysis or an unfinished job holds it,
and deleted when the last holder lets go (issue 11 #9).

Holding and releasing the same bytes never interleave: on PostgreSQL both take a transaction-scoped advisory lock
on the SHA-256; on SQLite the first statement of each is a write, and SQLite admits one writer at a time. A holder
records its reference before it writes the file, and a releaser deletes the file only after it has seen no
reference left, inside the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from realeyes.application.storage import FileStore
from realeyes.store import Database, UploadRef

log = logging.getLogger(__name__)


def analysis_holder(analysis_id: str) -> str:
    return f"analysis:{analysis_id}"


def job_holder(job_id: str) -> str:
    return f"job:{job_id}"


def _lock(session: Session, sha256: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(sha256[:15], 16)})


def hold(session: Session, files: FileStore, data: bytes, sha256: str, holder: str) -> bool:
    """Record that `holder` needs these bytes and make sure they are stored (in the session's transaction).
    True when this call wrote the file: if the transaction then fails, pass it to `undo_write`."""
    _lock(session, sha256)
    if session.get(UploadRef, (sha256, holder)) is None:
        session.add(UploadRef(sha256=sha256, holder=holder))
        session.flush()
    if files.upload_path(sha256).exists():
        return False
    files.put_upload(data)
    return True


def undo_write(database: Database, files: FileStore, sha256: str) -> None:
    """A holder wrote these bytes and its transaction failed: delete them unless another holder has recorded a
    reference since (checked under the same lock as `hold`). When even that check cannot reach the database,
    the file is deleted anyway: it was written a moment ago by a transaction that never committed, and no other
    holder can have committed a reference to it without the database."""
    try:
        with database.session() as session:
            _lock(session, sha256)
            # A write first (it deletes nothing): on SQLite this takes the single writer's lock, as `hold` does.
            session.execute(delete(UploadRef).where(UploadRef.sha256 == sha256, UploadRef.holder == ""))
            left = session.scalar(select(func.count()).select_from(UploadRef).where(UploadRef.sha256 == sha256))
            if not left:
                files.delete_upload(sha256)
    except SQLAlchemyError as exc:
        log.warning(
            "upload %s: database unreachable after a failed store (%s); file removed", sha256[:12], type(exc).__name__
        )
        files.delete_upload(sha256)


def release(session: Session, files: FileStore, holders: Iterable[str]) -> list[str]:
    """Drop the holders' references; delete each upload no one else holds. Returns the deleted SHA-256s."""
    wanted = sorted(set(holders))
    if not wanted:
        return []
    held = sorted(set(session.scalars(select(UploadRef.sha256).where(UploadRef.holder.in_(wanted)))))
    for sha256 in held:  # sorted: two releasers take the locks in the same order
        _lock(session, sha256)
    session.execute(delete(UploadRef).where(UploadRef.holder.in_(wanted)))
    session.flush()
    deleted = []
    for sha256 in held:
        left = session.scalar(select(func.count()).select_from(UploadRef).where(UploadRef.sha256 == sha256))
        if not left:
            files.delete_upload(sha256)
            deleted.append(sha256)
    return deleted
