"""The decoded media object that every analyzer receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realeyes.media.sniff import Format


@dataclass(eq=False)
class Media:
    """Original bytes plus what intake extracted from them.

    `rgb` is None for containers whose pixels RealEyes does not decode (video for now, PDF, SVG, JPEG XL);
    byte-level analyzers (C2PA) still run on those.
    """

    data: bytes
    format: Format
    rgb: np.ndarray | None = None
    source: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    exif: dict[str, Any] = field(default_factory=dict)
    xmp: str | None = None
    text_chunks: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.format.kind

    @property
    def has_pixels(self) -> bool:
        return self.rgb is not None

    @property
    def pixels(self) -> np.ndarray:
        """The decoded RGB pixels; only pixel analyzers call this, and the engine runs them only when pixels exist."""
        if self.rgb is None:
            raise ValueError(f"{self.format.name} media has no decoded pixels")
        return self.rgb

    @property
    def height(self) -> int | None:
        return None if self.rgb is None else int(self.rgb.shape[0])

    @property
    def width(self) -> int | None:
        return None if self.rgb is None else int(self.rgb.shape[1])

    def describe(self) -> dict[str, Any]:
        """Plain facts about the input for reports."""
        return {
            "format": self.format.name,
            "mime": self.format.mime,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "bytes": len(self.data),
            **self.properties,
        }
