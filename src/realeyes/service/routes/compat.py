"""The earlier services' endpoints, kept for their clients: POST /predict (the RealEyes seed with DeepGuard's
fields beside it for an image, DFD's for a short video: routes/compat_video.py) and GET /sample/{kind}
(DeepGuard's sample images). Health endpoints are in routes/system.py.

Same engine and storage as POST /v1/analyses: every prediction is an analysis. Where two seeds disagree on a
field, the RealEyes seed's form stands and the other seed's fields are added beside it (docs/API.md).
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response

from realeyes import samples
from realeyes.engine import Engine
from realeyes.media import sniff_format
from realeyes.service.auth import Principal
from realeyes.service.deps import GatedRoute, analyze_caller, get_state
from realeyes.service.errors import ApiError
from realeyes.service.routes import compat_video
from realeyes.service.routes.analyses import clean_filename
from realeyes.service.schemas import PredictOut
from realeyes.service.state import ServiceState
from realeyes.store import Analysis

router = APIRouter(tags=["compatibility"], route_class=GatedRoute)
State = Annotated[ServiceState, Depends(get_state)]


def served_model_version(engine: Engine) -> str | None:
    """The learned classifier's version: the model the seeds' `model_version` fields name; None when not loaded."""
    return engine.versions.get("classifier.model")


@router.post(
    "/predict",
    summary="Binary real/fake answer for earlier clients (prefer POST /v1/analyses)",
    response_model=PredictOut,
    response_model_exclude_unset=True,
)
def predict(
    state: State,
    caller: Annotated[Principal, Depends(analyze_caller)],
    file: Annotated[UploadFile, File(description="An image, or a short video (REALEYES_PREDICT_VIDEO_MAX_SECONDS).")],
    fps: Annotated[
        float | None,
        Query(
            ge=compat_video.MIN_FPS,
            le=compat_video.MAX_FPS,
            description="A video's frames sampled per second (default REALEYES_VIDEO_FPS); ignored for images.",
        ),
    ] = None,
) -> dict[str, Any]:
    data = file.file.read(state.engine.settings.max_bytes + 1)
    filename = clean_filename(file.filename)
    found = sniff_format(data[:64])
    if found is not None and found.kind == "video":
        analysis, latency_ms = compat_video.analyse_video(state, caller, data, filename, fps)
        seed = _seed_fields(analysis, compat_video.video_model_version(analysis))
        return {**seed, **compat_video.dfd_fields(analysis, latency_ms)}
    with state.analysis_slots:
        analysis = state.analyses.analyze(data, filename, caller.key_id).analysis
    return {**_seed_answer(state, analysis), **_deepguard_fields(state, analysis)}


@router.get(
    "/sample/{kind}",
    response_class=Response,
    summary="A sample image made by RealEyes: 'real' (camera EXIF) or 'fake' (AI generator metadata)",
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The sample image."},
        404: {"description": "No sample of that kind."},
    },
)
def get_sample(kind: str) -> Response:
    if kind not in samples.SAMPLE_KINDS:
        raise ApiError(404, "not_found", f"no sample {kind!r}: the kinds are {', '.join(samples.SAMPLE_KINDS)}")
    image = samples.sample(kind)
    # The name lets the web UI show and upload the sample under the file name it has in samples/.
    headers = {"Content-Disposition": f'inline; filename="{image.filename}"', "Cache-Control": "public, max-age=3600"}
    return Response(image.data, media_type=image.media_type, headers=headers)


def _seed_answer(state: ServiceState, analysis: Analysis) -> dict[str, Any]:
    """The RealEyes seed's fields for an image: the verdict fields and the localizer's mask."""
    mask = _stored_map(state, analysis, "mask")
    return {
        **_seed_fields(analysis, _model_version(analysis.result["versions"])),
        "mask_base64": None if mask is None else base64.b64encode(mask).decode(),
        "mask_reason": None if mask is not None else _missing_map_reason(state, analysis, "localizer"),
    }


def _seed_fields(analysis: Analysis, model_version: str | None) -> dict[str, Any]:
    """The RealEyes seed's verdict fields (images and videos), plus the full RealEyes verdict and the analysis id."""
    p_fake = round(analysis.p_fake, 4)
    threshold = analysis.result["threshold"]
    return {
        "label": "fake" if p_fake >= threshold else "real",
        "score": p_fake,
        "confidence": round(max(p_fake, 1.0 - p_fake), 4),
        "probs": {"real": round(1.0 - p_fake, 4), "fake": p_fake},
        "threshold": threshold,
        "model_version": model_version,
        "verdict": analysis.label,  # the full RealEyes label, including manipulated and inconclusive
        "analysis_id": analysis.id,
    }


def _model_version(versions: dict[str, str]) -> str | None:
    """The classifier that scored this analysis, else the RealEyes release (the seeds' clients expect a string)."""
    return versions.get("classifier.model") or versions.get("realeyes")


def _deepguard_fields(state: ServiceState, analysis: Analysis) -> dict[str, Any]:
    """DeepGuard's raw score and FFT view (the spectrum analyzer's centred log-magnitude map, as stored)."""
    spectrum = _stored_map(state, analysis, "spectrum")
    if spectrum is None:
        fft: dict[str, Any] = {
            "success": False,
            "image": None,
            "error": _missing_map_reason(state, analysis, "spectrum"),
        }
    else:
        fft = {"success": True, "image": "data:image/png;base64," + base64.b64encode(spectrum).decode()}
    return {"raw_score": analysis.p_fake, "fft": fft}


def _stored_map(state: ServiceState, analysis: Analysis, name: str) -> bytes | None:
    if name not in analysis.maps:
        return None
    try:
        return state.files.map_path(analysis.id, name).read_bytes()
    except FileNotFoundError:  # removed by hand from the storage folder: answer without it rather than fail
        return None


def _missing_map_reason(state: ServiceState, analysis: Analysis, analyzer: str) -> str:
    """Why an analyzer gave no map for this file, in words a client can show."""
    evidence = next((e for e in analysis.result["evidence"] if e["analyzer"] == analyzer), None)
    if evidence is not None:
        if evidence["error"]:
            return f"The {analyzer} analyzer failed on this file: {evidence['error']['message']}"
        if evidence["maps"]:
            return f"The {analyzer} analyzer's map is no longer in the storage folder."
        return str(evidence["summary"])  # e.g. too small for the localizer
    if analyzer in state.engine.unavailable:
        return f"The {analyzer} analyzer is unavailable: {state.engine.unavailable[analyzer]}"
    return f"The {analyzer} analyzer did not run on this file."
