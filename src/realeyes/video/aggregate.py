"""From per-frame and per-face scores to one video score, robustly.

A swapped face is swapped in every frame, while a few frames of a real face (blur, a turn, a compression burst)
can look odd, so a person's score must not be driven by its worst frames:
- each tracked face (a person) scores the trimmed mean of its face-forgery probabilities (the highest and lowest
  TRIM of them left out), and only tracks seen in at least MIN_HITS sampled frames count;
- the video's face score is the main subject's: the persistent track with the largest face area summed over its
  frames. Face swaps target the main face, while background faces are small, soft and often out of focus, which
  the model confuses with a swap's smoothing (DFDC's swapped training faces are blurrier than its real ones:
  median Laplacian variance 54 against 75, scripts/face_data_checks.py): on a real clip here a defocused
  bystander scored 0.88 while the speaker scored 0.44. Every person's score is still listed;
- the fraction of sampled frames with any face over the model's threshold is reported beside it.
Without faces the whole-frame classifier's trimmed mean speaks instead (an image model: weaker on video)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from realeyes.analyzers.base import Sample

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


def aggregate(samples: list[Sample], face_threshold: float | None) -> Aggregate:
    per_track: dict[int, list[float]] = {}
    area: dict[int, int] = {}
    for sample in samples:
        for face in sample.faces:
            if face.score is not None:
                per_track.setdefault(face.track, []).append(face.score)
                area[face.track] = area.get(face.track, 0) + face.box[2] * face.box[3]
    total_area = sum(area.values()) or 1
    tracks = [
        {
            "track": track,
            "frames": len(scores),
            "score": round(trimmed_mean(scores), 4),
            "max": round(max(scores), 4),
            "prominence": round(area[track] / total_area, 4),  # its share of all scored face area
        }
        for track, scores in sorted(per_track.items())
    ]
    persistent = [track for track in tracks if track["frames"] >= MIN_HITS]
    frame_scores = [sample.frame_score for sample in samples if sample.frame_score is not None]
    over = None
    if face_threshold is not None and samples:
        flagged = sum(any((f.score or 0.0) >= face_threshold for f in sample.faces) for sample in samples)
        over = round(flagged / len(samples), 4)
    details = {
        "method": f"the main subject's (of the tracks seen in >= {MIN_HITS} samples, the largest summed face area) "
        f"{TRIM:.0%}-trimmed mean of its face-forgery probabilities; without faces, the trimmed mean of whole-frame "
        "classifier probabilities",
        "trim": TRIM,
        "tracks": tracks,
        "frames_over_face_threshold": over,
        "frame_score_trimmed_mean": round(trimmed_mean(frame_scores), 4) if frame_scores else None,
    }
    if persistent:
        main = max(persistent, key=lambda track: track["prominence"])
        return Aggregate(main["score"], "faces", {**details, "main_track": main["track"]})
    if frame_scores:
        return Aggregate(trimmed_mean(frame_scores), "frames", details)
    return Aggregate(None, "none", details)
