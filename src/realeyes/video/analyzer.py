"""The `video` analyzer: samples frames, finds and tracks faces, scores each face with the face-forgery model
and each frame with the image classifier, and aggregates them into a video score with a timeline."""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from realeyes import progress
from realeyes.analyzers._registry import register
from realeyes.analyzers.base import Analyzer, Evidence, FaceScore, KeyFrame, Sample, Timeline
from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.config import Settings
from realeyes.errors import ModelUnavailable
from realeyes.imaging import fit_within
from realeyes.media import Media
from realeyes.models.face_forgery import FaceForgeryModel
from realeyes.video.aggregate import aggregate
from realeyes.video.decode import VideoInfo, probe, sample_frames
from realeyes.video.faces import FaceTracker, detect_faces, face_crop
from realeyes.video.mtcnn import weights_folder

log = logging.getLogger(__name__)
SUSPICIOUS_FRAMES = 3
THUMBNAIL_SIDE = 320
MAX_FACES_PER_FRAME = 4


@register
class VideoAnalyzer(Analyzer):
    """Face-swap and AI evidence over sampled video frames, with a timeline (face-forgery model + classifier)."""

    name = "video"
    version = "1.0"
    media_kinds = frozenset({"video"})
    needs_pixels = False

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        # Each model is optional: the analyzer says which it lacked rather than refusing to run.
        self.face_model: FaceForgeryModel | None = _optional(lambda: _face_model(self.settings))
        self.classifier: ClassifierAnalyzer | None = _optional(lambda: ClassifierAnalyzer(self.settings))

    @property
    def model_version(self) -> str | None:
        return self.face_model.version if self.face_model else None

    def analyze(self, media: Media) -> Evidence:
        settings = self.settings
        info = probe(media.data, settings.video_max_seconds, settings.max_pixels)
        expected = _expected_samples(info, settings.video_fps, settings.video_max_frames)
        tracker = FaceTracker()
        samples: list[Sample] = []
        keep: list[tuple[float, float, np.ndarray]] = []  # (score, time, small frame) of the most suspicious
        for number, frame in enumerate(sample_frames(media.data, settings.video_fps, settings.video_max_frames)):
            sample = self._sample(number, frame.index, frame.time, frame.rgb, tracker)
            samples.append(sample)
            suspicion = max([f.score or 0.0 for f in sample.faces] + [sample.frame_score or 0.0])
            if len(keep) < SUSPICIOUS_FRAMES or suspicion > keep[-1][0]:  # thumbnails only for the kept frames
                keep = _keep_top(keep, (suspicion, frame.time, _small(frame.rgb)))
            progress.report((number + 1) / expected if expected else 0.0)
        if not samples:
            empty = Timeline(info.describe(), ())
            return self.evidence(summary="No frame of the video could be decoded.", timeline=empty)
        face_threshold = self.face_model.threshold if self.face_model else None
        result = aggregate(samples, face_threshold)
        details = {
            "models": {
                "face_forgery": self.face_model.version if self.face_model else None,
                "frame_classifier": self.classifier.model_version if self.classifier else None,
            },
            "aggregation": {"source": result.source, **result.details},
        }
        key_frames = tuple(
            KeyFrame(f"frame-{rank}", round(t, 3), round(score, 4), rgb)
            for rank, (score, t, rgb) in enumerate(sorted(keep, key=lambda item: -item[0]), start=1)
        )
        timeline = Timeline(_meta(info, samples, settings.video_fps), tuple(samples), key_frames)
        return self._verdict_evidence(result.score, result.source, details, timeline)

    def _sample(self, number: int, index: int, time: float, rgb: np.ndarray, tracker: FaceTracker) -> Sample:
        boxes = detect_faces(rgb)[:MAX_FACES_PER_FRAME] if self.face_model is not None else []
        track_ids = tracker.update(number, boxes)
        scores: list[float | None] = [None] * len(boxes)
        if self.face_model is not None and boxes:
            model = self.face_model
            crops = [face_crop(rgb, box, model.crop, model.margin) for box in boxes]
            scores = [round(float(p), 4) for p in model.probabilities(crops)]
        frame_score = None
        if self.classifier is not None:
            logits = self.classifier.crop_logits(rgb)
            frame_score = None if logits is None else round(self.classifier.probability(logits), 4)
        faces = tuple(
            FaceScore(track, box.as_tuple(), score) for track, box, score in zip(track_ids, boxes, scores, strict=True)
        )
        return Sample(round(time, 3), index, frame_score, faces)

    def _verdict_evidence(
        self, score: float | None, source: str, details: dict[str, Any], timeline: Timeline
    ) -> Evidence:
        meta = timeline.meta
        seen = f"{meta['sampled_frames']} frames sampled, faces in {meta['frames_with_faces']}"
        if not meta["complete"]:
            seen += f"; decoding stopped at {meta['analysed_until_s']:.1f} s of {meta['duration_s']:.1f} s"
        if score is None:
            lacking = (
                "no face-forgery or classifier model is loaded"
                if not (self.face_model or self.classifier)
                else "no frame could be scored"
            )
            return self.evidence(summary=f"Video decoded ({seen}) but {lacking}.", details=details, timeline=timeline)
        if source == "faces":
            summary = f"The face-forgery model gives {score:.0%} to the main face, over its frames ({seen})."
            label = "manipulated"
            # A bundle earns a say in the verdict through its card's "fusion_weight", given only when labelled clips
            # show it beats chance (training/faces/clips.py); until then its score is shown, not fused.
            weight = float(self.face_model.bundle.card.get("fusion_weight", 0.0)) if self.face_model else 0.0
            if weight == 0.0:
                summary += (
                    " Shown for review only: labelled clips have not yet shown this model beats chance on real"
                    " videos, so it does not decide the verdict."
                )
        else:
            why = "no face-forgery model is loaded" if self.face_model is None else "no face was tracked"
            summary = f"{why.capitalize()} ({seen}); the image classifier gives {score:.0%} over the frames."
            label = "ai-generated"
            weight = 0.5  # an image model on compressed video frames: weaker than on photos
        return self.evidence(
            score=float(score), weight=weight, label=label, summary=summary, details=details, timeline=timeline
        )


