"""Metadata: camera EXIF, XMP/IPTC digital source type, generator text chunks and software names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from realeyes.analyzers._registry import register
from realeyes.analyzers._source_types import strongest_claim
from realeyes.analyzers.base import Analyzer, Evidence
from realeyes.labels import ACCUSATIONS
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


# Text chunks are attacker-controlled: bound what is parsed and what goes back in the details.
MAX_JSON_DEPTH = 64  # generator JSON nests a few levels; deeper is refused before parsing (no RecursionError)
MAX_LISTED_CHUNKS = 64  # text chunk names listed in the details
MAX_CHUNK_NAME = 80  # characters per listed name (PNG keywords are at most 79 bytes)
MAX_LISTED_CHARS = 2048  # all listed names together
MAX_MARKERS = 16
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # whole strings (their brackets do not count), brackets


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
        chunk_names, names_truncated = _listed_chunk_names(media.text_chunks)
        details: dict[str, Any] = {
            "camera": camera,
            "software": software or None,
            "xmp_digital_source_type": xmp_types[0] if xmp_types else None,
            "generator_markers": [marker.__dict__ for marker in markers[:MAX_MARKERS]],
            "generator_markers_truncated": len(markers) > MAX_MARKERS,
            "text_chunks": chunk_names,
            "text_chunk_count": len(media.text_chunks),
            "text_chunks_truncated": names_truncated,
            "exif_tags": len(media.exif),
            "has_xmp": media.xmp is not None,
        }
        claim = strongest_claim(xmp_types)
        if claim and claim.label in ACCUSATIONS:
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


def _listed_chunk_names(chunks: dict[str, str]) -> tuple[list[str], bool]:
    """The chunk names for the details, bounded: each name, how many and their total length. True when cut."""
    names: list[str] = []
    used = 0
    truncated = False
    for key in sorted(chunks):
        name = _short_name(key)
        if len(names) >= MAX_LISTED_CHUNKS or used + len(name) > MAX_LISTED_CHARS:
            return names, True
        truncated = truncated or name != key
        names.append(name)
        used += len(name)
    return names, truncated


def _short_name(key: str) -> str:
    return key if len(key) <= MAX_CHUNK_NAME else key[: MAX_CHUNK_NAME - 1] + "…"


def _chunk_marker(key: str, value: str) -> GeneratorMarker | None:
    """Recognise the text chunks that generator front-ends write into their PNGs."""
    key = _short_name(key)
    lowered = key.lower()
    if lowered == "parameters" and re.search(r"\bSteps:\s*\d+", value) and re.search(r"\b(Sampler|CFG scale):", value):
        return GeneratorMarker("Stable Diffusion web UI", f"text chunk '{key}'", _excerpt(value))
    if lowered in ("prompt", "workflow") and _json_object(value) is not None:
        return GeneratorMarker("ComfyUI", f"text chunk '{key}'", _excerpt(value))
    if lowered in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "dream"):
        return GeneratorMarker("InvokeAI", f"text chunk '{key}'", _excerpt(value))
    if lowered == "fooocus_scheme" or (lowered == "parameters" and "fooocus" in value.lower()):
        return GeneratorMarker("Fooocus", f"text chunk '{key}'", _excerpt(value))
    if (lowered in ("software", "source") and "novelai" in value.lower()) or (
        lowered == "comment" and {"n_samples", "uc"} <= (_json_object(value) or {}).keys()
    ):
        return GeneratorMarker("NovelAI", f"text chunk '{key}'", _excerpt(value))
    if re.search(r"\bJob ID:\s*[0-9a-f-]{36}", value) or "midjourney" in value.lower():
        return GeneratorMarker("Midjourney", f"text chunk '{key}'", _excerpt(value))
    if match := GENERATOR_NAMES.search(value):
        return GeneratorMarker(match.group(0), f"text chunk '{key}'", _excerpt(value, match.start()))
    return None


def _json_object(text: str) -> dict[str, Any] | None:
    """The text parsed as a JSON object, or None: not an object, not JSON, or nested deeper than MAX_JSON_DEPTH
    (checked first without recursion, so a chunk of a million '[' costs a scan, not a RecursionError)."""
    if not text.lstrip().startswith("{") or not _nesting_within(text, MAX_JSON_DEPTH):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _nesting_within(text: str, limit: int) -> bool:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return False
        elif token in ("]", "}"):
            depth -= 1
    return True


def _excerpt(text: str, start: int = 0, length: int = 120) -> str:
    snippet = text[max(0, start - 20) : start + length].replace("\n", " ").strip()
    return snippet + ("…" if len(text) > start + length else "")
