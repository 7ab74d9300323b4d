"""The IPTC Digital Source Type vocabulary, shared by the C2PA and metadata analyzers.

https://cv.iptc.org/newscodes/digitalsourcetype/ — C2PA manifests and XMP (Iptc4xmpExt:DigitalSourceType) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from realeyes.analyzers.base import Label


@dataclass(frozen=True)
class SourceTypeClaim:
    term: str
    label: Label | None  # what a declaration of this term argues for; None = neutral (e.g. digital art)
    meaning: str


_CLAIMS = {
    claim.term: claim
    for claim in (
        SourceTypeClaim("trainedAlgorithmicMedia", "ai-generated", "created by a generative AI model"),
        SourceTypeClaim("algorithmicMedia", "ai-generated", "created purely by an algorithm (synthetic)"),
        SourceTypeClaim(
            "compositeWithTrainedAlgorithmicMedia",
            "manipulated",
            "a composite that includes AI-generated elements",
        ),
        SourceTypeClaim("compositeSynthetic", "manipulated", "a composite that includes synthetic elements"),
        SourceTypeClaim("digitalCapture", "authentic", "captured by a digital camera"),
        SourceTypeClaim("computationalCapture", "authentic", "captured by a camera with computational processing"),
        SourceTypeClaim("negativeFilm", "authentic", "scanned from negative film"),
        SourceTypeClaim("positiveFilm", "authentic", "scanned from positive film"),
        SourceTypeClaim("print", "authentic", "scanned from a print"),
        SourceTypeClaim("minorHumanEdits", "authentic", "a capture with minor human edits"),
        SourceTypeClaim("humanEdits", None, "edited by a person"),
        SourceTypeClaim("algorithmicallyEnhanced", None, "enhanced by an algorithm"),
        SourceTypeClaim("compositeCapture", None, "a composite of several captures"),
        SourceTypeClaim("composite", None, "a composite of several elements"),
        SourceTypeClaim("dataDrivenMedia", None, "rendered from data"),
        SourceTypeClaim("digitalArt", None, "digital art made by a person"),
        SourceTypeClaim("digitalCreation", None, "created digitally by a person"),
        SourceTypeClaim("virtualRecording", None, "a recording of a virtual scene"),
        SourceTypeClaim("screenCapture", None, "a screen capture"),
    )
}
_NOT_AUTHENTIC_ORDER = {"ai-generated": 0, "manipulated": 1, None: 2, "authentic": 3}


def parse_source_type(value: str) -> SourceTypeClaim | None:
    """Recognise a term given as a bare word or a full IPTC URI; None if it is not in the vocabulary."""
    term = value.strip().rstrip("/").rsplit("/", 1)[-1]
    return _CLAIMS.get(term)


def strongest_claim(values: list[str]) -> SourceTypeClaim | None:
    """The most consequential claim among several (AI generation outranks composites, which outrank captures)."""
    claims = [claim for value in values if (claim := parse_source_type(value))]
    return min(claims, key=lambda claim: _NOT_AUTHENTIC_ORDER[claim.label], default=None)
