"""Builders of small synthetic media with known provenance, for tests, benchmarks and the shipped samples.

Nothing here is detection logic: it makes inputs whose right answer is known (a C2PA-signed AI declaration, a
generator's PNG chunk, camera EXIF, an XMP digital source type) so that the analyzers can be checked against them.
"""

from __future__ import annotations

import datetime
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import c2pa
import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from PIL.PngImagePlugin import PngInfo

IPTC_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def photo_like(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A deterministic RGB image with gradients, shapes, texture and sensor-like noise (not a real photo)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), dtype=np.float32)
    for channel in range(3):
        fx, fy = rng.uniform(0.5, 3.0, size=2) * np.pi / max(width, height)
        image[:, :, channel] = 110 + 60 * np.sin(x * fx + channel) * np.cos(y * fy - channel)
    for _ in range(12):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.04, 0.2) * min(width, height)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < radius**2
        image[inside] = image[inside] * 0.4 + rng.uniform(20, 235, size=3) * 0.6
    image += rng.normal(0.0, 3.0, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def jpeg_bytes(rgb: np.ndarray, quality: int = 90, exif: dict[int, Any] | None = None, xmp: str | None = None) -> bytes:
    """Encode RGB as JPEG, optionally with EXIF tags ({tag id: value}) and an XMP packet."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": quality}
    if exif:
        container = Image.Exif()
        exif_ifd = {tag: value for tag, value in exif.items() if tag >= 0x8000}
        for tag, value in exif.items():
            if tag < 0x8000:
                container[tag] = value
        if exif_ifd:
            container.get_ifd(0x8769).update(exif_ifd)
        options["exif"] = container.tobytes()
    if xmp:
        options["xmp"] = xmp.encode()
    Image.fromarray(rgb).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def camera_exif(make: str = "Canon", model: str = "Canon EOS 5D Mark IV") -> dict[int, Any]:
    """EXIF tags a camera writes: make, model, capture time and exposure."""
    return {
        0x010F: make,  # Make
        0x0110: model,  # Model
        0x9003: "2024:05:17 10:42:07",  # DateTimeOriginal
        0x829A: 1 / 250,  # ExposureTime
        0x829D: 5.6,  # FNumber
        0x8827: 200,  # ISOSpeedRatings
    }


def png_bytes(rgb: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """Encode RGB as PNG with optional tEXt chunks (as generator web UIs write)."""
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def sd_webui_parameters(prompt: str = "a lighthouse at dawn, oil painting") -> str:
    """The 'parameters' text that Stable Diffusion web UIs (AUTOMATIC1111, Forge) write."""
    return (
        f"{prompt}\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, "
        "Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
    )


def comfyui_prompt() -> str:
    """A minimal ComfyUI 'prompt' chunk: the node graph as JSON."""
    return json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 7.0}}})


def xmp_with_source_type(term: str) -> str:
    """An XMP packet declaring an IPTC digital source type."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        f'Iptc4xmpExt:DigitalSourceType="{IPTC_TYPES}{term}"/></rdf:RDF></x:xmpmeta>'
    )


@dataclass(frozen=True)
class SigningIdentity:
    """An ephemeral ES256 CA and signer made for tests; the private key never leaves memory."""

    key: ec.EllipticCurvePrivateKey
    chain_pem: str
    ca_pem: str


def make_signing_identity(name: str = "RealEyes Test Signer") -> SigningIdentity:
    """A fresh CA and leaf certificate with the extensions C2PA requires of a signer."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("RealEyes Test CA")
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now, days=3650)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _certificate(_name(name), ca_name, key.public_key(), now, days=365)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return SigningIdentity(key=key, chain_pem=_pem(leaf) + _pem(ca), ca_pem=_pem(ca))


def sign_c2pa(data: bytes, mime: str, identity: SigningIdentity, digital_source_type: str) -> bytes:
    """Embed a signed C2PA manifest whose c2pa.created action declares `digital_source_type` (an IPTC term)."""
    action = {
        "action": "c2pa.created",
        "softwareAgent": {"name": "RealEyes sample maker"},
        "digitalSourceType": IPTC_TYPES + digital_source_type,
    }
    manifest = {
        "claim_generator_info": [{"name": "RealEyes sample maker", "version": "1.0"}],
        "title": "sample",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }

    def sign(payload: bytes) -> bytes:  # C2PA wants raw r||s, cryptography gives DER
        r, s = decode_dss_signature(identity.key.sign(payload, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    signer = c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, identity.chain_pem, None)
    output = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, mime, io.BytesIO(data), output)
    return output.getvalue()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RealEyes"),
        ]
    )


def _certificate(
    subject: x509.Name, issuer: x509.Name, public_key: Any, now: datetime.datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _key_usage(sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=sign_certificates, crl_sign=sign_certificates, encipher_only=False,
        decipher_only=False,
    )  # fmt: skip


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def camera_sample_jpeg() -> bytes:
    """samples/camera-exif.jpg: a photo-like scene with a camera's EXIF, as a real capture carries."""
    return jpeg_bytes(photo_like(768, 512, seed=2026), quality=85, exif=camera_exif())


def generator_sample_png() -> bytes:
    """samples/webui-parameters.png: a scene with the parameters chunk a Stable Diffusion web UI writes."""
    return png_bytes(photo_like(320, 240, seed=7), {"parameters": sd_webui_parameters()})


@dataclass(frozen=True)
class Sample:
    """A sample image offered by GET /sample/{kind} and the web UI's "try a sample" buttons."""

    kind: str
    filename: str
    media_type: str
    data: bytes


# kind -> (file name in samples/, media type, builder): the builders give the same bytes as those files, so the
# service needs no samples/ folder beside it (a wheel or the Docker image has none).
_SAMPLE_RECIPES: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "real": ("camera-exif.jpg", "image/jpeg", camera_sample_jpeg),
    "fake": ("webui-parameters.png", "image/png", generator_sample_png),
}
SAMPLE_KINDS = tuple(_SAMPLE_RECIPES)


@functools.cache
def sample(kind: str) -> Sample:
    """The sample of that kind, built once per process; ValueError names the kinds there are."""
    if kind not in _SAMPLE_RECIPES:
        raise ValueError(f"no sample {kind!r}: the kinds are {', '.join(SAMPLE_KINDS)}")
    filename, media_type, build = _SAMPLE_RECIPES[kind]
    return Sample(kind, filename, media_type, build())
