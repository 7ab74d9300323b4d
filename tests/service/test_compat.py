"""The three earlier services' non-video contracts, replayed against the real app (SQLite and PostgreSQL):
the RealEyes seed (/health, /healthz, POST /predict with mask_base64, /metrics), DeepGuard (raw_score, the FFT
view, /sample/{kind}) and DFD (/health's ok). Each answer is also an analysis stored like any other."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from conftest import SHIPPED_MODELS
from realeyes import samples
from realeyes.config import Settings
from realeyes.service.auth import create_key
from service.service_media import jpeg_bytes

REPO = Path(__file__).resolve().parents[2]
ClientFactory = Callable[..., TestClient]  # the make_client fixture of conftest.py
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"


@pytest.fixture
def shipped_client(make_client: ClientFactory, database_url: str) -> TestClient:
    """The service with the shipped models, as the seeds' clients would meet it."""
    return make_client(database_url=database_url, engine_settings=Settings(models_dir=SHIPPED_MODELS))


def predict(client: TestClient, data: bytes, name: str = "photo.jpg", **headers: str) -> dict[str, Any]:
    response = client.post("/predict", files={"file": (name, data, "application/octet-stream")}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tiny_png(side: int = 8) -> bytes:
    return samples.png_bytes(samples.photo_like(side, side, seed=5))


def is_unit_float(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool) and 0.0 <= value <= 1.0


# ---------------------------------------------------------------- RealEyes seed


def test_realeyes_seed_healthz_names_the_loaded_model(shipped_client: TestClient) -> None:
    response = shipped_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["model_loaded"] is True
    assert isinstance(body["model_version"], str) and body["model_version"].startswith("realeyes-npr-classifier-")
    assert shipped_client.get("/health").json()["model"] == body["model_version"]


def test_healthz_says_when_no_model_is_loaded(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model_loaded": False, "model_version": None}


def test_realeyes_seed_health_keeps_its_fields(shipped_client: TestClient) -> None:
    response = shipped_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and isinstance(body["model"], str)
    assert {"classifier", "localizer"} <= set(body["models"])
    assert all(isinstance(version, str) for version in body["models"].values())


def test_realeyes_seed_predict_answers_with_a_mask_and_stores_the_analysis(shipped_client: TestClient) -> None:
    body = predict(shipped_client, jpeg_bytes(seed=31, width=256, height=192))
    assert body["label"] in ("real", "fake") and body["label"] == (
        "fake" if body["score"] >= body["threshold"] else "real"
    )
    assert is_unit_float(body["score"]) and is_unit_float(body["confidence"]) and body["confidence"] >= 0.5
    assert body["probs"] == {"real": pytest.approx(1 - body["score"], abs=1e-4), "fake": body["score"]}
    # The verdict threshold the shipped fusion was calibrated with (docs/VERDICTS.md).
    assert body["threshold"] == json.loads((SHIPPED_MODELS / "fusion.json").read_text())["thresholds"]["ai_generated"]
    assert body["model_version"] == shipped_client.get("/healthz").json()["model_version"]
    mask = Image.open(io.BytesIO(base64.b64decode(body["mask_base64"])))
    assert mask.format == "PNG" and mask.size == (256, 192) and mask.mode == "L"
    assert body["mask_reason"] is None
    assert body["verdict"] in ("authentic", "ai-generated", "manipulated", "inconclusive")

    stored = shipped_client.get(f"/v1/analyses/{body['analysis_id']}")
    assert stored.status_code == 200
    assert stored.json()["p_fake"] == body["score"] and stored.json()["label"] == body["verdict"]
    assert shipped_client.get(f"/v1/analyses/{body['analysis_id']}/maps/mask.png").content == base64.b64decode(
        body["mask_base64"]
    )


def test_an_8px_png_gets_no_mask_and_the_reason(shipped_client: TestClient) -> None:
    body = predict(shipped_client, tiny_png(8), name="dot.png")
    assert body["label"] in ("real", "fake") and is_unit_float(body["score"])
    assert body["mask_base64"] is None
    assert "Too small for the localizer" in body["mask_reason"] and "32 px" in body["mask_reason"]


def test_without_a_localizer_the_mask_reason_says_it_is_unavailable(client: TestClient) -> None:
    body = predict(client, jpeg_bytes(seed=32))
    assert body["mask_base64"] is None
    assert body["mask_reason"].startswith("The localizer analyzer is unavailable:")
    assert "Traceback" not in body["mask_reason"]


def test_realeyes_seed_metrics_count_predictions(client: TestClient) -> None:
    predict(client, jpeg_bytes(seed=33))
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert 'realeyes_http_requests_total{method="POST",route="/predict",status="200"}' in response.text


def test_predict_refuses_what_is_not_an_image_with_a_json_error(client: TestClient) -> None:
    response = client.post("/predict", files={"file": ("notes.jpg", b"meeting notes", "image/jpeg")})
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media" and error["request_id"] and "Traceback" not in error["message"]


# ---------------------------------------------------------------- DeepGuard


def test_deepguard_predict_adds_raw_score_and_the_fft_view_beside_the_seed_fields(client: TestClient) -> None:
    body = predict(client, jpeg_bytes(seed=34))
    assert is_unit_float(body["raw_score"]) and body["raw_score"] == pytest.approx(body["score"], abs=1e-4)
    assert body["label"] in ("real", "fake")  # the RealEyes seed's lower-case form stands, not REAL/FAKE
    assert isinstance(body["confidence"], float)  # and its float, not a percentage string

    fft = body["fft"]
    assert fft["success"] is True and fft["image"].startswith(DATA_URL_PREFIX)
    png = base64.b64decode(fft["image"][len(DATA_URL_PREFIX) :])
    assert png.startswith(PNG_SIGNATURE)
    # The spectrum analyzer's stored map, not a second computation.
    assert png == client.get(f"/v1/analyses/{body['analysis_id']}/maps/spectrum.png").content
    spectrum = np.asarray(Image.open(io.BytesIO(png)))
    assert spectrum.ndim == 2 and spectrum.shape[0] == spectrum.shape[1]
    centre = spectrum.shape[0] // 2
    assert spectrum[centre, centre] > np.median(spectrum)  # centred: low frequencies (most energy) in the middle


def test_without_the_spectrum_analyzer_the_fft_view_says_why(make_client: ClientFactory) -> None:
    client = make_client(engine_settings=Settings(analyzers=["metadata", "ela"]))
    fft = predict(client, jpeg_bytes(seed=35))["fft"]
    assert fft["success"] is False and fft["image"] is None
    assert fft["error"] == "The spectrum analyzer did not run on this file."


@pytest.mark.parametrize(
    ("kind", "media_type", "shipped_file"),
    [("real", "image/jpeg", "camera-exif.jpg"), ("fake", "image/png", "webui-parameters.png")],
)
def test_deepguard_samples_are_the_images_this_repository_made(
    client: TestClient, kind: str, media_type: str, shipped_file: str
) -> None:
    response = client.get(f"/sample/{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert f'filename="{shipped_file}"' in response.headers["content-disposition"]
    assert response.content == (REPO / "samples" / shipped_file).read_bytes()


def test_the_fake_sample_is_found_ai_generated_and_the_real_one_is_not(client: TestClient) -> None:
    fake = predict(client, client.get("/sample/fake").content, name="webui-parameters.png")
    assert fake["verdict"] == "ai-generated" and fake["label"] == "fake"
    real = predict(client, client.get("/sample/real").content, name="camera-exif.jpg")
    assert real["verdict"] != "ai-generated"


@pytest.mark.parametrize("kind", ["other", "REAL", "camera-exif.jpg"])
def test_an_unknown_sample_kind_is_a_404_with_a_clear_json_error(client: TestClient, kind: str) -> None:
    response = client.get(f"/sample/{kind}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "real, fake" in error["message"] and error["request_id"]


def test_samples_stay_open_when_keys_are_required_but_predict_does_not(make_client: ClientFactory) -> None:
    client = make_client(auth="required")
    assert client.get("/sample/real").status_code == 200
    sample = client.get("/sample/fake").content
    refused = client.post("/predict", files={"file": ("s.png", sample, "image/png")})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    key = create_key(client.app.state.realeyes.database, "deepguard-page", ["analyze"])
    assert predict(client, sample, **{"X-API-Key": key})["verdict"] == "ai-generated"


# ---------------------------------------------------------------- DFD


def test_dfd_health_says_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["status"] == "ok"  # DFD's field beside the RealEyes seed's
