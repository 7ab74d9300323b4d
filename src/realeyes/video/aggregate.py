"""From per-frame and per-face scores to one video score, robustly.

A face swap rarely fools the model on every frame, and a detector's false positive rarely persists, so:
- each tracked face (a person) scores the mean of its `top_k` highest face-forgery probabilities, and only
  tracks seen in at least `min_hits` sampled frames count;
- the video's face score is the highest person score (one swapped face is enough);
- the fraction of sampled frames with any face over the model's threshold is reported beside it.
Without faces the whole-frame classifier's top-k mean speaks instead (it is an image model: weaker on video)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOP_K = 3
MIN_HITS = 2


@dataclass
class Aggregate:
    score: float | None
    source: str  # "faces" | "frames" | "none"
    details: dict[str, Any]


def top_k_mean(values: list[float], k: int = TOP_K) -> float:
    return float(np.mean(sorted(values, reverse=True)[:k]))


def aggregate(timeline: list[dict[str, Any]], face_threshold: float | None) -> Aggregate:
    per_track: dict[int, list[float]] = {}
    for entry in timeline:
        for face in entry["faces"]:
            if face["score"] is not None:
                per_track.setdefault(face["track"], []).append(face["score"])
    tracks = [
        {"track": track, "frames": len(scores), "score": round(top_k_mean(scores), 4), "max": round(max(scores), 4)}
        for track, scores in sorted(per_track.items())
    ]
    persistent = [track for track in tracks if track["frames"] >= MIN_HITS]
    frame_scores = [entry["frame_score"] for entry in timeline if entry["frame_score"] is not None]
    over = None
    if face_threshold is not None and timeline:
        flagged = sum(any((f["score"] or 0.0) >= face_threshold for f in entry["faces"]) for entry in timeline)
        over = round(flagged / len(timeline), 4)
    details = {
        "method": f"max over persons (tracks seen in >= {MIN_HITS} samples) of the mean of their top {TOP_K} "
        "face-forgery probabilities; without faces, the top-3 mean of whole-frame classifier probabilities",
        "top_k": TOP_K,
        "tracks": tracks,
        "frames_over_face_threshold": over,
        "frame_score_top_k": round(top_k_mean(frame_scores), 4) if frame_scores else None,
    }
    if persistent:
        return Aggregate(max(track["score"] for track in persistent), "faces", details)
    if frame_scores:
        return Aggregate(top_k_mean(frame_scores), "frames", details)
    return Aggregate(None, "none", details)
