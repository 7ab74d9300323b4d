"""The Verdict every front door returns, and its stable dictionary form (docs/OUTPUT.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from realeyes.analyzers.base import Evidence, Timeline
from realeyes.labels import VerdictLabel


@dataclass
class Verdict:
    label: VerdictLabel
    p_fake: float
    threshold: float
    reasons: list[str]
    evidence: list[Evidence]
    media: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def timeline(self) -> Timeline | None:
        """A video's scores over time (from the one analyzer that reports them), None for other media."""
        return next((e.timeline for e in self.evidence if e.timeline is not None), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form without the maps and key frames (they are written separately as PNG and JPEG files)."""
        timeline = self.timeline
        return {
            "label": self.label,
            "p_fake": round(self.p_fake, 4),
            "threshold": self.threshold,
            "reasons": self.reasons,
            "evidence": [evidence_to_dict(e) for e in self.evidence],
            "media": self.media,
            "notes": self.notes,
            "versions": self.versions,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "timeline": None if timeline is None else timeline.to_dict(),
        }


def evidence_to_dict(evidence: Evidence) -> dict[str, Any]:
    return {
        "analyzer": evidence.analyzer,
        "version": evidence.version,
        "score": None if evidence.score is None else round(evidence.score, 4),
        "weight": evidence.weight,
        "label": evidence.label,
        "decisive": evidence.decisive,
        "summary": evidence.summary,
        "details": evidence.details,
        "maps": sorted(evidence.maps),
        "error": None if evidence.error is None else {"code": evidence.error.code, "message": evidence.error.message},
        "elapsed_ms": None if evidence.elapsed_ms is None else round(evidence.elapsed_ms, 2),
    }
