"""The video analyzer through the Engine, the CLI and the job API."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from conftest import SHIPPED_MODELS
from realeyes import Engine
from realeyes.analyzers.base import FaceScore, Sample, Timeline
from realeyes.cli import main
from realeyes.config import Settings
from realeyes.video.aggregate import aggregate
from realeyes.video.analyzer import VideoAnalyzer
from realeyes.video.faces import Box, FaceTracker, face_crop
from service.conftest import make_client  # noqa: F401 - the fixture
from video.video_media import encode_video


def video_evidence(verdict_dict: dict) -> dict:
    return next(e for e in verdict_dict["evidence"] if e["analyzer"] == "video")


def test_a_video_gets_a_timeline_and_the_dfd_meta_fields() -> None:
    verdict = Engine().analyze(encode_video(seconds=3.0, fps=25)).to_dict()
    evidence = video_evidence(verdict)
    meta = verdict["timeline"]["meta"]
    assert meta["source_fps"] == 25 and meta["sampling_fps"] == 2.0 and meta["sampling_step_frames"] == 12
    assert meta["sampled_frames"] == 6 and meta["complete"] is True
    assert meta["frames_with_faces"] == 0 and meta["face_detect_rate"] == 0.0  # no faces in these frames
    assert [sample["time"] for sample in verdict["timeline"]["samples"]] == [0.0, 0.52, 1.0, 1.52, 2.0, 2.52]
    assert "timeline" not in evidence and "timeline" not in evidence["details"]  # one place: the verdict's
    assert evidence["score"] is None and "no face-forgery or classifier model" in evidence["summary"]
    assert {e["analyzer"] for e in verdict["evidence"]} == {"c2pa", "video_metadata", "video"}  # no pixel analyzer


def test_with_the_shipped_classifier_frames_are_scored_and_key_frames_kept_out_of_the_result() -> None:
    verdict = Engine(Settings(models_dir=SHIPPED_MODELS)).analyze(encode_video(seconds=2.0, size=(640, 480)))
    record = verdict.to_dict()
    evidence = video_evidence(record)
    assert all(0 <= sample["frame_score"] <= 1 for sample in record["timeline"]["samples"])
    assert evidence["score"] is not None and evidence["details"]["aggregation"]["source"] in ("faces", "frames")
    assert verdict.timeline is not None
    key_frames = verdict.timeline.key_frames
    assert 1 <= len(key_frames) <= 3 and key_frames[0].pixels.shape == (240, 320, 3)  # 320 px on the long side
    assert [k.score for k in key_frames] == sorted((k.score for k in key_frames), reverse=True)
    described = record["timeline"]["key_frames"]
    assert [k["name"] for k in described] == [f"frame-{rank}" for rank in range(1, len(key_frames) + 1)]
    assert set(described[0]) == {"name", "time", "score"}  # no pixels in the JSON result


def test_scan_cli_reports_a_video(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_video(seconds=2.0))
    result = CliRunner().invoke(main, ["scan", str(clip), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)[0]
    assert record["media"]["kind"] == "video" and record["timeline"]["meta"]["sampled_frames"] == 4


def test_scan_saves_a_videos_key_frames_beside_the_maps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_video(seconds=2.0, size=(640, 480)))
    env = {"REALEYES_MODELS_DIR": str(SHIPPED_MODELS)}
    result = CliRunner().invoke(main, ["scan", str(clip), "--json", "--save-maps", str(tmp_path / "out")], env=env)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)[0]
    names = [frame["name"] for frame in record["timeline"]["key_frames"]]
    assert names and record["frames"] == {name: str(tmp_path / "out" / f"clip.{name}.jpg") for name in names}
    assert all((tmp_path / "out" / f"clip.{name}.jpg").read_bytes()[:3] == b"\xff\xd8\xff" for name in names)


def test_tracks_follow_a_moving_face_and_split_distant_ones() -> None:
    tracker = FaceTracker()
    assert tracker.update(0, [Box(100, 100, 80, 80), Box(400, 100, 80, 80)]) == [0, 1]
    assert tracker.update(1, [Box(405, 104, 80, 80), Box(110, 102, 80, 80)]) == [1, 0]
    assert tracker.update(2, [Box(700, 300, 60, 60)]) == [2]


def test_face_crop_is_square_with_margin_and_pads_at_the_border() -> None:
    import numpy as np

    frame = np.zeros((200, 300, 3), dtype=np.uint8)
    frame[50:150, 100:200] = 255  # the "face" box
    crop = face_crop(frame, Box(100, 50, 100, 100), size=64, margin=0.25)
    assert crop.shape == (64, 64, 3)
    assert crop[32, 32].tolist() == [255, 255, 255] and crop[2, 2].tolist() == [0, 0, 0]  # margin shows context
    assert face_crop(frame, Box(0, 0, 60, 60), size=32).shape == (32, 32, 3)  # leaves the frame: reflected


def test_aggregation_speaks_for_the_main_subject_and_lists_everyone() -> None:
    def entry(faces: list[tuple[int, float, int]], frame_score: float = 0.2) -> Sample:
        return Sample(0.0, 0, frame_score, tuple(FaceScore(t, (0, 0, side, side), s) for t, s, side in faces))

    # Track 0 is the large face in front; track 1 a small bystander; track 2 was seen once.
    timeline = [
        entry([(0, 0.1, 200), (1, 0.9, 60)]),
        entry([(0, 0.2, 200), (1, 0.8, 60)]),
        entry([(0, 0.15, 200), (2, 0.99, 300)]),
    ]
    result = aggregate(timeline, face_threshold=0.5)
    assert result.source == "faces" and result.score == pytest.approx(0.15)
    assert result.details["main_track"] == 0
    assert {t["track"]: t["score"] for t in result.details["tracks"]} == {0: 0.15, 1: 0.85, 2: 0.99}
    assert result.details["frames_over_face_threshold"] == 1.0
    assert aggregate([entry([]), entry([], 0.6)], 0.5).source == "frames"


def test_a_few_odd_frames_do_not_make_a_real_face_look_swapped() -> None:
    real = [0.1] * 8 + [0.95, 0.99]  # eight ordinary frames, two blurred or turned ones the model dislikes
    swapped = [0.9] * 8 + [0.05, 0.1]  # a swap the model misses on two frames
    timeline = [
        Sample(0.0, 0, None, (FaceScore(0, (0, 0, 90, 90), r), FaceScore(1, (0, 0, 80, 80), s)))
        for r, s in zip(real, swapped, strict=True)
    ]
    tracks = {track["track"]: track["score"] for track in aggregate(timeline, 0.5).details["tracks"]}
    assert tracks[0] == pytest.approx(0.1) and tracks[1] == pytest.approx(0.9)


def test_videos_go_through_jobs_with_progress(make_client) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client = make_client()
    data = encode_video(seconds=4.0)
    refused = client.post("/v1/analyses", files={"file": ("clip.mp4", data, "video/mp4")})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "video_requires_job"
    job = client.post("/v1/jobs", files=[("files", ("clip.mp4", data, "video/mp4"))]).json()
    assert job["kind"] == "video"
    deadline = time.monotonic() + 60
    while (status := client.get(f"/v1/jobs/{job['id']}").json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["status"] == "succeeded" and status["progress"]["fraction"] == 1.0
    analysis = client.get(f"/v1/analyses/{status['result']['items'][0]['analysis_id']}").json()
    assert analysis["media"]["kind"] == "video"
    assert len(analysis["timeline"]["samples"]) == 8
    # The key frames are files beside the result, not base64 inside it.
    assert "base64" not in json.dumps(analysis)
    frame = analysis["timeline"]["key_frames"][0]
    served = client.get(frame["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert frame["url"] == f"/v1/analyses/{analysis['id']}/frames/{frame['name']}.jpg"
    missing = client.get(f"/v1/analyses/{analysis['id']}/frames/frame-9.jpg")
    assert missing.status_code == 404 and "frame-1" in missing.json()["error"]["message"]


def test_the_face_score_decides_only_with_the_weight_its_card_earned() -> None:
    analyzer = VideoAnalyzer(Settings(models_dir=SHIPPED_MODELS))
    assert analyzer.face_model is not None
    timeline = Timeline({"sampled_frames": 10, "frames_with_faces": 10, "complete": True}, ())
    shipped = analyzer._verdict_evidence(0.9, "faces", {}, timeline)
    assert analyzer.face_model.bundle.card["fusion_weight"] == 0.0  # the 8 labelled clips did not earn it one
    assert shipped.weight == 0.0 and "Shown for review only" in shipped.summary
    analyzer.face_model.bundle.card["fusion_weight"] = 1.0  # as a bundle that earned it would carry
    earned = analyzer._verdict_evidence(0.9, "faces", {}, timeline)
    assert earned.weight == 1.0 and earned.label == "manipulated" and "review only" not in earned.summary
