"""Persistence: SQLAlchemy models, sessions and Alembic migrations. Knows nothing of HTTP or tensors."""

from realeyes.store.db import Database
from realeyes.store.models import (
    Analysis,
    ApiKey,
    Base,
    DriftReport,
    Feedback,
    FeedbackStatus,
    Job,
    JobStatus,
    RateLimitWindow,
    UploadRef,
)

__all__ = [
    "Analysis",
    "ApiKey",
    "Base",
    "Database",
    "DriftReport",
    "Feedback",
    "FeedbackStatus",
    "Job",
    "JobStatus",
    "RateLimitWindow",
    "UploadRef",
]
