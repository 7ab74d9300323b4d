"""From per-frame and per-face scores to one video score, robustly.

A swapped face is swapped in every frame, while a few frames of a real face (blur, a turn, a compression burst)
can look odd, so a person's score must not be driven by its worst frames:
- each tracked face (a person) scores the trimmed mean of its face-forgery probabilities (the highest and lowest
  TRIM of them left out), and only tracks seen in at least MIN_HITS sampled frames count;
- the video's face score is the highest person score (one swapped face is enough);
- the fraction of sampled frames with any face over the model's threshold is reported beside it.
Without faces the whole-frame classifier's trimmed mean speaks instead (an image model: weaker on video)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TRIM = 0.2  # share of a track's scores left out at each end
MIN_HITS = 2


@dataclass
class Aggregate:
    score: float | None
    source: str  # "faces" | "frames" | "none"
    details: dict[str, Any]


def trimmed_mean(values: list[float], trim: float = TRIM) -> float:
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    return float(np.mean(ordered[cut : len(ordered) - cut]))


def aggregate(timeline: list[dict[str, Any]], face_threshold: float | None) -> Aggregate:
    per_track: dict[int, list[float]] = {}
    for entry in timeline:
        for face in entry["faces"]:
            if face["score"] is not None:
                per_track.setdefault(face["track"], []).append(face["score"])
    tracks = [
        {"track": track, "frames": len(scores), "score": round(trimmed_mean(scores), 4), "max": round(max(scores), 4)}
        for track, scores in sorted(per_track.items())
    ]
    persistent = [track for track in tracks if track["frames"] >= MIN_HITS]
    frame_scores = [entry["frame_score"] for entry in timeline if entry["frame_score"] is not None]
    over = None
    if face_threshold is not None and timeline:
        flagged = sum(any((f["score"] or 0.0) >= face_threshold for f in entry["faces"]) for entry in timeline)
        over = round(flagged / len(timeline), 4)
    details = {
        "method": f"max over persons (tracks seen in >= {MIN_HITS} samples) of the {TRIM:.0%}-trimmed mean of "
        "their face-forgery probabilities; without faces, the trimmed mean of whole-frame classifier probabilities",
        "trim": TRIM,
        "tracks": tracks,
        "frames_over_face_threshold": over,
        "frame_score_trimmed_mean": round(trimmed_mean(frame_scores), 4) if frame_scores else None,
    }
    if persistent:
        return Aggregate(max(track["score"] for track in persistent), "faces", details)
    if frame_scores:
        return Aggregate(trimmed_mean(frame_scores), "frames", details)
    return Aggregate(None, "none", details)
