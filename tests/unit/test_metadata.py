"""Metadata analyzer: generator chunks, IPTC source type, software names and camera EXIF."""

from __future__ import annotations

import json

import numpy as np
import pytest

from realeyes import Engine, samples
from realeyes.analyzers import create
from realeyes.media import load_media


def metadata_of(data: bytes):  # type: ignore[no-untyped-def]
    return create("metadata").analyze(load_media(data))


@pytest.mark.parametrize(
    ("chunks", "generator"),
    [
        ({"parameters": samples.sd_webui_parameters()}, "Stable Diffusion web UI"),
        ({"prompt": samples.comfyui_prompt(), "workflow": json.dumps({"nodes": []})}, "ComfyUI"),
        (
            {"Software": "NovelAI", "Comment": json.dumps({"n_samples": 1, "uc": "lowres", "steps": 28})},
            "NovelAI",
        ),
        (
            {"Description": "a cat astronaut --ar 3:2 --v 6 Job ID: 0a1b2c3d-0a1b-4c2d-8e3f-0a1b2c3d4e5f"},
            "Midjourney",
        ),
        ({"invokeai_metadata": json.dumps({"positive_prompt": "x"})}, "InvokeAI"),
    ],
)
def test_generator_text_chunks_are_decisive(photo: np.ndarray, chunks: dict[str, str], generator: str) -> None:
    evidence = metadata_of(samples.png_bytes(photo, chunks))
    assert evidence.decisive and evidence.label == "ai-generated"
    assert generator in {marker["generator"] for marker in evidence.details["generator_markers"]}
    assert generator in evidence.summary


def test_web_ui_parameters_in_jpeg_user_comment_are_found(photo: np.ndarray) -> None:
    comment = b"UNICODE\x00" + samples.sd_webui_parameters().encode("utf-16-be")
    evidence = metadata_of(samples.jpeg_bytes(photo, exif={0x9286: comment}))
    assert evidence.decisive
    assert evidence.details["generator_markers"][0]["field"] == "EXIF UserComment"


def test_ordinary_png_text_is_not_a_generator_marker(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.png_bytes(photo, {"Title": "Harbour at dusk", "Author": "Ana"}))
    assert evidence.score is None and evidence.details["generator_markers"] == []


def test_xmp_digital_source_type_is_decisive(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.jpeg_bytes(photo, xmp=samples.xmp_with_source_type("trainedAlgorithmicMedia")))
    assert evidence.decisive and evidence.details["xmp_digital_source_type"] == "trainedAlgorithmicMedia"


def test_generator_name_in_software_field_is_decisive(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.jpeg_bytes(photo, exif={0x0131: "Adobe Firefly"}))
    assert evidence.decisive and "Firefly" in evidence.summary


def test_editor_in_software_field_is_weak_manipulation_evidence(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.jpeg_bytes(photo, exif={0x0131: "Adobe Photoshop 25.0 (Windows)"}))
    assert evidence.label == "manipulated" and not evidence.decisive and evidence.weight < 0.5


def test_camera_exif_is_weak_authenticity_evidence(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.jpeg_bytes(photo, exif=samples.camera_exif()))
    assert evidence.label == "authentic" and not evidence.decisive
    assert evidence.details["camera"]["Model"] == "Canon EOS 5D Mark IV"
    assert "Canon EOS 5D Mark IV, taken 2024:05:17 10:42:07" in evidence.summary
    assert "weak evidence" in evidence.summary


def test_camera_jpeg_is_not_labelled_ai_by_provenance_alone(engine: Engine, photo: np.ndarray) -> None:
    verdict = engine.analyze(samples.jpeg_bytes(photo, exif=samples.camera_exif()))
    assert verdict.label in ("inconclusive", "authentic")
    assert verdict.p_fake < verdict.threshold


def test_no_metadata_says_absence_is_weak(photo: np.ndarray) -> None:
    evidence = metadata_of(samples.jpeg_bytes(photo))
    assert evidence.score is None and "absence is weak evidence" in evidence.summary
