"""Response models: what the API's JSON holds, so that its OpenAPI document describes a verdict.

The views (views.py) still build the dictionaries; these models validate and document them. Stored results keep
the fields of the version that wrote them, so fields added later have defaults and unknown ones pass through
(extra="allow"); routes answer with `response_model_exclude_unset`, so a default is never invented in a reply.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from realeyes.labels import EvidenceLabel, VerdictLabel
from realeyes.store import FeedbackStatus, JobStatus

Item = TypeVar("Item", bound=BaseModel)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorOut(BaseModel):
    code: str
    message: str


class EvidenceOut(Open):
    analyzer: str
    version: str
    score: float | None = Field(None, description="Toward 'not authentic', in [0, 1]; null: no opinion.")
    weight: float = Field(0.0, description="How much fusion trusts the score (0: shown, not fused).")
    label: EvidenceLabel | None = Field(None, description="The verdict this evidence argues for.")
    decisive: bool = Field(False, description="Provenance that overrides pixel evidence.")
    summary: str = Field("", description="One line for a person.")
    details: dict[str, Any] = Field(default_factory=dict, description="Analyzer-specific facts (docs/OUTPUT.md).")
    maps: list[str] = Field(default_factory=list, description="Names of the maps this analyzer produced.")
    error: ErrorOut | None = Field(None, description="The analyzer failed; the verdict was reached without it.")
    elapsed_ms: float | None = None


class MediaOut(Open):
    format: str
    mime: str | None = None
    kind: str | None = Field(None, description="image, video or document")
    width: int | None = None
    height: int | None = None
    bytes: int | None = None


class FeedbackOut(BaseModel):
    id: str
    analysis_id: str
    label: EvidenceLabel
    note: str
    created_at: str | None
    status: FeedbackStatus = Field(description="Only accepted feedback is used for retraining.")
    reviewed_at: str | None


class FaceOut(BaseModel):
    track: int = Field(description="The same number for the same person across samples.")
    box: list[int] = Field(description="x, y, width, height in frame pixels.")
    score: float | None = Field(description="The face-forgery model's probability; null when none scored it.")


class SampleOut(BaseModel):
    time: float = Field(description="Seconds into the video.")
    frame: int = Field(description="Frame number in decode order.")
    frame_score: float | None = Field(description="The whole-frame classifier's probability.")
    faces: list[FaceOut]


class KeyFrameOut(BaseModel):
    name: str
    time: float
    score: float = Field(description="The frame's most suspicious score (a face's or the whole frame's).")
    url: str = Field(description="Its JPEG (320 px); a data: URL in results stored before key frames were files.")


class VideoMetaOut(Open):
    duration_s: float | None = None
    source_fps: float | None = None
    total_frames: int | None = None
    sampling_fps: float | None = None
    sampling_step_frames: int | None = None
    sampled_frames: int | None = None
    frames_with_faces: int | None = None
    face_detect_rate: float | None = None
    analysed_until_s: float | None = None
    complete: bool | None = Field(None, description="False when decoding stopped early (a damaged file).")


class TimelineOut(BaseModel):
    """What a video analysis saw over time (docs/OUTPUT.md, "Video")."""

    meta: VideoMetaOut
    samples: list[SampleOut]
    key_frames: list[KeyFrameOut] = Field(description="The most suspicious sampled frames, most suspicious first.")


class AnalysisOut(Open):
    """One analysis: the scan record of docs/OUTPUT.md plus where its files are and what people said about it."""

    id: str
    created_at: str | None
    filename: str
    sha256: str
    bytes: int
    cached: bool = Field(description="True: the caller's stored result for the same bytes and models.")
    label: VerdictLabel
    p_fake: float = Field(description="Probability that the media is not authentic, in [0, 1].")
    threshold: float = Field(description="p_fake at or above it means not authentic (docs/VERDICTS.md).")
    reasons: list[str] = Field(description="The top reasons in plain language, most influential first.")
    evidence: list[EvidenceOut] = Field(description="One per analyzer that applied to this file.")
    media: MediaOut
    notes: list[str] = Field(default_factory=list)
    versions: dict[str, str] = Field(default_factory=dict, description="realeyes and each analyzer's version.")
    elapsed_ms: float | None = None
    timeline: TimelineOut | None = Field(description="A video's scores over time; null for other media.")
    maps: dict[str, str] = Field(description="Map name -> URL of its greyscale PNG (255 = most suspicious).")
    image_url: str
    thumbnail_url: str
    feedback: list[FeedbackOut]
    maps_base64: dict[str, str] | None = Field(None, description="Map name -> base64 PNG, with ?maps=1 only.")


class MediaSummary(BaseModel):
    format: str
    width: int | None
    height: int | None


class AnalysisSummary(BaseModel):
    id: str
    created_at: str | None
    filename: str
    label: VerdictLabel
    p_fake: float
    media: MediaSummary
    thumbnail_url: str


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    limit: int
    offset: int


class Progress(BaseModel):
    done: int
    total: int
    fraction: float = Field(description="Finished share of the job's work, in [0, 1].")


class JobItem(Open):
    """A finished file: its analysis (analysis_id, label, p_fake) or why it could not be analysed (error)."""

    name: str
    analysis_id: str | None = None
    label: VerdictLabel | None = None
    p_fake: float | None = None
    error: ErrorOut | None = None


class JobResult(BaseModel):
    items: list[JobItem]


class JobOut(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: Progress
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    attempts: int
    error: str | None
    result: JobResult | None = Field(description="When the job has finished: one item per file.")


class Probabilities(BaseModel):
    real: float
    fake: float


class FftView(Open):
    success: bool
    image: str | None = Field(description="data:image/png;base64,… of the centred log spectrum, or null.")


class FrameSample(BaseModel):
    t: float = Field(description="Seconds into the video.")
    score: float | None


class PredictOut(Open):
    """POST /predict: the RealEyes seed's answer, with DeepGuard's fields beside it for an image and DFD's for a
    video (docs/API.md, "Compatible endpoints")."""

    label: Literal["real", "fake"] = Field(description="fake when score >= threshold (the RealEyes seed's form).")
    score: float = Field(description="p_fake of the RealEyes verdict.")
    confidence: float
    probs: Probabilities
    threshold: float
    model_version: str | None
    verdict: VerdictLabel = Field(description="The full RealEyes label, including manipulated and inconclusive.")
    analysis_id: str
    # An image (the RealEyes seed's mask, DeepGuard's raw score and FFT view)
    mask_base64: str | None = Field(None, description="The localizer's mask as base64 PNG, when there is one.")
    mask_reason: str | None = Field(None, description="Why there is no mask.")
    raw_score: float | None = None
    fft: FftView | None = None
    # A short video (DFD)
    frame_samples: list[FrameSample] | None = None
    version: str | None = None
    latency_ms: int | None = None
    meta: dict[str, Any] | None = None


class HealthzOut(BaseModel):
    status: Literal["ok"]
    model_loaded: bool = Field(description="A classifier is served (the RealEyes seed's clients read it).")
    model_version: str | None


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(description="database, queue, models: 'ok' or why not.")


class HealthOut(BaseModel):
    status: Literal["ok"]
    ok: Literal[True] = Field(description="The DFD service's field.")
    model: str | None
    models: dict[str, str] = Field(description="Served model per analyzer: its version.")


class ModelOut(BaseModel):
    task: str
    name: str
    version: str
    promoted: bool = Field(description="The registry serves this bundle for its task.")
    threshold: float | None
    metrics: Any = Field(description="The card's held-out figures (build paths cut).")
    card: dict[str, Any] = Field(description="The whole model card (build commands dropped, host paths cut).")


class ModelsOut(BaseModel):
    models: list[ModelOut]


class AnalyzerOut(BaseModel):
    name: str
    version: str
    media: str = Field(description="Comma-separated media kinds it reads.")
    summary: str
    description: str
    available: bool = Field(description="This engine runs it.")
    unavailable_reason: str | None


class AnalyzersOut(BaseModel):
    analyzers: list[AnalyzerOut]
