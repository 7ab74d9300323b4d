"""POST /predict for a short video: the earlier DFD service's contract, served from a stored analysis.

The video is analysed like any other upload (Analyses.analyze, in an analysis slot), sampled at the request's
`fps`; its answer's DFD fields (frame_samples, version, latency_ms, meta) are read from the result's timeline and
the `video` analyzer's evidence. Videos over REALEYES_PREDICT_VIDEO_MAX_BYTES or REALEYES_PREDICT_VIDEO_MAX_SECONDS
are refused with a 413 that points to POST /v1/jobs; the duration is read from the container in the analysis
worker, before any frame is decoded."""

from __future__ import annotations

import time
from typing import Any

from realeyes.application.video_options import VideoOptions
from realeyes.errors import VideoTooLong
from realeyes.service.auth import Principal
from realeyes.service.errors import ApiError
from realeyes.service.state import ServiceState
from realeyes.service.views import stored_timeline
from realeyes.store import Analysis

MIN_FPS, MAX_FPS = 0.1, 10.0  # a sampling rate a client may ask for: 10 per second is 600 frames for a minute
JOBS_HINT = "send longer ones to POST /v1/jobs (field 'files'), which analyses them and reports progress"
# DFD's meta names -> the timeline's (timeline.meta).
META_NAMES = {
    "src_fps": "source_fps",
    "total_frames": "total_frames",
    "used_step": "sampling_step_frames",
    "face_frames": "frames_with_faces",
    "face_detect_rate": "face_detect_rate",
}


def analyse_video(
    state: ServiceState, caller: Principal, data: bytes, filename: str, fps: float | None
) -> tuple[Analysis, float]:
    """The stored analysis of a short video sampled at `fps` (None: REALEYES_VIDEO_FPS), and its wall time in ms."""
    settings = state.settings
    if len(data) > settings.predict_video_max_bytes:
        raise ApiError(
            413,
            "video_too_large_for_predict",
            f"POST /predict answers videos of at most {settings.predict_video_max_bytes} bytes "
            f"(REALEYES_PREDICT_VIDEO_MAX_BYTES) and this one is larger; {JOBS_HINT}.",
        )
    options = VideoOptions(fps=fps, max_seconds=settings.predict_video_max_seconds)
    started = time.perf_counter()
    try:
        with state.analysis_slots:
            analysis = state.analyses.analyze(data, filename, caller.key_id, options).analysis
    except VideoTooLong as exc:
        raise ApiError(
            413,
            "video_too_long_for_predict",
            f"{exc} POST /predict answers videos of at most {settings.predict_video_max_seconds:g} s "
            f"(REALEYES_PREDICT_VIDEO_MAX_SECONDS); {JOBS_HINT}.",
        ) from exc
    return analysis, (time.perf_counter() - started) * 1000.0


def dfd_fields(analysis: Analysis, latency_ms: float) -> dict[str, Any]:
    """DFD's fields, from the result's timeline and the video analyzer's evidence (empty samples and null meta
    when it did not run)."""
    details = video_details(analysis)
    timeline = stored_timeline(analysis.result) or {"meta": {}, "samples": []}
    meta = timeline["meta"]
    return {
        "frame_samples": frame_samples(timeline["samples"]),
        "version": details.get("models", {}).get("face_forgery") or _release(analysis),
        "latency_ms": round(latency_ms),
        "meta": {dfd_name: meta.get(name) for dfd_name, name in META_NAMES.items()},
    }


def frame_samples(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One {t, score} per sample of the timeline: the most suspicious face's score, else the whole frame's, else
    null."""
    samples = []
    for entry in timeline:
        faces = [face["score"] for face in entry["faces"] if face["score"] is not None]
        samples.append({"t": entry["time"], "score": max(faces) if faces else entry["frame_score"]})
    return samples


def video_model_version(analysis: Analysis) -> str | None:
    """The model behind the video's score (the face model when faces decided it, else the frame classifier),
    else the RealEyes release: the seed's `model_version` for a video."""
    details = video_details(analysis)
    models = details.get("models", {})
    by_source = {"faces": models.get("face_forgery"), "frames": models.get("frame_classifier")}
    source = details.get("aggregation", {}).get("source")
    return by_source.get(source) or _release(analysis)


def _release(analysis: Analysis) -> str | None:
    release: str | None = analysis.result["versions"].get("realeyes")
    return release


def video_details(analysis: Analysis) -> dict[str, Any]:
    evidence = next((e for e in analysis.result["evidence"] if e["analyzer"] == "video"), None)
    return {} if evidence is None else dict(evidence["details"])
