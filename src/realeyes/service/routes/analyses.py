"""/v1/analyses: analyse an upload, read, list, delete, maps, key frames, original, thumbnail, feedback."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from realeyes.application.analyses import key_frames
from realeyes.labels import EvidenceLabel, VerdictLabel
from realeyes.media import sniff_format
from realeyes.service.auth import Principal
from realeyes.service.deps import GatedRoute, analyze_caller, get_state
from realeyes.service.errors import ApiError
from realeyes.service.schemas import AnalysisOut, AnalysisSummary, FeedbackOut, Page
from realeyes.service.state import ServiceState
from realeyes.service.views import analysis_summary, analysis_view, feedback_view
from realeyes.store import Analysis, Feedback, FeedbackStatus

router = APIRouter(prefix="/v1/analyses", tags=["analyses"], route_class=GatedRoute)

State = Annotated[ServiceState, Depends(get_state)]
Caller = Annotated[Principal, Depends(analyze_caller)]
_MAP_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
# Uploaded bytes are served back from the API's own origin, so nothing in them may run there: only raster images
# and videos are shown inline, everything else (SVG, PDF, unknown bytes) is a download; all of it sandboxed.
_INLINE_FORMATS = frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff", "heif", "avif", "jxl"})
_INLINE_KINDS = frozenset({"video"})
UPLOAD_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def clean_filename(name: str | None) -> str:
    """Keep the base name only, without control characters (it is shown back to people)."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255] or "upload"


def refuse_video(data: bytes) -> None:
    """Videos take seconds to minutes: they go through POST /v1/jobs, which reports progress."""
    found = sniff_format(data[:64])
    if found is not None and found.kind == "video":
        raise ApiError(422, "video_requires_job", "videos are long work: send them to POST /v1/jobs (field 'files')")


def _visible(session: Session, caller: Principal, analysis_id: str) -> Analysis:
    """The caller's analysis (any owner's for an admin key); another owner's is as missing as an unknown id."""
    analysis = session.get(Analysis, analysis_id)
    if analysis is None or not (caller.is_admin or analysis.owner == caller.owner):
        raise ApiError(404, "not_found", f"no analysis {analysis_id!r}")
    return analysis


def _load(state: ServiceState, caller: Principal, analysis_id: str) -> tuple[Analysis, list[Feedback]]:
    with state.database.session() as session:
        analysis = _visible(session, caller, analysis_id)
        return analysis, list(analysis.feedback)


@router.post(
    "", status_code=201, summary="Analyse an image", response_model=AnalysisOut, response_model_exclude_unset=True
)
def create_analysis(
    state: State,
    caller: Caller,
    response: Response,
    file: Annotated[UploadFile, File(description="The image (or video/PDF for provenance only).")],
    maps: Annotated[bool, Query(description="Include the maps as base64 PNG in `maps_base64`.")] = False,
) -> dict[str, Any]:
    data = file.file.read(state.engine.settings.max_bytes + 1)
    refuse_video(data)
    with state.analysis_slots:  # CPU-bound: at most N analyses at once per process
        outcome = state.analyses.analyze(data, clean_filename(file.filename), caller.key_id)
    if outcome.cached:
        response.status_code = 200
    view = analysis_view(outcome.analysis, outcome.cached)
    if maps:
        view["maps_base64"] = {
            name: base64.b64encode(state.files.map_path(outcome.analysis.id, name).read_bytes()).decode()
            for name in outcome.analysis.maps
        }
    return view


