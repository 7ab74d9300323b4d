"""The earlier DFD service's video contract on POST /predict, replayed against the real app: a short clip's
frame_samples, version, latency_ms and meta beside the RealEyes seed's fields, the per-request `fps` (stored
apart from other rates), the duration and byte limits that send longer videos to POST /v1/jobs, and Bearer keys."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

import realeyes
from conftest import SHIPPED_MODELS
from realeyes.config import Settings
from realeyes.service.auth import create_key
from realeyes.service.routes.compat_video import frame_samples
from realeyes.service.schemas import TimelineOut
from realeyes.service.views import timeline_view
from service.service_media import jpeg_bytes
from video.video_media import encode_video

ClientFactory = Callable[..., TestClient]  # the make_client fixture of conftest.py
DFD_META = {"src_fps", "total_frames", "used_step", "face_frames", "face_detect_rate"}
SEED_FIELDS = {"label", "score", "confidence", "probs", "threshold", "model_version", "verdict", "analysis_id"}
IMAGE_FIELDS = SEED_FIELDS | {"mask_base64", "mask_reason", "raw_score", "fft"}
VIDEO_FIELDS = SEED_FIELDS | {"frame_samples", "version", "latency_ms", "meta"}


def post_clip(client: TestClient, data: bytes, query: str = "", **headers: str) -> Any:
    return client.post(f"/predict{query}", files={"file": ("clip.mp4", data, "video/mp4")}, headers=headers)


def predict_clip(client: TestClient, data: bytes, query: str = "", **headers: str) -> dict[str, Any]:
    response = post_clip(client, data, query, **headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stored_video_details(client: TestClient, analysis_id: str) -> dict[str, Any]:
    analysis = client.get(f"/v1/analyses/{analysis_id}").json()
    details: dict[str, Any] = next(e for e in analysis["evidence"] if e["analyzer"] == "video")["details"]
    return details


def streamed_matroska(seconds: float, fps: int = 25) -> bytes:
    """A Matroska recording written as a live stream (a browser's MediaRecorder does the same): its header
    declares no duration."""

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.written = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, chunk: Any) -> int:
            self.written += bytes(chunk)
            return len(chunk)

    pipe = Pipe()
    with av.open(pipe, mode="w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index % 256, np.uint8), format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return bytes(pipe.written)


def test_a_short_clip_gets_every_dfd_field_beside_the_seed_fields(client: TestClient) -> None:
    body = predict_clip(client, encode_video(seconds=4.0, fps=25))
    assert set(body) == VIDEO_FIELDS  # no image-only field (mask, FFT view) for a video
    assert isinstance(body["score"], float) and 0.0 <= body["score"] <= 1.0
    assert body["label"] == ("fake" if body["score"] >= body["threshold"] else "real")
    assert body["verdict"] in ("authentic", "ai-generated", "manipulated", "inconclusive")
    assert body["version"] == realeyes.__version__ == body["model_version"]  # no model loaded in these tests
    assert isinstance(body["latency_ms"], int) and body["latency_ms"] >= 0

    # One sample per sampled frame (2 per second by default), in time order, unscored without models.
    assert [sample["t"] for sample in body["frame_samples"]] == [0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52]
    assert all(sample["score"] is None for sample in body["frame_samples"])
    assert body["meta"] == dict(src_fps=25.0, total_frames=100, used_step=12, face_frames=0, face_detect_rate=0.0)

    # Stored like any other analysis, with the timeline the samples were read from.
    stored = client.get(f"/v1/analyses/{body['analysis_id']}").json()
    assert stored["media"]["kind"] == "video" and round(stored["p_fake"], 4) == body["score"]
    assert stored["label"] == body["verdict"]
    assert [sample["t"] for sample in body["frame_samples"]] == [s["time"] for s in stored["timeline"]["samples"]]


def test_with_the_shipped_models_each_sample_carries_its_frames_score(make_client: ClientFactory) -> None:
    client = make_client(engine_settings=Settings(models_dir=SHIPPED_MODELS))
    body = predict_clip(client, encode_video(seconds=2.0, size=(640, 480)))
    details = stored_video_details(client, body["analysis_id"])
    samples = client.get(f"/v1/analyses/{body['analysis_id']}").json()["timeline"]["samples"]
    # No face in these frames: each sample is the whole frame's classifier score.
    assert [sample["score"] for sample in body["frame_samples"]] == [s["frame_score"] for s in samples]
    assert all(isinstance(sample["score"], float) for sample in body["frame_samples"])
    assert body["version"] == details["models"]["face_forgery"] and body["version"].startswith("realeyes-face-swap-")
    assert details["aggregation"]["source"] == "frames"
    assert body["model_version"] == details["models"]["frame_classifier"]


def test_frame_samples_take_the_most_suspicious_face_else_the_frame() -> None:
    def face(score: float | None) -> dict[str, Any]:
        return {"track": 0, "box": [0, 0, 10, 10], "score": score}

    timeline = [
        {"time": 0.0, "frame": 0, "frame_score": 0.3, "faces": [face(0.2), face(0.9)]},
        {"time": 0.5, "frame": 12, "frame_score": 0.4, "faces": [face(None)]},
        {"time": 1.0, "frame": 25, "frame_score": None, "faces": []},
    ]
    assert frame_samples(timeline) == [{"t": 0.0, "score": 0.9}, {"t": 0.5, "score": 0.4}, {"t": 1.0, "score": None}]


def test_fps_sets_the_sampling_rate_and_each_rate_is_stored_apart(make_client: ClientFactory) -> None:
    client = make_client()
    clip = encode_video(seconds=4.0, fps=25)
    once_per_second = predict_clip(client, clip, "?fps=1")
    assert [sample["t"] for sample in once_per_second["frame_samples"]] == [0.0, 1.0, 2.0, 3.0]
    assert once_per_second["meta"]["used_step"] == 25

    default = predict_clip(client, clip)  # the engine's own rate is untouched by the request before
    assert len(default["frame_samples"]) == 8 and default["meta"]["used_step"] == 12
    assert default["analysis_id"] != once_per_second["analysis_id"]

    # The same bytes at the same rate are the stored result; the engine's rate asked for by name is the default's.
    assert predict_clip(client, clip, "?fps=1")["analysis_id"] == once_per_second["analysis_id"]
    assert predict_clip(client, clip, "?fps=2")["analysis_id"] == default["analysis_id"]
    assert client.get("/v1/analyses").json()["total"] == 2


@pytest.mark.parametrize("fps", ["0", "0.05", "10.5", "-1", "fast"])
def test_an_out_of_range_fps_is_a_422_naming_the_parameter(make_client: ClientFactory, fps: str) -> None:
    response = post_clip(make_client(), encode_video(seconds=1.0), f"?fps={fps}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "fps" in error["message"]


def test_a_clip_over_the_duration_limit_is_refused_with_a_pointer_to_jobs(make_client: ClientFactory) -> None:
    client = make_client(predict_video_max_seconds=2)
    response = post_clip(client, encode_video(seconds=4.0))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "video_too_long_for_predict" and error["request_id"]
    assert "4.0 s" in error["message"] and "REALEYES_PREDICT_VIDEO_MAX_SECONDS" in error["message"]
    assert "POST /v1/jobs" in error["message"] and "Traceback" not in error["message"]
    assert client.get("/v1/analyses").json()["total"] == 0  # refused before it was analysed or stored
    assert len(predict_clip(client, encode_video(seconds=1.5))["frame_samples"]) == 3


def test_a_streamed_recording_without_a_declared_duration_is_measured(make_client: ClientFactory) -> None:
    client = make_client(predict_video_max_seconds=2)
    response = post_clip(client, streamed_matroska(seconds=3.0))
    assert response.status_code == 413 and response.json()["error"]["code"] == "video_too_long_for_predict"
    assert "3.0 s" in response.json()["error"]["message"]
    assert len(predict_clip(client, streamed_matroska(seconds=1.5))["frame_samples"]) == 3


def test_a_video_over_the_byte_limit_is_refused_with_a_pointer_to_jobs(make_client: ClientFactory) -> None:
    client = make_client(predict_video_max_bytes=1000)
    clip = encode_video(seconds=1.0)
    assert len(clip) > 1000
    response = post_clip(client, clip)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "video_too_large_for_predict"
    assert "REALEYES_PREDICT_VIDEO_MAX_BYTES" in error["message"] and "POST /v1/jobs" in error["message"]
    image = client.post("/predict", files={"file": ("photo.jpg", jpeg_bytes(seed=36), "image/jpeg")})
    assert image.status_code == 200  # an image is not held to the video limit


def test_a_dfd_client_sends_its_key_as_a_bearer_token(make_client: ClientFactory) -> None:
    client = make_client(auth="required")
    clip = encode_video(seconds=1.0)
    refused = post_clip(client, clip)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert post_clip(client, clip, Authorization="Bearer re_not-a-key").status_code == 401
    key = create_key(client.app.state.realeyes.database, "dfd-client", ["analyze"])
    body = predict_clip(client, clip, Authorization=f"Bearer {key}")
    assert len(body["frame_samples"]) == 2 and body["meta"]["src_fps"] == 25.0


def test_an_images_answer_keeps_its_fields_and_ignores_fps(client: TestClient) -> None:
    image = jpeg_bytes(seed=37)
    first = client.post("/predict", files={"file": ("photo.jpg", image, "image/jpeg")})
    assert first.status_code == 200 and set(first.json()) == IMAGE_FIELDS
    again = client.post("/predict?fps=5", files={"file": ("photo.jpg", image, "image/jpeg")})
    assert again.status_code == 200 and again.json() == first.json()  # the stored result: fps is for videos


def test_a_result_stored_before_the_timeline_had_its_own_field_still_answers_with_one() -> None:
    sample = {"time": 0.0, "frame": 0, "frame_score": 0.3, "faces": []}
    details = {
        "meta": {"sampled_frames": 1},
        "timeline": [sample],
        "suspicious_frames": [{"time": 0.0, "score": 0.3, "jpeg_base64": "AAAA"}],
    }
    view = timeline_view({"evidence": [{"analyzer": "video", "details": details}]}, "/v1/analyses/old")
    frame = {"name": "frame-1", "time": 0.0, "score": 0.3, "url": "data:image/jpeg;base64,AAAA"}
    assert view == {"meta": {"sampled_frames": 1}, "samples": [sample], "key_frames": [frame]}
    assert TimelineOut.model_validate(view).key_frames[0].url.startswith("data:image/jpeg")
    assert timeline_view({"evidence": [], "timeline": None}, "/v1/analyses/image") is None
