"""POST /predict: the response shape clients of the earlier detection services expect."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile

from realeyes.service.auth import Principal
from realeyes.service.deps import analyze_caller, get_state
from realeyes.service.routes.analyses import clean_filename, refuse_video
from realeyes.service.state import ServiceState

router = APIRouter(tags=["compatibility"])


@router.post("/predict", summary="Binary real/fake answer for earlier clients (prefer POST /v1/analyses)")
def predict(
    state: Annotated[ServiceState, Depends(get_state)],
    caller: Annotated[Principal, Depends(analyze_caller)],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    data = file.file.read(state.engine.settings.max_bytes + 1)
    refuse_video(data)
    with state.analysis_slots:
        analysis = state.analyses.analyze(data, clean_filename(file.filename), caller.key_id).analysis
    p_fake = round(analysis.p_fake, 4)
    threshold = analysis.result["threshold"]
    versions = analysis.result["versions"]
    mask = state.files.map_path(analysis.id, "mask")
    return {
        "label": "fake" if p_fake >= threshold else "real",
        "score": p_fake,
        "confidence": round(max(p_fake, 1.0 - p_fake), 4),
        "probs": {"real": round(1.0 - p_fake, 4), "fake": p_fake},
        "threshold": threshold,
        "model_version": versions.get("classifier.model") or versions.get("realeyes"),
        "mask_base64": base64.b64encode(mask.read_bytes()).decode() if "mask" in analysis.maps else None,
        "verdict": analysis.label,  # the full RealEyes label, including manipulated and inconclusive
        "analysis_id": analysis.id,
    }
