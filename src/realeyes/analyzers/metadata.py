"""Metadata: camera EXIF, XMP/IPTC digital source type, generator text chunks and software names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from realeyes.analyzers._registry import register
from realeyes.analyzers._source_types import strongest_claim
from realeyes.analyzers.base import Analyzer, Evidence
from realeyes.media import Media

_CAMERA_FIELDS = (
    "Make",
    "Model",
    "LensModel",
    "DateTimeOriginal",
    "ExposureTime",
    "FNumber",
    "ISOSpeedRatings",
)
_SOURCE_TYPE_IN_XMP = re.compile(
    r"digitalsourcetype/(\w+)|DigitalSourceType\s*=\s*[\"'](\w+)[\"']|DigitalSourceType>\s*(\w+)\s*<",
    re.IGNORECASE,
)
# Software/creator names that only generators write (matched as whole words, case-insensitive); the video
# container analyzer (realeyes.video.container) uses these too.
GENERATOR_NAMES = re.compile(
    r"\b(stable[ -]?diffusion|sdxl|midjourney|dall[·\-\s]?e|firefly|novelai|comfyui|automatic1111|invokeai|"
    r"fooocus|imagen|ideogram|leonardo\.ai|flux(?:\.1)?[ -](?:dev|schnell|pro)|runway(?:ml)?|dreamstudio|"
    r"bing image creator|nightcafe|playground ?ai|kolors|pixart|gemini image)\b",
    re.IGNORECASE,
)
EDITOR_NAMES = re.compile(
    r"\b(photoshop|gimp|lightroom|affinity|pixelmator|snapseed|paint\.net|canva|picsart|facetune|luminar)\b",
    re.IGNORECASE,
)


# How much each kind of unsigned metadata counts: one policy for images and videos (realeyes.video.container).
DECLARED = {"score": 0.98, "weight": 1.0, "decisive": True}  # an IPTC source type claiming AI or editing
GENERATOR = {"score": 0.97, "weight": 1.0, "label": "ai-generated", "decisive": True}
EDITOR = {"score": 0.55, "weight": 0.15, "label": "manipulated"}  # editing is not proof of manipulation
DECLARED_AUTHENTIC = {"score": 0.3, "weight": 0.3, "label": "authentic"}
CAMERA = {"score": 0.35, "weight": 0.3, "label": "authentic"}  # easy to copy or forge


@dataclass(frozen=True)
class GeneratorMarker:
    generator: str
    field: str
    excerpt: str


@register
class MetadataAnalyzer(Analyzer):
    """EXIF camera data, XMP/IPTC digital source type, AI generator text chunks and software names."""

    name = "metadata"
    version = "1.0"
    needs_pixels = False

    def analyze(self, media: Media) -> Evidence:
        camera = {key: media.exif[key] for key in _CAMERA_FIELDS if media.exif.get(key) not in (None, "")}
        software = " ".join(str(media.exif.get(key, "")) for key in ("Software", "HostComputer", "Artist")).strip()
        xmp_types = xmp_source_types(media.xmp)
        markers = _generator_markers(media.text_chunks, software, media.xmp, media.exif.get("UserComment"))
        details: dict[str, Any] = {
            "camera": camera,
            "software": software or None,
            "xmp_digital_source_type": xmp_types[0] if xmp_types else None,
            "generator_markers": [marker.__dict__ for marker in markers],
            "text_chunks": sorted(media.text_chunks),
            "exif_tags": len(media.exif),
            "has_xmp": media.xmp is not None,
        }
        claim = strongest_claim(xmp_types)
        if claim and claim.label in ("ai-generated", "manipulated"):
            return self.evidence(
                **DECLARED, label=claim.label, details=details,
                summary=f"The image's IPTC metadata declares it {claim.meaning} ({claim.term}).",
            )  # fmt: skip
        if markers:
            generators = ", ".join(sorted({marker.generator for marker in markers}))
            return self.evidence(
                **GENERATOR, details=details,
                summary=f"Metadata written by an AI image generator ({generators}) in {markers[0].field}.",
            )  # fmt: skip
        if editor := EDITOR_NAMES.search(software):
            return self.evidence(
                **EDITOR, details=details,
                summary=f"Saved by {editor.group(0)}: the image was edited or exported by an editor "
                "(editing alone is not proof of manipulation).",
            )  # fmt: skip
        if claim and claim.label == "authentic":
            return self.evidence(
                **DECLARED_AUTHENTIC, details=details,
                summary=f"The image's IPTC metadata declares it {claim.meaning}; unsigned metadata is easy to forge.",
            )  # fmt: skip
        if {"Make", "Model"} <= camera.keys():
            taken = f", taken {camera['DateTimeOriginal']}" if "DateTimeOriginal" in camera else ""
            return self.evidence(
                **CAMERA, details=details,
                summary=f"Camera metadata present ({_camera_name(camera)}{taken}); "
                "metadata is easy to copy or forge, so this is weak evidence.",
            )  # fmt: skip
        return self.evidence(
            details=details,
            summary="No camera metadata and no generator markers; absence is weak evidence because most "
            "platforms strip metadata.",
        )


def _camera_name(camera: dict[str, Any]) -> str:
    make, model = str(camera["Make"]), str(camera["Model"])
    return model if model.lower().startswith(make.lower()) else f"{make} {model}"


def xmp_source_types(xmp: str | None) -> list[str]:
    if not xmp:
        return []
    return [next(group for group in match.groups() if group) for match in _SOURCE_TYPE_IN_XMP.finditer(xmp)]


def _generator_markers(
    chunks: dict[str, str], software: str, xmp: str | None, user_comment: Any
) -> list[GeneratorMarker]:
    markers = [marker for key, value in chunks.items() if (marker := _chunk_marker(key, value))]
    if isinstance(user_comment, str) and (marker := _chunk_marker("parameters", user_comment)):
        markers.append(GeneratorMarker(marker.generator, "EXIF UserComment", marker.excerpt))
    for field_name, text in (("EXIF Software", software), ("XMP", xmp or "")):
        if match := GENERATOR_NAMES.search(text):
            markers.append(GeneratorMarker(match.group(0), field_name, _excerpt(text, match.start())))
    return markers


def _chunk_marker(key: str, value: str) -> GeneratorMarker | None:
    """Recognise the text chunks that generator front-ends write into their PNGs."""
    lowered = key.lower()
    if lowered == "parameters" and re.search(r"\bSteps:\s*\d+", value) and re.search(r"\b(Sampler|CFG scale):", value):
        return GeneratorMarker("Stable Diffusion web UI", f"text chunk '{key}'", _excerpt(value))
    if lowered in ("prompt", "workflow") and _is_json_object(value):
        return GeneratorMarker("ComfyUI", f"text chunk '{key}'", _excerpt(value))
    if lowered in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "dream"):
        return GeneratorMarker("InvokeAI", f"text chunk '{key}'", _excerpt(value))
    if lowered == "fooocus_scheme" or (lowered == "parameters" and "fooocus" in value.lower()):
        return GeneratorMarker("Fooocus", f"text chunk '{key}'", _excerpt(value))
    if (lowered in ("software", "source") and "novelai" in value.lower()) or (
        lowered == "comment" and _is_json_object(value) and {"n_samples", "uc"} <= json.loads(value).keys()
    ):
        return GeneratorMarker("NovelAI", f"text chunk '{key}'", _excerpt(value))
    if re.search(r"\bJob ID:\s*[0-9a-f-]{36}", value) or "midjourney" in value.lower():
        return GeneratorMarker("Midjourney", f"text chunk '{key}'", _excerpt(value))
    if match := GENERATOR_NAMES.search(value):
        return GeneratorMarker(match.group(0), f"text chunk '{key}'", _excerpt(value, match.start()))
    return None


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _excerpt(text: str, start: int = 0, length: int = 120) -> str:
    snippet = text[max(0, start - 20) : start + length].replace("\n", " ").strip()
    return snippet + ("…" if len(text) > start + length else "")
