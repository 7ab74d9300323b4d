"""Small videos the tests encode for themselves with PyAV."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

from realeyes import samples


def encode_video(
    seconds: float = 3.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    container: str = "mp4",
    audio: bool = False,
    frame_times: list[float] | None = None,
    keyframe_interval: int = 12,
    fragmented: bool = False,
    tags: dict[str, str] | None = None,
    stream_tags: dict[str, str] | None = None,
) -> bytes:
    """Moving photo-like frames; `frame_times` (seconds) gives a variable frame rate; `tags` and `stream_tags`
    are written as container and video-stream metadata (any key, as MP4 writers such as phones do)."""
    width, height = size
    times = frame_times if frame_times is not None else [i / fps for i in range(round(seconds * fps))]
    scene = samples.photo_like(width * 2, height, seed=7)
    buffer = io.BytesIO()
    flags = ["frag_keyframe", "empty_moov"] if fragmented else []  # as live streams are written
    flags += ["use_metadata_tags"] if tags and container == "mp4" else []
    options = {"movflags": "+".join(flags)} if flags else {}
    with av.open(buffer, mode="w", format=container, options=options) as out:
        out.metadata.update(tags or {})
        stream = out.add_stream(codec, rate=fps)
        stream.metadata.update(stream_tags or {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.codec_context.gop_size = keyframe_interval
        audio_stream = out.add_stream("aac", rate=16000) if audio else None
        for t in times:
            shift = int(t * 40) % width
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(scene[:, shift : shift + width]), format="rgb24")
            frame.pts = round(t * 1000)
            frame.time_base = Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if audio_stream is not None:
            _silence(out, audio_stream, times[-1] if times else seconds)
    return buffer.getvalue()


def encode_audio_only(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        _silence(out, out.add_stream("aac", rate=16000), seconds)
    return buffer.getvalue()


def _silence(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    samples_total = int(16000 * seconds)
    for start in range(0, samples_total, 1024):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
