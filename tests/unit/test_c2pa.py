"""C2PA analyzer against manifests signed here with an ephemeral test CA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realeyes import Engine, samples
from realeyes.analyzers import create
from realeyes.config import Settings
from realeyes.media import load_media

CONTRACT_KEYS = {
    "manifest_present",
    "validation",
    "validation_codes",
    "signer",
    "claim_generator",
    "digital_source_type",
}


@pytest.fixture(scope="module")
def signed_ai(photo: np.ndarray, identity: samples.SigningIdentity) -> bytes:
    return samples.sign_c2pa(samples.jpeg_bytes(photo), "image/jpeg", identity, "trainedAlgorithmicMedia")


def test_signed_ai_declaration_is_decisive_and_reported(signed_ai: bytes) -> None:
    evidence = create("c2pa").analyze(load_media(signed_ai))
    details = evidence.details
    assert details.keys() >= CONTRACT_KEYS
    assert details["manifest_present"] is True and details["validation"] == "valid"
    assert details["digital_source_type"] == "trainedAlgorithmicMedia"
    assert details["signer"] == "RealEyes Test Signer" and details["trusted"] is False
    assert details["validation_codes"] == ["signingCredential.untrusted"]
    assert details["claim_generator"].startswith("RealEyes sample maker 1.0")
    assert details["actions"] == ["c2pa.created"]
    assert evidence.decisive and evidence.label == "ai-generated" and evidence.score == pytest.approx(0.99)


def test_engine_labels_signed_ai_image_with_the_c2pa_reason_first(engine: Engine, signed_ai: bytes) -> None:
    verdict = engine.analyze(signed_ai)
    assert verdict.label == "ai-generated"
    assert verdict.reasons[0].startswith("Valid C2PA content credentials")
    assert "generative AI" in verdict.reasons[0]


def test_tampered_manifest_is_invalid_with_the_failure_code(signed_ai: bytes) -> None:
    tampered = bytearray(signed_ai)
    tampered[-300] ^= 0xFF  # flip one byte of image data after signing
    evidence = create("c2pa").analyze(load_media(bytes(tampered)))
    assert evidence.details["validation"] == "invalid"
    assert "assertion.dataHash.mismatch" in evidence.details["validation_codes"]
    assert evidence.label == "ai-generated" and not evidence.decisive  # the claim stands, unverified
    assert "fail validation" in evidence.summary


def test_tampered_capture_claim_points_to_manipulation(photo: np.ndarray, identity: samples.SigningIdentity) -> None:
    signed = bytearray(samples.sign_c2pa(samples.jpeg_bytes(photo), "image/jpeg", identity, "digitalCapture"))
    signed[-300] ^= 0xFF
    evidence = create("c2pa").analyze(load_media(bytes(signed)))
    assert evidence.label == "manipulated" and evidence.score is not None and evidence.score > 0.5


def test_plain_jpeg_has_no_manifest(photo: np.ndarray) -> None:
    evidence = create("c2pa").analyze(load_media(samples.jpeg_bytes(photo)))
    assert evidence.details["manifest_present"] is False and evidence.details["validation"] == "absent"
    assert evidence.score is None  # absence is not evidence


def test_trust_anchors_make_the_signer_trusted_and_a_capture_claim_decisive(
    tmp_path: Path, photo: np.ndarray, identity: samples.SigningIdentity
) -> None:
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(identity.ca_pem)
    capture = samples.sign_c2pa(samples.jpeg_bytes(photo), "image/jpeg", identity, "digitalCapture")
    trusted = create("c2pa", Settings(c2pa_trust_anchors=anchors)).analyze(load_media(capture))
    untrusted = create("c2pa").analyze(load_media(capture))
    assert trusted.details["trusted"] is True and trusted.decisive and trusted.label == "authentic"
    assert untrusted.details["trusted"] is False and not untrusted.decisive


def test_composite_with_ai_is_labelled_manipulated(
    engine: Engine, photo: np.ndarray, identity: samples.SigningIdentity
) -> None:
    composite = samples.sign_c2pa(
        samples.jpeg_bytes(photo), "image/jpeg", identity, "compositeWithTrainedAlgorithmicMedia"
    )
    verdict = engine.analyze(composite)
    assert verdict.label == "manipulated" and "AI-generated elements" in verdict.reasons[0]


def test_signed_png_is_read_too(photo: np.ndarray, identity: samples.SigningIdentity) -> None:
    signed = samples.sign_c2pa(samples.png_bytes(photo), "image/png", identity, "trainedAlgorithmicMedia")
    evidence = create("c2pa").analyze(load_media(signed))
    assert evidence.details["validation"] == "valid" and evidence.decisive
