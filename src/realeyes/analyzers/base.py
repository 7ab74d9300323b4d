"""The contract every analyzer follows, and the Evidence it returns."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from realeyes.config import Settings
from realeyes.labels import EvidenceLabel
from realeyes.media import Media

Label = EvidenceLabel
MediaKind = Literal["image", "video", "document"]


@dataclass(frozen=True)
class Map:
    """A float32 array in [0, 1] (1 = most suspicious or most energetic).

    `spatial` maps are aligned with the image (saved at its resolution); others, such as a spectrum, are not.
    """

    values: np.ndarray
    spatial: bool = True


@dataclass(frozen=True)
class FaceScore:
    track: int  # the same person across samples
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    score: float | None  # the face-forgery probability; None when no face model scored it


@dataclass(frozen=True)
class Sample:
    """One sampled video frame's scores."""

    time: float  # seconds from the start
    frame: int  # frame number in decode order
    frame_score: float | None  # the whole-frame classifier's probability
    faces: tuple[FaceScore, ...] = ()


@dataclass(frozen=True)
class KeyFrame:
    """A sampled frame shown beside the verdict; its pixels are stored as a JPEG file, not in the result."""

    name: str  # file name without extension, unique within the result
    time: float
    score: float
    pixels: np.ndarray = field(repr=False, compare=False)  # uint8 RGB


@dataclass(frozen=True)
class Timeline:
    """What a video analysis saw over time: the stream's facts, every sample's scores and the key frames."""

    meta: dict[str, Any]
    samples: tuple[Sample, ...]
    key_frames: tuple[KeyFrame, ...] = ()

    def without_pixels(self) -> Timeline:
        """The same timeline with empty key-frame pixels (once they are rendered to files)."""
        empty = np.zeros((0, 0, 3), np.uint8)
        return replace(self, key_frames=tuple(replace(key, pixels=empty) for key in self.key_frames))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form without the key frames' pixels."""
        return {
            "meta": self.meta,
            "samples": [
                {
                    "time": s.time,
                    "frame": s.frame,
                    "frame_score": s.frame_score,
                    "faces": [{"track": f.track, "box": list(f.box), "score": f.score} for f in s.faces],
                }
                for s in self.samples
            ],
            "key_frames": [{"name": k.name, "time": k.time, "score": k.score} for k in self.key_frames],
        }


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str


@dataclass
class Evidence:
    """What one analyzer found.

    score: toward "not authentic" in [0, 1], or None when the analyzer has no opinion.
    weight: how strongly fusion should trust the score (0 = display only); fitted fusion may override it.
    label: the verdict this evidence argues for when it has an opinion.
    decisive: provenance strong enough to override pixel evidence (see realeyes.fusion).
    timeline: a video's scores over time (the video analyzer's).
    """

    analyzer: str
    version: str
    score: float | None = None
    weight: float = 0.0
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, Map] = field(default_factory=dict)
    timeline: Timeline | None = None
    label: Label | None = None
    decisive: bool = False
    error: ErrorInfo | None = None
    elapsed_ms: float | None = None

    def __post_init__(self) -> None:
        if self.score is not None and not (0.0 <= self.score <= 1.0 and math.isfinite(self.score)):
            raise ValueError(f"{self.analyzer}: score must be in [0, 1] or None, got {self.score!r}")
        if not (self.weight >= 0.0 and math.isfinite(self.weight)):
            raise ValueError(f"{self.analyzer}: weight must be finite and >= 0, got {self.weight!r}")

    @property
    def ok(self) -> bool:
        return self.error is None


class Analyzer(ABC):
    """Subclasses set `name`, `version`, which media they apply to, and implement `analyze`."""

    name: ClassVar[str]
    version: ClassVar[str]
    media_kinds: ClassVar[frozenset[MediaKind]] = frozenset({"image"})
    needs_pixels: ClassVar[bool] = True

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        # The score this analyzer's vote needs in the verdict (the fusion file's `votes`), set by the engine that
        # serves it, so that its evidence says what the verdict does; None: its model card's own threshold.
        self.vote_threshold: float | None = None

    @property
    def fusion_path(self) -> Path | None:
        """Fusion coefficients fitted together with this analyzer's model, if any."""
        return None

    @property
    def model_version(self) -> str | None:
        """The learned model's name and version, for analyzers that serve one."""
        return None

    def applies_to(self, media: Media) -> bool:
        return media.kind in self.media_kinds and (media.has_pixels or not self.needs_pixels)

    @abstractmethod
    def analyze(self, media: Media) -> Evidence:
        """Examine the media and report; raise only on unexpected failure (the engine records it)."""

    def evidence(self, **fields: Any) -> Evidence:
        """An Evidence stamped with this analyzer's name and version."""
        return Evidence(analyzer=self.name, version=self.version, **fields)
