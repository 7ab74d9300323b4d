"""/v1/jobs: long work (batches of images or a zip) accepted with 202 and followed by polling."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import JSONResponse

from realeyes.media import sniff_format
from realeyes.service.auth import Principal
from realeyes.service.deps import analyze_caller, get_state
from realeyes.service.errors import ApiError
from realeyes.service.routes.analyses import clean_filename
from realeyes.service.state import ServiceState
from realeyes.service.views import job_view
from realeyes.store import Job, JobStatus

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

State = Annotated[ServiceState, Depends(get_state)]
Caller = Annotated[Principal, Depends(analyze_caller)]


def _unpack(state: ServiceState, uploads: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The files of the batch; a zip is expanded with limits on count and size checked while reading, so a
    zip bomb is refused rather than inflated."""
    settings = state.settings
    files: list[tuple[str, bytes]] = []
    budget = settings.max_job_bytes
    for upload in uploads:
        data = upload.file.read(budget + 1)
        budget -= len(data)
        if budget < 0:
            raise ApiError(413, "payload_too_large", f"the batch exceeds {settings.max_job_bytes} bytes")
        if zipfile.is_zipfile(io.BytesIO(data)):
            budget = _unzip(data, files, budget, settings.max_job_files, state.engine.settings.max_bytes)
        else:
            files.append((clean_filename(upload.filename), data))
        if len(files) > settings.max_job_files:
            raise ApiError(413, "payload_too_large", f"a batch holds at most {settings.max_job_files} files")
    if not files:
        raise ApiError(422, "invalid_request", "the batch holds no files")
    return files


def _unzip(data: bytes, files: list[tuple[str, bytes]], budget: int, max_files: int, max_file: int) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = clean_filename(info.filename)
                if info.is_dir() or name.startswith(".") or info.filename.startswith("__MACOSX/"):
                    continue
                if len(files) >= max_files:
                    raise ApiError(413, "payload_too_large", f"a batch holds at most {max_files} files")
                with archive.open(info) as member:  # read with a cap: the declared size may lie
                    content = member.read(min(budget, max_file) + 1)
                if len(content) > max_file:
                    raise ApiError(413, "payload_too_large", f"{name} inflates beyond {max_file} bytes")
                budget -= len(content)
                if budget < 0:
                    raise ApiError(413, "payload_too_large", "the zip inflates beyond the batch size limit")
                files.append((name, content))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        raise ApiError(422, "corrupt_media", f"the zip cannot be read: {exc}") from exc
    return budget


def _is_video(data: bytes) -> bool:
    found = sniff_format(data[:64])
    return found is not None and found.kind == "video"


@router.post("", status_code=202, summary="Start a job: a video, a batch of images, or a zip")
def create_job(
    state: State, caller: Caller, files: Annotated[list[UploadFile], File(description="Images, or one zip.")]
) -> JSONResponse:
    unpacked = _unpack(state, files)
    items = [{"name": name, "sha256": state.files.put_upload(data)} for name, data in unpacked]
    kind = "video" if all(_is_video(data) for _, data in unpacked) else "batch"
    with state.database.session() as session:
        job = Job(kind=kind, items=items, api_key_id=caller.key_id, heartbeat_at=datetime.now(UTC))
        session.add(job)
    try:
        state.queue.enqueue(job.id)
    except Exception:
        with state.database.session() as session:  # not accepted, so not left behind as a zombie
            session.delete(session.get_one(Job, job.id))
        raise
    return JSONResponse(job_view(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/{job_id}", summary="A job's status, progress and result")
def get_job(state: State, _: Caller, job_id: str) -> dict[str, Any]:
    with state.database.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        return job_view(job)


@router.delete("/{job_id}", status_code=202, summary="Cancel a job")
def cancel_job(state: State, _: Caller, job_id: str) -> JSONResponse:
    with state.database.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        if JobStatus(job.status).finished:
            raise ApiError(409, "job_finished", f"the job already ended {job.status}")
        if job.status == JobStatus.queued.value:  # no worker holds it: cancel now
            job.status, job.finished_at = JobStatus.cancelled.value, datetime.now(UTC)
        job.cancel_requested = True
        session.flush()
        return JSONResponse(job_view(job), status_code=202)