@router.get("", summary="List analyses, newest first", response_model=Page[AnalysisSummary])
def list_analyses(
    state: State,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    label: VerdictLabel | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    conditions = [] if caller.is_admin else [Analysis.owner == caller.owner]
    if label is not None:
        conditions.append(Analysis.label == label)
    if since is not None:
        conditions.append(Analysis.created_at >= since)
    if until is not None:
        conditions.append(Analysis.created_at < until)
    with state.database.session() as session:
        total = session.scalar(select(func.count()).select_from(Analysis).where(*conditions)) or 0
        rows = session.scalars(
            select(Analysis).where(*conditions).order_by(Analysis.created_at.desc()).limit(limit).offset(offset)
        ).all()
        items = [analysis_summary(row) for row in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{analysis_id}", summary="One analysis", response_model=AnalysisOut, response_model_exclude_unset=True)
def get_analysis(state: State, caller: Caller, analysis_id: str) -> dict[str, Any]:
    analysis, feedback = _load(state, caller, analysis_id)
    return analysis_view(analysis, cached=False, feedback=feedback)


@router.delete("/{analysis_id}", status_code=204, summary="Delete an analysis and its stored files")
def delete_analysis(state: State, caller: Caller, analysis_id: str) -> Response:
    if not state.analyses.delete(analysis_id, owner=None if caller.is_admin else caller.owner):
        raise ApiError(404, "not_found", f"no analysis {analysis_id!r}")
    return Response(status_code=204)


@router.get("/{analysis_id}/maps/{name}.png", response_class=FileResponse, summary="A map as greyscale PNG")
def get_map(state: State, caller: Caller, analysis_id: str, name: str) -> FileResponse:
    analysis, _feedback = _load(state, caller, analysis_id)
    if not _MAP_NAME.match(name) or name not in analysis.maps:
        raise ApiError(404, "not_found", f"analysis {analysis_id!r} has no map {name!r}; it has {analysis.maps}")
    return _stored(state.files.map_path(analysis_id, name), "image/png")


@router.get("/{analysis_id}/frames/{name}.jpg", response_class=FileResponse, summary="A video's key frame as JPEG")
def get_frame(state: State, caller: Caller, analysis_id: str, name: str) -> FileResponse:
    analysis, _feedback = _load(state, caller, analysis_id)
    names = key_frames(analysis.result)
    if not _MAP_NAME.match(name) or name not in names:
        raise ApiError(404, "not_found", f"analysis {analysis_id!r} has no key frame {name!r}; it has {names}")
    return _stored(state.files.frame_path(analysis_id, name), "image/jpeg")


def _stored(path: Path, media_type: str) -> FileResponse:
    """A picture the record lists; gone from the file store (deleted by hand, a lost volume), it is a 410 that says
    so, not a failed response."""
    if not path.is_file():
        raise ApiError(410, "file_missing", "this picture is no longer in the file store; the result remains")
    return FileResponse(path, media_type=media_type)


@router.get(
    "/{analysis_id}/image",
    response_class=Response,
    summary="The uploaded bytes",
    responses={200: {"content": {"application/octet-stream": {}}, "description": "As uploaded, with their type."}},
)
def get_image(state: State, caller: Caller, analysis_id: str) -> Response:
    analysis, _feedback = _load(state, caller, analysis_id)
    data = state.files.read_upload(analysis.sha256)
    if data is None:
        raise ApiError(410, "upload_expired", "the upload was removed by the retention policy; the result remains")
    found = sniff_format(data[:64])
    inline = found is not None and (found.name in _INLINE_FORMATS or found.kind in _INLINE_KINDS)
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": UPLOAD_CSP if inline else DOWNLOAD_CSP}
    if not inline:
        headers["Content-Disposition"] = attachment(analysis.filename)
    return Response(data, media_type=found.mime if found else "application/octet-stream", headers=headers)


def attachment(filename: str) -> str:
    """A Content-Disposition that downloads under the uploaded name (ASCII fallback plus RFC 5987 UTF-8 form)."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", filename)[:200] or "upload"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename[:200], safe='')}"


@router.get("/{analysis_id}/thumbnail.jpg", response_class=FileResponse, summary="A small JPEG preview")
def get_thumbnail(state: State, caller: Caller, analysis_id: str) -> FileResponse:
    _load(state, caller, analysis_id)
    path = state.files.thumbnail_path(analysis_id)
    if not path.exists():
        raise ApiError(404, "not_found", "this media has no preview (its pixels are not decoded)")
    return FileResponse(path, media_type="image/jpeg")


class FeedbackIn(BaseModel):
    label: EvidenceLabel
    note: str = Field("", max_length=2000)


@router.post(
    "/{analysis_id}/feedback", status_code=201, summary="Record a person's correct label", response_model=FeedbackOut
)
def add_feedback(state: State, caller: Caller, analysis_id: str, body: FeedbackIn) -> dict[str, Any]:
    """On the caller's own analysis (any, for an admin key). An admin key's label is accepted for retraining at
    once; any other waits as `pending` until an admin accepts it (`POST /v1/feedback/{id}/review`)."""
    with state.database.session() as session:
        _visible(session, caller, analysis_id)
        feedback = Feedback(analysis_id=analysis_id, label=body.label, note=body.note, api_key_id=caller.key_id)
        if caller.is_admin:
            feedback.status = FeedbackStatus.accepted.value
            feedback.reviewed_at, feedback.reviewed_by = datetime.now(UTC), caller.name
        session.add(feedback)
        session.flush()
        return feedback_view(feedback)
