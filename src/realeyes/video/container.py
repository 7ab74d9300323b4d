"""The `video_metadata` analyzer: what a video's container says about where it came from.

Container and stream tags (MP4/MOV atoms, Matroska tags) can name the tool that wrote the file: AI video
generators and face-swap tools, editors, a phone's camera app; and they can carry an IPTC digital source type.
Like image metadata, tags are easy to strip or forge: a generator's name is strong evidence, a camera's name weak
evidence, and their absence none. An FFmpeg encoder tag (`Lavf…`) only says the file was re-encoded, which is
true of most videos shared online, real and fake alike (it is so in every labelled clip in ../shared/data)."""

from __future__ import annotations

import re
from typing import Any

from realeyes.analyzers._registry import register
from realeyes.analyzers._source_types import strongest_claim
from realeyes.analyzers.base import Analyzer, Evidence
from realeyes.analyzers.metadata import (
    CAMERA,
    DECLARED,
    DECLARED_AUTHENTIC,
    EDITOR,
    EDITOR_NAMES,
    GENERATOR,
    GENERATOR_NAMES,
    xmp_source_types,
)
from realeyes.labels import ACCUSATIONS
from realeyes.media import Media
from realeyes.video.decode import container_tags

# Video generators and face-swap tools (whole words, case-insensitive), besides the image generators.
VIDEO_GENERATOR_NAMES = re.compile(
    r"\b(sora|google veo|veo ?[23]|kling(?: ai)?|pika ?labs|pika ?[12]\.\d|luma dream machine|dream machine|"
    r"hailuo|minimax video|runway gen-?[1-4]\w*|gen-3 alpha|synthesia|heygen|d-id|deepfacelab|faceswap|roop|"
    r"facefusion|deep-live-cam|hunyuanvideo|cogvideox?|stable video diffusion|animatediff|wan ?2\.\d)\b",
    re.IGNORECASE,
)
VIDEO_EDITOR_NAMES = re.compile(
    r"\b(premiere|after effects|davinci resolve|final cut|imovie|capcut|filmora|inshot|kinemaster|shotcut|"
    r"kdenlive|vegas pro|lumafusion)\b",
    re.IGNORECASE,
)
# Tags that name the software or carry free-form descriptions written by it; titles and artists are left out,
# where a generator's name is more likely to be the subject than the author.
_PRODUCER_KEY = re.compile(r"encoder|software|tool|comment|description|handler|creator|generator|xmp|vendor")
_CAMERA_KEYS = {
    "make": ("com.apple.quicktime.make", "com.android.manufacturer", "make"),
    "model": ("com.apple.quicktime.model", "com.android.model", "model"),
}


@register
class VideoMetadataAnalyzer(Analyzer):
    """Container and stream tags of a video: generator or face-swap tool names, IPTC source type, camera, editor."""

    name = "video_metadata"
    version = "1.0"
    media_kinds = frozenset({"video"})
    needs_pixels = False

    def analyze(self, media: Media) -> Evidence:
        tags = container_tags(media.data)
        producer = {key: value for key, value in tags.items() if _PRODUCER_KEY.search(key.lower())}
        camera = {name: tags[key] for name, keys in _CAMERA_KEYS.items() for key in keys if tags.get(key)}
        ffmpeg = any(key.endswith("encoder") and value.startswith("Lav") for key, value in tags.items())
        details: dict[str, Any] = {"tags": tags, "camera": camera, "reencoded_by_ffmpeg": ffmpeg}
        claim = strongest_claim([term for value in producer.values() for term in xmp_source_types(value)])
        if claim and claim.label in ACCUSATIONS:
            return self.evidence(
                **DECLARED, label=claim.label, details=details,
                summary=f"The video's metadata declares it {claim.meaning} ({claim.term}).",
            )  # fmt: skip
        if found := _first_match(producer, (VIDEO_GENERATOR_NAMES, GENERATOR_NAMES)):
            key, name = found
            details["generator"] = {"name": name, "tag": key, "value": producer[key]}
            return self.evidence(
                **GENERATOR, details=details,
                summary=f"The container names an AI video generator or face-swap tool ({name}) in its "
                f"'{key}' tag.",
            )  # fmt: skip
        if found := _first_match(producer, (VIDEO_EDITOR_NAMES, EDITOR_NAMES)):
            key, name = found
            return self.evidence(
                **EDITOR, details=details,
                summary=f"Exported by {name} ('{key}' tag): the video was edited (editing alone is not proof of "
                "manipulation).",
            )  # fmt: skip
        if claim and claim.label == "authentic":
            return self.evidence(
                **DECLARED_AUTHENTIC, details=details,
                summary=f"The video's metadata declares it {claim.meaning}; unsigned metadata is easy to forge.",
            )  # fmt: skip
        if {"make", "model"} <= camera.keys():
            return self.evidence(
                **CAMERA, details=details,
                summary=f"Recorded by a camera or phone according to its tags ({camera['make']} {camera['model']}); "
                "tags are easy to copy or forge, so this is weak evidence.",
            )  # fmt: skip
        reencoded = " It was re-encoded with FFmpeg, as most shared videos are." if ffmpeg else ""
        return self.evidence(
            details=details,
            summary=f"No generator, editor or camera named in the container's tags.{reencoded} Absence is weak "
            "evidence: platforms and converters rewrite these tags.",
        )


def _first_match(tags: dict[str, str], patterns: tuple[re.Pattern[str], ...]) -> tuple[str, str] | None:
    for pattern in patterns:
        for key, value in tags.items():
            if match := pattern.search(value):
                return key, match.group(0)
    return None
