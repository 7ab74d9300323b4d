"""JSON views of stored rows, in the shapes docs/API.md promises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from realeyes.store import Analysis, Feedback, Job


def utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite returns naive datetimes; every stored time is UTC)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def analysis_view(analysis: Analysis, cached: bool, feedback: list[Feedback] | None = None) -> dict[str, Any]:
    base = f"/v1/analyses/{analysis.id}"
    return {
        "id": analysis.id,
        "created_at": utc(analysis.created_at),
        "filename": analysis.filename,
        "sha256": analysis.sha256,
        "bytes": analysis.size_bytes,
        "cached": cached,
        **analysis.result,
        "timeline": timeline_view(analysis.result, base),
        "maps": {name: f"{base}/maps/{name}.png" for name in analysis.maps},
        "image_url": f"{base}/image",
        "thumbnail_url": f"{base}/thumbnail.jpg",
        "feedback": [feedback_view(item) for item in feedback or []],
    }


def timeline_view(result: dict[str, Any], base: str) -> dict[str, Any] | None:
    """A video result's timeline with each key frame's URL; None for other media."""
    timeline = stored_timeline(result)
    if timeline is None:
        return None
    # Frames of results stored before key frames were files keep their data: URL.
    frames = [{"url": f"{base}/frames/{frame['name']}.jpg", **frame} for frame in timeline["key_frames"]]
    return {**timeline, "key_frames": frames}


def stored_timeline(result: dict[str, Any]) -> dict[str, Any] | None:
    """A stored result's timeline, whichever version stored it; None for other media."""
    timeline: dict[str, Any] | None = result.get("timeline")
    return timeline if timeline is not None else _legacy_timeline(result)


def _legacy_timeline(result: dict[str, Any]) -> dict[str, Any] | None:
    """The timeline of a result stored before it had its own field (inside the video evidence's details, key
    frames inline as base64 JPEG): the same shape, its frames as data: URLs."""
    details = next(
        (e["details"] for e in result.get("evidence", []) if e["analyzer"] == "video" and "timeline" in e["details"]),
        None,
    )
    if details is None:
        return None
    frames = [
        {"name": f"frame-{rank}", "time": frame["time"], "score": frame["score"],
         "url": f"data:image/jpeg;base64,{frame['jpeg_base64']}"}
        for rank, frame in enumerate(details.get("suspicious_frames", []), start=1)
    ]  # fmt: skip
    return {"meta": details["meta"], "samples": details["timeline"], "key_frames": frames}


def analysis_summary(analysis: Analysis) -> dict[str, Any]:
    return {
        "id": analysis.id,
        "created_at": utc(analysis.created_at),
        "filename": analysis.filename,
        "label": analysis.label,
        "p_fake": analysis.p_fake,
        "media": {"format": analysis.media_format, "width": analysis.width, "height": analysis.height},
        "thumbnail_url": f"/v1/analyses/{analysis.id}/thumbnail.jpg",
    }


def feedback_view(feedback: Feedback) -> dict[str, Any]:
    return {
        "id": feedback.id,
        "analysis_id": feedback.analysis_id,
        "label": feedback.label,
        "note": feedback.note,
        "created_at": utc(feedback.created_at),
        "status": feedback.status or "pending",  # pending: waits for an admin's review before retraining
        "reviewed_at": utc(feedback.reviewed_at),
    }


def job_view(job: Job) -> dict[str, Any]:
    finished = job.status in ("succeeded", "failed", "cancelled")
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": {
            "done": job.done,
            "total": len(job.items),
            "fraction": round(min(1.0, (job.done + job.item_progress) / max(1, len(job.items))), 4),
        },
        "created_at": utc(job.created_at),
        "started_at": utc(job.started_at),
        "finished_at": utc(job.finished_at),
        "attempts": job.attempts,
        "error": job.error,
        "result": {"items": job.results} if finished else None,
    }
