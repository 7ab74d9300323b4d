"""/v1/jobs: long work (a video, a batch of images or a zip) accepted with 202 and followed by polling."""

from __future__ import annotations

import hashlib
import struct
import zipfile
from datetime import UTC, datetime
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, File, Response, UploadFile
from sqlalchemy.orm import Session

from realeyes.application import uploads
from realeyes.media import sniff_format
from realeyes.service.auth import Principal
from realeyes.service.deps import GatedRoute, analyze_caller, get_state
from realeyes.service.errors import ApiError
from realeyes.service.routes.analyses import clean_filename
from realeyes.service.schemas import JobOut
from realeyes.service.state import ServiceState
from realeyes.service.views import job_view
from realeyes.store import Job, JobStatus
from realeyes.store.models import new_id, owner_of

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=GatedRoute)
# A zip may list more entries than files it holds (folders, macOS's __MACOSX/._ twins), so its directory may
# declare up to twice the file limit; each entry may take this many bytes of the central directory on average.
ZIP_ENTRIES_PER_FILE = 2
ZIP_DIRECTORY_BYTES_PER_ENTRY = 1024

State = Annotated[ServiceState, Depends(get_state)]
Caller = Annotated[Principal, Depends(analyze_caller)]


class BatchIntake:
    """Stores a batch's files one at a time as they are read (a zip member by member), so memory holds at most
    one file whatever the batch size; count and size limits are checked while reading, so a zip bomb is
    refused rather than inflated. Each stored file is held for the job (upload_refs); when a limit trips, the
    files already stored are let go again."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.job_id = new_id()  # the job's stored files are held under its id from the first one on
        self.budget = state.settings.max_job_bytes
        self.max_file = state.engine.settings.max_bytes
        self.items: list[dict[str, str]] = []
        self.all_videos = True

    def add_upload(self, upload: UploadFile) -> None:
        if zipfile.is_zipfile(upload.file):  # reads the central directory only
            upload.file.seek(0)
            self._add_zip(upload.file)
        else:
            upload.file.seek(0)
            self._add(clean_filename(upload.filename), upload.file)

    def _add(self, name: str, stream: IO[bytes]) -> None:
        self._store(name, self._read(name, stream))

    def _read(self, name: str, stream: IO[bytes]) -> bytes:
        if len(self.items) >= self.state.settings.max_job_files:
            raise ApiError(413, "payload_too_large", f"a batch holds at most {self.state.settings.max_job_files} files")
        data = stream.read(min(self.budget, self.max_file) + 1)  # capped: a zip member's declared size may lie
        if len(data) > self.max_file:
            raise ApiError(
                413, "payload_too_large", f"{name} is larger than {self.max_file} bytes (REALEYES_MAX_BYTES)"
            )
        self.budget -= len(data)
        if self.budget < 0:
            raise ApiError(413, "payload_too_large", f"the batch exceeds {self.state.settings.max_job_bytes} bytes")
        return data

    def _store(self, name: str, data: bytes) -> None:
        sha256 = hashlib.sha256(data).hexdigest()
        wrote = False
        try:
            with self.state.database.session() as session:
                wrote = uploads.hold(session, self.state.files, data, sha256, uploads.job_holder(self.job_id))
        except BaseException:  # the reference was not recorded: the file this call wrote is no one's
            if wrote:
                uploads.undo_write(self.state.database, self.state.files, sha256)
            raise
        self.items.append({"name": name, "sha256": sha256})
        found = sniff_format(data[:64])
        self.all_videos = self.all_videos and found is not None and found.kind == "video"

    def _add_unreadable(self, name: str, message: str) -> None:
        """A zip member that cannot be extracted: one failed item in the job, the other members still run."""
        if len(self.items) >= self.state.settings.max_job_files:
            raise ApiError(413, "payload_too_large", f"a batch holds at most {self.state.settings.max_job_files} files")
        self.items.append({"name": name, "error_code": "corrupt_media", "error_message": message})
        self.all_videos = False

    def _check_zip_directory(self, source: IO[bytes]) -> None:
        """Read only the end-of-central-directory record (zip64 too) and refuse a zip that declares too many
        entries or a central directory too large, before zipfile builds an object per entry (a 94 MB directory
        would cost ~700 MB of memory). zipfile reads exactly the directory size this record declares, so
        bounding it bounds the parse, whatever the declared entry count says."""
        source.seek(0)
        end = _end_of_central_directory(source)
        source.seek(0)
        if end is None:
            return  # not a zip after all: ZipFile's own error follows
        entries, directory_bytes = end
        most_entries = ZIP_ENTRIES_PER_FILE * self.state.settings.max_job_files
        if entries > most_entries:
            raise ApiError(
                413,
                "payload_too_large",
                f"the zip declares {entries} entries; a batch holds at most {self.state.settings.max_job_files} "
                f"files ({most_entries} zip entries with folders)",
            )
        if directory_bytes > most_entries * ZIP_DIRECTORY_BYTES_PER_ENTRY:
            raise ApiError(
                413,
                "payload_too_large",
                f"the zip's central directory declares {directory_bytes} bytes; at most "
                f"{most_entries * ZIP_DIRECTORY_BYTES_PER_ENTRY} are read",
            )

    def _add_zip(self, source: IO[bytes]) -> None:
        self._check_zip_directory(source)
        try:
            archive = zipfile.ZipFile(source)
        except Exception as exc:  # a hostile central directory trips zipfile in many ways: all are the zip's fault
            raise ApiError(422, "corrupt_media", f"the zip cannot be read: {type(exc).__name__}: {exc}") from exc
        with archive:
            for info in archive.infolist():
                name = clean_filename(info.filename)
                if info.is_dir() or name.startswith(".") or info.filename.startswith("__MACOSX/"):
                    continue
                try:
                    with archive.open(info) as member:
                        data = self._read(name, member)
                except ApiError:
                    raise
                except Exception as exc:  # zlib.error, a bad CRC, an encrypted or unsupported member...
                    self._add_unreadable(
                        name, f"the zip member cannot be extracted ({type(exc).__name__}: {str(exc)[:200]})"
                    )
                    continue
                self._store(name, data)


def _end_of_central_directory(source: IO[bytes]) -> tuple[int, int] | None:
    """(entries, central directory bytes) as the zip's end record (or its zip64 record) declares them; found the
    way zipfile finds it (the same function), reading at most the last 64 KiB of the file."""
    find_end: Any = getattr(zipfile, "_EndRecData")  # noqa: B009 - private, but the very record ZipFile will use
    try:
        record = find_end(source)
    except (OSError, EOFError, struct.error, ValueError):
        return None
    if not record:
        return None
    return int(record[zipfile._ECD_ENTRIES_TOTAL]), int(record[zipfile._ECD_SIZE])  # type: ignore[attr-defined]


@router.post(
    "",
    status_code=202,
    summary="Start a job: a video, a batch of images, or a zip",
    response_model=JobOut,
    response_model_exclude_unset=True,
)
def create_job(
    state: State,
    caller: Caller,
    response: Response,
    files: Annotated[list[UploadFile], File(description="Images, or one zip.")],
) -> dict[str, Any]:
    intake = BatchIntake(state)
    try:
        for upload in files:
            intake.add_upload(upload)
        if not intake.items:
            raise ApiError(422, "invalid_request", "the batch holds no files")
        kind = "video" if intake.all_videos else "batch"
        with state.database.session() as session:
            job = Job(
                id=intake.job_id,
                kind=kind,
                items=intake.items,
                api_key_id=caller.key_id,
                heartbeat_at=datetime.now(UTC),
            )
            session.add(job)
    except Exception:
        with state.database.session() as session:  # refused: the files it stored are no one's
            uploads.release(session, state.files, [uploads.job_holder(intake.job_id)])
        raise
    try:
        state.queue.enqueue(job.id)
    except Exception:
        with state.database.session() as session:  # not accepted, so not left behind as a zombie
            session.delete(session.get_one(Job, job.id))
            uploads.release(session, state.files, [uploads.job_holder(job.id)])
        raise
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_view(job)


def _owned(session: Session, caller: Principal, job_id: str) -> Job:
    """The caller's job (any, for an admin key); another key's job is as missing as an unknown id."""
    job = session.get(Job, job_id)
    if job is None or not (caller.is_admin or owner_of(job.api_key_id) == caller.owner):
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return job


@router.get(
    "/{job_id}", summary="A job's status, progress and result", response_model=JobOut, response_model_exclude_unset=True
)
def get_job(state: State, caller: Caller, job_id: str) -> dict[str, Any]:
    with state.database.session() as session:
        return job_view(_owned(session, caller, job_id))


@router.delete(
    "/{job_id}", status_code=202, summary="Cancel a job", response_model=JobOut, response_model_exclude_unset=True
)
def cancel_job(state: State, caller: Caller, job_id: str) -> dict[str, Any]:
    with state.database.session() as session:
        job = _owned(session, caller, job_id)
        if JobStatus(job.status).finished:
            raise ApiError(409, "job_finished", f"the job already ended {job.status}")
        if job.status == JobStatus.queued.value:  # no worker holds it: cancel now, and let go of its uploads
            job.status, job.finished_at = JobStatus.cancelled.value, datetime.now(UTC)
            uploads.release(session, state.files, [uploads.job_holder(job.id)])
        job.cancel_requested = True
        session.flush()
        return job_view(job)
