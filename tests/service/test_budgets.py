"""The wall-clock budget per analysis (issue 11 #2), against a live `realeyes serve`: a CPU-bomb upload is stopped
with `analysis_timeout` within the budget while another client's image is answered at once, and the in-process job
worker goes on past the bomb."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from service.live_server import running_server
from service.service_media import jpeg_bytes

BUDGET_SECONDS = 2.0


def cpu_bomb(side: int = 2048, extra_scans: int = 6000) -> bytes:
    """About 100 KB: a flat progressive JPEG whose last scan is repeated 6,000 times. libjpeg decodes every repeat
    over the whole 2048 px image, ten seconds and more of CPU."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (90, 120, 150)).save(buffer, format="JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * extra_scans + data[end:]


def png_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpeg_bytes(seed=seed))).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_cpu_bomb_times_out_within_the_budget_while_another_client_is_served(tmp_path: Path) -> None:
    env = {
        "REALEYES_ANALYSIS_TIMEOUT_SECONDS": str(BUDGET_SECONDS),
        # The scan pre-check would refuse the bomb at once; raised, the bomb reaches the decoder and only the
        # wall-clock budget can stop it.
        "REALEYES_MAX_JPEG_SCANS": "100000",
        "REALEYES_ANALYZERS": '["metadata", "ela", "noise"]',
    }
    bomb = cpu_bomb()
    with running_server(tmp_path, env) as base_url:
        with httpx.Client(base_url=base_url, timeout=60) as warm:  # the worker processes start on first use
            assert warm.post("/v1/analyses", files={"file": ("warm.png", png_bytes(1))}).status_code == 201

        answers: dict[str, Any] = {}

        def attacker() -> None:
            with httpx.Client(base_url=base_url, timeout=60) as http:
                started = time.monotonic()
                response = http.post("/v1/analyses", files={"file": ("bomb.jpg", bomb, "image/jpeg")})
                answers["bomb"] = (response, time.monotonic() - started, time.monotonic())

        thread = threading.Thread(target=attacker)
        thread.start()
        time.sleep(0.5)  # the bomb holds a worker now
        with httpx.Client(base_url=base_url, timeout=60) as victim:
            started = time.monotonic()
            response = victim.post("/v1/analyses", files={"file": ("victim.png", png_bytes(2), "image/png")})
            victim_seconds, victim_done = time.monotonic() - started, time.monotonic()
        thread.join(timeout=60)

        assert response.status_code == 201, response.text
        assert victim_seconds < BUDGET_SECONDS, f"the victim waited {victim_seconds:.1f} s"
        bomb_response, bomb_seconds, bomb_done = answers["bomb"]
        assert victim_done < bomb_done  # served while the bomb was still running
        assert bomb_response.status_code == 422
        error = bomb_response.json()["error"]
        assert error["code"] == "analysis_timeout"
        assert "REALEYES_ANALYSIS_TIMEOUT_SECONDS" in error["message"] and "Traceback" not in bomb_response.text
        assert BUDGET_SECONDS <= bomb_seconds < BUDGET_SECONDS + 3.0

        with httpx.Client(base_url=base_url, timeout=60) as http:
            # The killed worker was replaced: the next images are analysed as before.
            assert http.post("/v1/analyses", files={"file": ("after.png", png_bytes(3))}).status_code == 201
            # The in-process job worker is not held by the bomb either: its item fails alone, the next one is done.
            job = http.post(
                "/v1/jobs", files=[("files", ("bomb.jpg", bomb)), ("files", ("fine.png", png_bytes(4)))]
            ).json()
            deadline = time.monotonic() + 60
            while (state := http.get(f"/v1/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, state
                time.sleep(0.2)
            items = state["result"]["items"]
            assert state["status"] == "succeeded", state
            assert items[0]["error"]["code"] == "analysis_timeout"
            assert items[1].get("analysis_id") and "error" not in items[1]
