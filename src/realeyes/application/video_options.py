"""A request's own video settings (POST /predict): a sampling rate and a duration limit, applied in the analysis
worker (application/isolation.py), so the container is opened there and never in the API process."""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass

import av

from realeyes.engine import Engine
from realeyes.errors import VideoTooLong
from realeyes.video.decode import probe


@dataclass(frozen=True)
class VideoOptions:
    """fps: frames sampled per second instead of REALEYES_VIDEO_FPS. max_seconds: longer videos are refused
    (VideoTooLong) before any frame is decoded. Videos only."""

    fps: float | None = None
    max_seconds: float | None = None


def for_video(engine: Engine, data: bytes, video: VideoOptions) -> Engine:
    """The engine for this video: its duration checked against the request's limit, sampling at its rate."""
    if video.max_seconds is not None:
        # Only the request's limit here: the engine's own limits are still checked by the video analyzer.
        duration = probe(data, math.inf, engine.settings.max_pixels).duration
        if duration is None:  # a streamed recording (a browser's WebM): its packets say how long it is
            duration = demuxed_duration(data)
        if duration is None:
            raise VideoTooLong(
                f"The video's duration cannot be read to check it against the {video.max_seconds:g} s limit."
            )
        if duration > video.max_seconds:
            raise VideoTooLong(f"The video lasts {duration:.1f} s, over the {video.max_seconds:g} s limit.")
    return engine if video.fps is None else engine.with_video_fps(video.fps)


def demuxed_duration(data: bytes) -> float | None:
    """The video stream's end time from its packets' timestamps (read, never decoded), or None when they carry
    none. A damaged tail ends the count where it starts. The caller bounds the bytes (POST /predict's limit)."""
    end: float | None = None
    with av.open(io.BytesIO(data), mode="r") as container, contextlib.suppress(av.error.FFmpegError):
        for packet in container.demux(container.streams.video[0]):
            if packet.pts is not None and packet.time_base is not None:
                packet_end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                end = packet_end if end is None else max(end, packet_end)
    return end
