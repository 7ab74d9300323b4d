"""Hardened edges of the service (issue 11): bounded metric labels, per-file decoder failures, safe downloads,
security headers and model cards without build-host details."""

from __future__ import annotations

import io
import re
import struct
import uuid
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.conftest import ClientFactory
from service.jobs_helpers import finished, submit, wait_for
from service.service_media import jpeg_bytes


@pytest.fixture
def sqlite_client(make_client: ClientFactory, tmp_path: Path) -> TestClient:
    return make_client(database_url=f"sqlite:///{tmp_path / 'hardening.db'}")


def _label_values(metrics_text: str, metric: str, label: str) -> set[str]:
    pattern = re.compile(rf'^{metric}\{{[^}}]*\b{label}="([^"]*)"', re.MULTILINE)
    return set(pattern.findall(metrics_text))


# ------------------------------------------------------------------ finding 4: bounded metric labels


def test_made_up_methods_and_paths_do_not_grow_the_metric_labels(sqlite_client: TestClient) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    for index in range(20):
        sqlite_client.request(f"X{tag}{index}", "/healthz")
        sqlite_client.request(f"Y{tag}{index}", f"/no/such/{tag}/{index}")
        sqlite_client.get(f"/v1/analyses/{tag}{index}")  # a real route with a path parameter
        sqlite_client.get(f"/static/{tag}{index}.js")  # a mounted app
    body = sqlite_client.get("/metrics").text
    methods = _label_values(body, "realeyes_http_requests_total", "method")
    routes = _label_values(body, "realeyes_http_requests_total", "route")
    assert methods and methods <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "TRACE",
        "CONNECT",
        "other",
    }
    assert "other" in methods
    assert not any(tag in route for route in routes), routes  # templates, never the raw path
    assert "/v1/analyses/{analysis_id}" in routes
    latency_methods = _label_values(body, "realeyes_http_request_duration_seconds_count", "method")
    assert not any(tag in method for method in latency_methods)


# ------------------------------------------------------------------ finding 6: decoder exceptions are per-file errors


def animated_gif(side: int = 8, frames: int = 3) -> bytes:
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (side, side, 3)).astype(np.uint8)) for _ in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def gif_raising_struct_error() -> bytes:
    """A truncated animated GIF on which Pillow's own reader raises struct.error (not an OSError)."""
    data = animated_gif()
    for cut in range(len(data) // 4, len(data)):
        try:
            with Image.open(io.BytesIO(data[:cut])) as image:
                _ = image.n_frames
                image.load()
        except struct.error:
            return data[:cut]
        except Exception:  # noqa: S112 - only looking for the cut that raises struct.error
            continue
    pytest.skip("this Pillow raises no struct.error on a truncated GIF")


def zip_with_a_corrupt_member(good: bytes) -> bytes:
    """A zip whose central directory is fine but whose second member's deflate stream is garbage (zlib.error)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("good.jpg", good)
        archive.writestr("broken.jpg", bytes(range(256)) * 64)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("broken.jpg")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + info.compress_size] = b"\xff" * info.compress_size  # an invalid block type
    return bytes(data)


def test_a_decoder_exception_is_a_422_not_a_500(sqlite_client: TestClient) -> None:
    response = sqlite_client.post("/v1/analyses", files={"file": ("cut.gif", gif_raising_struct_error(), "image/gif")})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "corrupt_media" and "GIF" in error["message"]
    assert "Traceback" not in response.text


def test_a_batch_job_goes_on_past_a_file_whose_decoder_raises(sqlite_client: TestClient) -> None:
    good = jpeg_bytes(seed=90)
    job = submit(sqlite_client, [("good.jpg", good), ("cut.gif", gif_raising_struct_error())])
    job = wait_for(sqlite_client, job["id"], finished, timeout=60)
    assert job["status"] == "succeeded", job
    items = {item["name"]: item for item in job["result"]["items"]}
    assert "analysis_id" in items["good.jpg"]
    assert items["cut.gif"]["error"]["code"] == "corrupt_media"


def test_a_zip_member_that_cannot_be_inflated_fails_alone(sqlite_client: TestClient) -> None:
    archive = zip_with_a_corrupt_member(jpeg_bytes(seed=91))
    with zipfile.ZipFile(io.BytesIO(archive)) as check, pytest.raises(zlib.error):
        check.read("broken.jpg")
    job = submit(sqlite_client, [("batch.zip", archive)])
    job = wait_for(sqlite_client, job["id"], finished, timeout=60)
    assert job["status"] == "succeeded", job
    items = {item["name"]: item for item in job["result"]["items"]}
    assert "analysis_id" in items["good.jpg"]
    assert items["broken.jpg"]["error"]["code"] == "corrupt_media"
    assert "error" in items["broken.jpg"]["error"]["message"]
