"""/v1/feedback: an admin key reviews the labels other keys gave (pending ones never reach retraining)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from realeyes.service import feedback as review
from realeyes.service.auth import Principal
from realeyes.service.deps import GatedRoute, admin_caller, get_state
from realeyes.service.errors import ApiError
from realeyes.service.schemas import FeedbackOut, Page
from realeyes.service.state import ServiceState
from realeyes.service.views import feedback_view
from realeyes.store import FeedbackStatus

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], route_class=GatedRoute)
State = Annotated[ServiceState, Depends(get_state)]
Admin = Annotated[Principal, Depends(admin_caller)]


@router.get("", summary="Feedback by review status, oldest first (admin)", response_model=Page[FeedbackOut])
def list_feedback(
    state: State,
    _: Admin,
    status: Literal["pending", "accepted", "rejected", "all"] = "pending",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    wanted = None if status == "all" else FeedbackStatus(status)
    rows, total = review.list_feedback(state.database, wanted, limit, offset)
    return {"items": [feedback_view(row) for row in rows], "total": total, "limit": limit, "offset": offset}


class ReviewIn(BaseModel):
    decision: Literal["accept", "reject"]


@router.post(
    "/{feedback_id}/review",
    summary="Accept (for retraining) or reject one feedback (admin)",
    response_model=FeedbackOut,
)
def review_feedback(state: State, caller: Admin, feedback_id: str, body: ReviewIn) -> dict[str, Any]:
    reviewed = review.review(state.database, feedback_id, body.decision, caller.name)
    if reviewed is None:
        raise ApiError(404, "not_found", f"no feedback {feedback_id!r}")
    return feedback_view(reviewed)
