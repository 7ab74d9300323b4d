"""A verdict's pictures as files, one policy for every front door: maps as greyscale PNG at the analyzer's own
resolution (at most `map_max_side`; a spectrum, which is looked at rather than overlaid, at most DISPLAY_MAP_SIDE)
and a video's key frames as JPEG. The result itself never carries pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from realeyes.imaging import map_to_png, shrink
from realeyes.verdict import Verdict

DISPLAY_MAP_SIDE = 256
FRAME_QUALITY = 80


@dataclass(frozen=True)
class Pictures:
    maps: dict[str, bytes]  # map name -> PNG
    frames: dict[str, bytes]  # key frame name -> JPEG


def render(verdict: Verdict, map_max_side: int) -> Pictures:
    maps = {
        name: map_to_png(shrink(heatmap.values, map_max_side if heatmap.spatial else DISPLAY_MAP_SIDE))
        for evidence in verdict.evidence
        for name, heatmap in evidence.maps.items()
    }
    timeline = verdict.timeline
    frames = {key.name: jpeg(key.pixels, FRAME_QUALITY) for key in timeline.key_frames} if timeline else {}
    return Pictures(maps, frames)


def jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
