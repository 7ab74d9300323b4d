"""Persistence: SQLAlchemy models, sessions and Alembic migrations. Knows nothing of HTTP or tensors."""

from realeyes.store.db import Database
from realeyes.store.models import Analysis, ApiKey, Base, DriftReport, Feedback, Job, JobStatus, RateLimitWindow

__all__ = ["Analysis", "ApiKey", "Base", "Database", "DriftReport", "Feedback", "Job", "JobStatus", "RateLimitWindow"]
