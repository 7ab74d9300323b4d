"""Clip-level evaluation of a face-forgery bundle through the served video analyzer, on the labelled clips in
../shared/data/video (faceswap-ndb796 real/ and fake/; the DFDC sample clips labelled in its metadata.json).

Each clip is analysed as `realeyes scan` would (frames sampled at the configured rate, faces detected and tracked,
scores aggregated per person), with the given face model. Reported: each clip's score, the clip-level AUC with a
bootstrap interval, the share of real clips accused at the model's threshold, and a frame-level AUC over every
scored face (each face labelled with its clip's label). These clips are never trained on; there are few of them,
so read the counts and the intervals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from realeyes.config import Settings
from realeyes.media import load_media
from realeyes.models.face_forgery import FaceForgeryModel
from realeyes.training.metrics import auc_interval, roc_auc, rounded
from realeyes.video.analyzer import VideoAnalyzer


def labelled_clips(shared: Path) -> list[tuple[Path, int, str]]:
    """(path, label, data set) of every labelled clip present under SHARED/video."""
    clips = []
    swaps = shared / "video" / "faceswap-ndb796"
    clips += [(path, 0, "faceswap-ndb796") for path in sorted((swaps / "real").glob("*.mp4"))]
    clips += [(path, 1, "faceswap-ndb796") for path in sorted((swaps / "fake").glob("*.mp4"))]
    dfdc = shared / "video" / "dfdc-sample" / "train_sample_videos"
    labels = json.loads((dfdc / "metadata.json").read_text()) if (dfdc / "metadata.json").is_file() else {}
    clips += [
        (dfdc / name, int(entry["label"] == "FAKE"), "dfdc-sample")
        for name, entry in sorted(labels.items())
        if (dfdc / name).is_file()
    ]
    return clips


def _rounded(interval: tuple[float, float] | None) -> list[float] | None:
    return [round(bound, 4) for bound in interval] if interval else None


def evaluate_clips(model: FaceForgeryModel, shared: Path, settings: Settings | None = None) -> dict[str, Any]:
    analyzer = VideoAnalyzer(settings or Settings())
    analyzer.face_model = model
    rows, faces = [], []
    for path, label, source in labelled_clips(shared):
        evidence = analyzer.analyze(load_media(path, analyzer.settings))
        timeline = evidence.timeline
        samples = timeline.samples if timeline else ()
        faces += [(face.score, label) for sample in samples for face in sample.faces if face.score is not None]
        rows.append(
            {
                "clip": f"{source}/{path.name}",
                "label": label,
                "score": None if evidence.score is None else round(evidence.score, 4),
                "source": evidence.details["aggregation"]["source"],
                "face_detect_rate": timeline.meta.get("face_detect_rate") if timeline else None,
            }
        )
    scored = [row for row in rows if row["score"] is not None and row["source"] == "faces"]
    labels, scores = [row["label"] for row in scored], [row["score"] for row in scored]
    reals = [score for label, score in zip(labels, scores, strict=True) if label == 0]
    face_labels, face_scores = [label for _, label in faces], [score for score, _ in faces]
    return {
        "data": f"labelled clips under {shared / 'video'}: {sum(r['label'] for r in rows)} fake, "
        f"{sum(1 - r['label'] for r in rows)} real (never trained on)",
        "model": model.version,
        "sampling_fps": analyzer.settings.video_fps,
        "n_real": len(reals),
        "n_fake": len(scored) - len(reals),
        "clip_auc": rounded(roc_auc(labels, scores)),
        "clip_auc_ci95": _rounded(auc_interval(labels, scores)),
        "real_clips_over_threshold": sum(score >= model.threshold for score in reals),
        "threshold": model.threshold,
        "frame_level_face_auc": rounded(roc_auc(face_labels, face_scores)),
        "frame_level_face_auc_ci95": _rounded(auc_interval(face_labels, face_scores)),
        "faces_scored": len(faces),
        "clips": rows,
    }


def earned_fusion_weight(report: dict[str, Any]) -> float:
    """1 when the clip-level AUC's bootstrap interval lies above chance, else 0: weak evidence must not decide."""
    interval = report.get("clip_auc_ci95")
    return 1.0 if interval and interval[0] > 0.5 else 0.0
