"""Video decoding with PyAV: probe the container, then sample frames at a target rate.

Sampling seeks ahead whenever the next sample lies beyond the next keyframe (so sparse sampling of long clips
decodes little), and otherwise decodes on, because seeking lands on a keyframe and would decode the same frames
again. Frames are converted to RGB only when sampled, and never all held: callers get them one at a time."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from realeyes.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    width: int
    height: int
    fps: float | None  # average rate the container declares
    duration: float | None  # seconds
    frames: int | None  # declared frame count (0/None when the container does not say)
    rotation: int  # degrees to rotate for display
    has_audio: bool

    def describe(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": None if self.fps is None else round(self.fps, 3),
            "duration_s": None if self.duration is None else round(self.duration, 3),
            "frames": self.frames,
            "rotation": self.rotation,
            "has_audio": self.has_audio,
        }


@dataclass(frozen=True)
class Frame:
    index: int  # frame number in decode order
    time: float  # seconds from the start
    rgb: np.ndarray


def _open(data: bytes) -> av.container.InputContainer:
    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise CorruptMedia(f"The video container cannot be opened: {exc}") from exc


def probe(data: bytes, max_seconds: float, max_pixels: int) -> VideoInfo:
    """Stream facts, with the limits checked before any frame is decoded."""
    if not data:
        raise CorruptMedia("The file is empty (0 bytes).")
    with _open(data) as container:
        if not container.streams.video:
            kind = "audio only" if container.streams.audio else "no video stream"
            raise UnsupportedMedia(f"The file holds no video to analyse ({kind}).")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        duration = _duration(container, stream)
        fps = float(stream.average_rate) if stream.average_rate else None
        info = VideoInfo(
            container=container.format.name,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            fps=fps,
            duration=duration,
            frames=stream.frames or None,
            rotation=_rotation(stream),
            has_audio=bool(container.streams.audio),
        )
    if width * height > max_pixels:
        raise MediaTooLarge(f"The video is {width}x{height}; frames above {max_pixels} pixels are refused "
                            "(REALEYES_MAX_PIXELS).")  # fmt: skip
    if duration is not None and duration > max_seconds:
        raise MediaTooLarge(f"The video lasts {duration:.0f} s; at most {max_seconds:.0f} s are analysed "
                            "(REALEYES_VIDEO_MAX_SECONDS).")  # fmt: skip
    return info


MAX_TAGS, MAX_TAG_CHARS = 64, 500  # a hostile file may carry thousands of huge tags: keep what a person can read


def container_tags(data: bytes) -> dict[str, str]:
    """Container tags, then each stream's as `stream<i>.<key>` (bounded in number and length)."""
    with _open(data) as container:
        entries = list(container.metadata.items())
        for index, stream in enumerate(container.streams):
            entries += [(f"stream{index}.{key}", value) for key, value in stream.metadata.items()]
    return {str(key)[:100]: str(value)[:MAX_TAG_CHARS] for key, value in entries[:MAX_TAGS]}


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _rotation(stream: av.video.stream.VideoStream) -> int:
    for data in getattr(stream, "side_data", {}).values() if hasattr(stream, "side_data") else []:
        if isinstance(data, (int, float)):
            return int(data) % 360
    return 0


def sample_frames(data: bytes, target_fps: float, max_frames: int) -> Iterator[Frame]:
    """Frames at `target_fps` (by presentation time, so variable frame rates are handled), at most `max_frames`."""
    step = 1.0 / target_fps
    with _open(data) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads: decoding is the expensive part
        next_time, produced, index = 0.0, 0, -1
        keyframe_gap = math.inf  # learnt while decoding: seeking only pays when the target is beyond it
        last_keyframe: float | None = None
        sought = -1.0  # the target of the last seek: never seek twice for the same sample
        try:
            while True:
                restart = False
                for frame in container.decode(stream):
                    index += 1
                    if frame.time is None:
                        continue
                    if frame.key_frame:
                        if last_keyframe is not None and frame.time > last_keyframe:
                            keyframe_gap = frame.time - last_keyframe
                        last_keyframe = frame.time
                    if frame.time + 1e-6 < next_time:
                        if next_time - frame.time > keyframe_gap and next_time > sought and stream.time_base:
                            container.seek(int(next_time / stream.time_base), stream=stream, backward=True)
                            sought, restart = next_time, True
                            break
                        continue
                    yield Frame(index, float(frame.time), _upright(frame.to_ndarray(format="rgb24"), frame))
                    produced += 1
                    if produced >= max_frames:
                        return
                    next_time = max(next_time + step, float(frame.time) + step / 2)
                if not restart:
                    return  # the stream ended
        except av.error.FFmpegError as exc:
            if produced == 0:
                raise CorruptMedia(f"No frame of the video could be decoded: {exc}") from exc
            # A truncated file: keep what was decoded (the caller notes how far it got).


def _upright(rgb: np.ndarray, frame: av.VideoFrame) -> np.ndarray:
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    return np.ascontiguousarray(np.rot90(rgb, k=rotation // 90)) if rotation else rgb
