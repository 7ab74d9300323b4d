"""Tables: analyses (one per file, model versions and owner), feedback, jobs, upload references, API keys,
rate-limit windows, drift."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


# The owner of what was made without an API key (loopback mode); key ids are 32 hex digits, so never this.
ANONYMOUS_OWNER = "anonymous"


def owner_of(api_key_id: str | None) -> str:
    return api_key_id or ANONYMOUS_OWNER


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Analysis(Base):
    """One verdict, owned by the key that asked for it. (sha256, versions_key, owner) is unique: the same owner
    sending identical bytes to the same models gets the stored result; another owner gets a record of its own."""

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("sha256", "versions_key", "owner", name="uq_analyses_sha256_versions_owner"),
        Index("ix_analyses_created_at", "created_at"),
        Index("ix_analyses_label_created_at", "label", "created_at"),
        Index("ix_analyses_owner_created_at", "owner", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    versions_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    media_format: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(32))
    p_fake: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column()  # the Verdict's dict form (docs/OUTPUT.md)
    maps: Mapped[list[Any]] = mapped_column(default=list)  # names of the stored map PNGs
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(32), default=ANONYMOUS_OWNER)  # owner_of(api_key_id)
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", order_by="Feedback.created_at"
    )


class FeedbackStatus(enum.StrEnum):
    pending = "pending"  # from a non-admin caller: kept apart, never used for retraining until reviewed
    accepted = "accepted"  # reviewed (or given by an admin key): retraining may use it
    rejected = "rejected"


class Feedback(Base):
    """A person's correction of a verdict; once accepted, kept for retraining."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    analysis_id: Mapped[str] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    label: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=FeedbackStatus.pending.value)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by: Mapped[str | None] = mapped_column(String(100))  # the admin key's name, or "cli"
    analysis: Mapped[Analysis] = relationship(back_populates="feedback")


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class Job(Base):
    """Long work. The row, not the queue message, is the source of truth: a lost message is re-sent."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()  # refreshed while a worker holds the job
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    items: Mapped[list[Any]] = mapped_column()  # [{"name", "sha256"}] of the stored inputs
    done: Mapped[int] = mapped_column(Integer, default=0)
    item_progress: Mapped[float] = mapped_column(Float, default=0.0)  # of the item being analysed (videos)
    results: Mapped[list[Any]] = mapped_column(default=list)  # per finished item, in order
    error: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    # "host:pid:boot" of the process that claimed it: a job held by a dead process on this host is re-run at once.
    worker: Mapped[str | None] = mapped_column(String(128))


class UploadRef(Base):
    """Who still needs a content-addressed upload: "analysis:<id>" or "job:<id>" (a job until it ends). The
    bytes are deleted when the last reference is released."""

    __tablename__ = "upload_refs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """Only the key's SHA-256 is stored; the key itself is shown once, when created."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class RateLimitWindow(Base):
    """Requests per client in one clock minute, shared by server processes that have no Redis."""

    __tablename__ = "rate_limit_windows"

    client: Mapped[str] = mapped_column(String(200), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)


class DriftReport(Base):
    """One `realeyes drift check`: live inputs and scores compared with the served model's reference."""

    __tablename__ = "drift_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    model: Mapped[str] = mapped_column(String(100))
    window_days: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # ok | drifted | insufficient_data
    max_score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    features: Mapped[dict[str, Any]] = mapped_column()  # feature -> {psi, ks, ...}
