"""The contract every analyzer follows, and the Evidence it returns."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
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
    """

    analyzer: str
    version: str
    score: float | None = None
    weight: float = 0.0
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, Map] = field(default_factory=dict)
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
