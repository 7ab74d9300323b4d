"""Probing and sampling videos, including the awkward ones."""

from __future__ import annotations

import pytest

from realeyes.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from realeyes.video.decode import probe, sample_frames
from video.video_media import encode_audio_only, encode_video

LIMITS = {"max_seconds": 600.0, "max_pixels": 50_000_000}


def times(data: bytes, fps: float, max_frames: int = 1000) -> list[float]:
    return [round(frame.time, 2) for frame in sample_frames(data, fps, max_frames)]


def test_probe_reports_the_stream() -> None:
    info = probe(encode_video(seconds=2.0, fps=25, audio=True), **LIMITS)
    assert (info.codec, info.width, info.height, info.has_audio) == ("h264", 320, 240, True)
    assert info.fps == pytest.approx(25, abs=0.5) and info.duration == pytest.approx(2.0, abs=0.1)


def test_frames_are_sampled_at_the_target_rate() -> None:
    data = encode_video(seconds=4.0, fps=25)
    assert times(data, 2.0) == [0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52]
    frames = list(sample_frames(data, 2.0, 1000))
    assert frames[0].rgb.shape == (240, 320, 3) and frames[1].index == 13


def test_sparse_sampling_seeks_over_keyframes_and_lands_on_time() -> None:
    data = encode_video(seconds=10.0, fps=25, keyframe_interval=25)
    assert times(data, 0.25) == [0.0, 4.0, 8.0]


def test_variable_frame_rate_is_sampled_by_presentation_time() -> None:
    # 10 fps for the first second, then 2 fps: a frame-count rule would drift, a time rule does not.
    frame_times = [i / 10 for i in range(10)] + [1.0 + i / 2 for i in range(6)]
    assert times(encode_video(frame_times=frame_times), 2.0) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]


def test_max_frames_caps_the_sampling() -> None:
    assert len(times(encode_video(seconds=4.0), 2.0, max_frames=3)) == 3


def test_webm_vp9_decodes() -> None:
    data = encode_video(seconds=1.0, fps=10, codec="libvpx-vp9", container="webm")
    assert probe(data, **LIMITS).codec == "vp9" and len(times(data, 2.0)) == 2


def test_a_truncated_video_keeps_the_frames_before_the_cut() -> None:
    data = encode_video(seconds=4.0, fragmented=True)  # self-contained fragments: those before the cut survive
    kept = times(data[: len(data) * 2 // 3], 2.0)
    assert 2 <= len(kept) < 8 and kept == times(data, 2.0)[: len(kept)]


def test_a_truncated_video_without_its_index_is_refused() -> None:
    data = encode_video(seconds=4.0)  # the mp4 index (moov) comes last, so the cut removed it
    with pytest.raises(CorruptMedia, match="cannot be opened"):
        probe(data[: len(data) * 2 // 3], **LIMITS)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", CorruptMedia, "empty"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, CorruptMedia, "cannot be opened"),
        (encode_audio_only(), UnsupportedMedia, "audio only"),
    ],
    ids=["zero-length", "garbage-after-header", "audio-only"],
)
def test_unusable_files_get_a_clear_error(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        probe(data, **LIMITS)


def test_limits_are_checked_before_decoding() -> None:
    data = encode_video(seconds=3.0)
    with pytest.raises(MediaTooLarge, match="REALEYES_VIDEO_MAX_SECONDS"):
        probe(data, max_seconds=2.0, max_pixels=50_000_000)
    with pytest.raises(MediaTooLarge, match="REALEYES_MAX_PIXELS"):
        probe(data, max_seconds=600.0, max_pixels=320 * 239)
