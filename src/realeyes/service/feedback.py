"""Feedback review: labels from non-admin callers wait as `pending` and reach retraining only once an admin
accepts them (issue 11 #10). Shared by `POST /v1/feedback/{id}/review` and `realeyes feedback review`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select

from realeyes.store import Database, Feedback, FeedbackStatus

Decision = Literal["accept", "reject"]
DECISIONS: dict[str, FeedbackStatus] = {"accept": FeedbackStatus.accepted, "reject": FeedbackStatus.rejected}


def list_feedback(
    database: Database, status: FeedbackStatus | None = FeedbackStatus.pending, limit: int = 100, offset: int = 0
) -> tuple[list[Feedback], int]:
    """Feedback with this status (every status with None), oldest first, and how many there are in all."""
    conditions = [] if status is None else [Feedback.status == status.value]
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Feedback).where(*conditions)) or 0
        rows = session.scalars(
            select(Feedback).where(*conditions).order_by(Feedback.created_at, Feedback.id).limit(limit).offset(offset)
        ).all()
        return list(rows), total


def review(database: Database, feedback_id: str, decision: Decision, reviewer: str) -> Feedback | None:
    """Accept or reject one feedback (a decision may be changed later); None when there is no such feedback."""
    with database.session() as session:
        feedback = session.get(Feedback, feedback_id)
        if feedback is None:
            return None
        feedback.status = DECISIONS[decision].value
        feedback.reviewed_at, feedback.reviewed_by = datetime.now(UTC), reviewer[:100]
        session.flush()
        return feedback
