"""The REST API end to end on the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.service_media import jpeg_bytes, png_bomb


def analyse(client: TestClient, data: bytes, name: str = "photo.jpg", **params: str) -> dict:
    response = client.post("/v1/analyses", files={"file": (name, data, "image/jpeg")}, params=params)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_analysis_is_stored_and_served_with_its_files(client: TestClient) -> None:
    data = jpeg_bytes(seed=3)
    response = client.post("/v1/analyses", files={"file": ("dir/photo.jpg", data, "image/jpeg")})
    assert response.status_code == 201
    body = response.json()
    assert body["filename"] == "photo.jpg"  # the client's directory is not kept
    assert body["cached"] is False
    assert body["label"] in ("authentic", "ai-generated", "manipulated", "inconclusive")
    assert 0.0 <= body["p_fake"] <= 1.0
    assert {e["analyzer"] for e in body["evidence"]} >= {"c2pa", "metadata", "spectrum", "ela", "noise"}
    assert body["media"]["width"] == 320 and body["bytes"] == len(data)
    assert set(body["maps"]) == {"spectrum", "ela", "noise"}

    for url in body["maps"].values():
        png = client.get(url)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get(body["image_url"]).content == data
    thumbnail = client.get(body["thumbnail_url"])
    assert thumbnail.headers["content-type"] == "image/jpeg" and thumbnail.content[:3] == b"\xff\xd8\xff"

    stored = client.get(f"/v1/analyses/{body['id']}").json()
    assert stored["p_fake"] == body["p_fake"] and stored["evidence"] == body["evidence"]


def test_the_openapi_document_describes_the_replies_exactly(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas, paths = spec["components"]["schemas"], spec["paths"]

    def reply(path: str, method: str, status: str) -> str:
        return str(paths[path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"])

    assert reply("/v1/analyses", "post", "201").endswith("/AnalysisOut")
    assert reply("/v1/analyses/{analysis_id}", "get", "200").endswith("/AnalysisOut")
    assert reply("/v1/jobs/{job_id}", "get", "200").endswith("/JobOut")
    assert reply("/predict", "post", "200").endswith("/PredictOut")
    analysis = schemas["AnalysisOut"]
    assert {"label", "p_fake", "threshold", "reasons", "evidence", "media"} <= set(analysis["required"])
    assert analysis["properties"]["label"]["enum"] == ["ai-generated", "manipulated", "authentic", "inconclusive"]
    assert analysis["properties"]["evidence"]["items"]["$ref"].endswith("/EvidenceOut")

    body = analyse(client, jpeg_bytes(seed=9))
    assert set(body) == set(analysis["properties"]) - {"maps_base64"}  # documented, none invented or hidden
    assert all(set(e) == set(schemas["EvidenceOut"]["properties"]) for e in body["evidence"])
    assert set(analyse(client, jpeg_bytes(seed=10), maps="1")) == set(analysis["properties"])


def test_every_json_reply_has_a_documented_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    untyped = [
        f"{method.upper()} {path} {status}"
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and response.get("content", {}).get("application/json", {}).get("schema") == {}
    ]
    assert untyped == []
    assert client.get("/healthz").json().keys() == spec["components"]["schemas"]["HealthzOut"]["properties"].keys()
    models = client.get("/v1/models").json()["models"]
    assert all(model.keys() == spec["components"]["schemas"]["ModelOut"]["properties"].keys() for model in models)


def test_identical_bytes_return_the_stored_result(client: TestClient) -> None:
    data = jpeg_bytes(seed=4)
    first = analyse(client, data)
    again = client.post("/v1/analyses", files={"file": ("other-name.jpg", data, "image/jpeg")})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["cached"] is True
    assert client.get("/v1/analyses").json()["total"] == 1


def test_maps_inline_as_base64_png(client: TestClient) -> None:
    body = analyse(client, jpeg_bytes(seed=5), maps="1")
    assert set(body["maps_base64"]) == set(body["maps"])
    assert base64.b64decode(body["maps_base64"]["ela"]).startswith(b"\x89PNG")


def test_listing_pages_and_filters(client: TestClient) -> None:
    ids = [analyse(client, jpeg_bytes(seed=10 + i))["id"] for i in range(3)]
    page = client.get("/v1/analyses", params={"limit": 2}).json()
    assert page["total"] == 3 and [item["id"] for item in page["items"]] == ids[::-1][:2]
    rest = client.get("/v1/analyses", params={"limit": 2, "offset": 2}).json()
    assert [item["id"] for item in rest["items"]] == ids[:1]

    label = client.get(f"/v1/analyses/{ids[0]}").json()["label"]
    same_label = client.get("/v1/analyses", params={"label": label}).json()["items"]
    assert ids[0] in [item["id"] for item in same_label]
    other = "ai-generated" if label != "ai-generated" else "authentic"
    assert ids[0] not in [item["id"] for item in client.get("/v1/analyses", params={"label": other}).json()["items"]]

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/v1/analyses", params={"since": future}).json()["total"] == 0
    assert client.get("/v1/analyses", params={"until": future}).json()["total"] == 3


def test_feedback_is_kept_with_the_analysis(client: TestClient) -> None:
    analysis = analyse(client, jpeg_bytes(seed=6))
    response = client.post(
        f"/v1/analyses/{analysis['id']}/feedback", json={"label": "ai-generated", "note": "from a known generator"}
    )
    assert response.status_code == 201 and response.json()["label"] == "ai-generated"
    assert client.get(f"/v1/analyses/{analysis['id']}").json()["feedback"][0]["note"] == "from a known generator"
    bad = client.post(f"/v1/analyses/{analysis['id']}/feedback", json={"label": "fake"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    assert client.post("/v1/analyses/nope/feedback", json={"label": "authentic"}).status_code == 404


def test_delete_removes_the_result_and_the_stored_bytes(client: TestClient) -> None:
    analysis = analyse(client, jpeg_bytes(seed=7))
    state = client.app.state.realeyes  # type: ignore[attr-defined]
    upload = state.files.upload_path(analysis["sha256"])
    assert upload.exists()
    assert client.delete(f"/v1/analyses/{analysis['id']}").status_code == 204
    assert not upload.exists()
    assert client.get(f"/v1/analyses/{analysis['id']}").status_code == 404
    assert client.get(analysis["maps"]["ela"]).status_code == 404
    assert client.delete(f"/v1/analyses/{analysis['id']}").status_code == 404


def test_a_map_gone_from_the_file_store_is_a_410_that_says_so(client: TestClient) -> None:
    analysis = analyse(client, jpeg_bytes(seed=8))
    state = client.app.state.realeyes  # type: ignore[attr-defined]
    state.files.map_path(analysis["id"], "ela").unlink()
    gone = client.get(analysis["maps"]["ela"])
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "file_missing"
    assert client.get(analysis["maps"]["noise"]).status_code == 200  # the rest of the record is untouched
    assert client.get(f"/v1/analyses/{analysis['id']}").status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.4 not really", 200, None),  # a PDF is accepted for provenance only
        (b"just some text, not an image", 415, "unsupported_media"),
        (b"", 422, "corrupt_media"),
        (jpeg_bytes(seed=8)[:300], 422, "corrupt_media"),
        (png_bomb(), 413, "media_too_large"),
    ],
    ids=["pdf", "text", "empty", "truncated-jpeg", "decompression-bomb"],
)
def test_bad_uploads_get_a_clear_error(client: TestClient, data: bytes, status: int, code: str | None) -> None:
    response = client.post("/v1/analyses", files={"file": ("upload.bin", data, "application/octet-stream")})
    assert response.status_code in ((200, 201) if status == 200 else (status,)), response.text
    if code is not None:
        error = response.json()["error"]
        assert error["code"] == code and error["message"]
        assert error["request_id"] == response.headers["x-request-id"]
        assert "Traceback" not in response.text


def test_request_errors_are_json_with_the_request_id(client: TestClient) -> None:
    missing = client.post("/v1/analyses", headers={"X-Request-ID": "trace-me-1"})
    assert missing.status_code == 422
    assert missing.json()["error"] == {
        "code": "invalid_request",
        "message": missing.json()["error"]["message"],
        "request_id": "trace-me-1",
    }
    assert "file" in missing.json()["error"]["message"]
    unknown = client.get("/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert client.get("/v1/analyses", params={"limit": 0}).status_code == 422
    assert client.get("/v1/analyses/none/maps/../../etc.png").status_code == 404


def test_upload_limit_is_enforced_before_and_while_streaming(make_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(max_upload_bytes=4096)
    big = jpeg_bytes(seed=9, width=1024, height=768)
    declared = client.post("/v1/analyses", files={"file": ("big.jpg", big, "image/jpeg")})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit must stop the stream itself
        boundary = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
        yield boundary
        for _ in range(200):
            yield b"\0" * 4096
        yield b"\r\n--b--\r\n"

    streamed = client.post(
        "/v1/analyses", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "payload_too_large"


def test_predict_compatibility_shape(client: TestClient) -> None:
    body = client.post("/predict", files={"file": ("p.jpg", jpeg_bytes(seed=11), "image/jpeg")}).json()
    assert body["label"] in ("real", "fake")
    assert body["probs"]["fake"] == body["score"] and abs(body["probs"]["real"] + body["score"] - 1) < 1e-3
    assert body["confidence"] >= 0.5 and body["threshold"] == 0.6
    assert body["mask_base64"] is None  # no localizer model in this test
    assert body["label"] == ("fake" if body["score"] >= body["threshold"] else "real")


def test_health_readiness_catalogue_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "model_loaded": False, "model_version": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "queue": "ok", "models": "ok"}
    assert client.get("/health").json()["status"] == "ok"
    analyzers = {a["name"]: a for a in client.get("/v1/analyzers").json()["analyzers"]}
    assert analyzers["ela"]["available"] is True
    assert analyzers["classifier"]["available"] is False and analyzers["classifier"]["unavailable_reason"]
    assert client.get("/v1/models").json() == {"models": []}

    analyse(client, jpeg_bytes(seed=12))
    text = client.get("/metrics").text
    for name in (
        'realeyes_http_requests_total{method="POST",route="/v1/analyses",status="201"}',
        "realeyes_http_request_duration_seconds_bucket",
        'realeyes_analyzer_duration_seconds_count{analyzer="ela"}',
        "realeyes_verdicts_total",
        "realeyes_p_fake_bucket",
        'realeyes_jobs{status="queued"}',
    ):
        assert name in text, name


def test_readiness_reports_an_unreachable_database(make_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(database_url=f"sqlite:///{tmp_path / 'gone' / 'db.sqlite'}")
    state = client.app.state.realeyes
    state.database.engine.dispose()
    shutil.rmtree(tmp_path / "gone")
    (tmp_path / "gone").write_text("not a directory")  # the database path can no longer be opened
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
    listing = client.get("/v1/analyses")
    assert listing.status_code == 503 and listing.json()["error"]["code"] == "database_unavailable"


def test_readiness_needs_every_promoted_model_loaded(make_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import SHIPPED_MODELS
    from realeyes.config import Settings
    from realeyes.models import Registry

    ready = make_client(engine_settings=Settings(models_dir=SHIPPED_MODELS)).get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["models"] == "ok"

    broken = tmp_path / "models"
    shutil.copytree(SHIPPED_MODELS, broken)
    promoted = broken / Registry(broken).promoted_paths()["localizer"] / "model.onnx"
    promoted.write_bytes(b"not the model the card's sha256 names")
    unready = make_client(engine_settings=Settings(models_dir=broken)).get("/readyz")
    assert unready.status_code == 503 and "localizer" in unready.json()["checks"]["models"]


def test_the_api_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "cdn." not in page.text and "/docs-assets/swagger-ui-bundle.js" in page.text
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