def _face_model(settings: Settings) -> FaceForgeryModel:
    weights_folder()  # without the face detector the face model has nothing to score
    return FaceForgeryModel(settings)


def _optional(build: Any) -> Any:
    try:
        return build()
    except ModelUnavailable as exc:
        log.info("video analyzer without a model: %s", exc)
        return None


def _expected_samples(info: VideoInfo, fps: float, max_frames: int) -> int:
    return min(max_frames, int(info.duration * fps) + 1) if info.duration else 0


def _meta(info: VideoInfo, samples: list[Sample], fps: float) -> dict[str, Any]:
    with_faces = sum(bool(sample.faces) for sample in samples)
    step = round(info.fps / fps) if info.fps else None
    return {
        **info.describe(),
        "source_fps": None if info.fps is None else round(info.fps, 3),
        "total_frames": info.frames,
        "sampling_fps": fps,
        "sampling_step_frames": step,
        "sampled_frames": len(samples),
        "frames_with_faces": with_faces,
        "face_detect_rate": round(with_faces / len(samples), 4),
        "analysed_until_s": samples[-1].time,
        # Decoding stopped early (a truncated or damaged file): the verdict covers only what was read.
        "complete": info.duration is None or samples[-1].time >= info.duration - 2.0 / fps,
    }


def _small(rgb: np.ndarray) -> np.ndarray:
    height, width = fit_within(rgb.shape, THUMBNAIL_SIDE)
    return np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))


def _keep_top(
    kept: list[tuple[float, float, np.ndarray]], item: tuple[float, float, np.ndarray]
) -> list[tuple[float, float, np.ndarray]]:
    return sorted([*kept, item], key=lambda entry: -entry[0])[:SUSPICIOUS_FRAMES]
