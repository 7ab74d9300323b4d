"""Request dependencies: the service state and the caller (API key, scope, rate limit)."""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import Depends, Request

from realeyes.service.auth import ANONYMOUS, Principal, lookup_key
from realeyes.service.errors import ApiError
from realeyes.service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.realeyes
    return state


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return request.headers.get("x-api-key") or None


def caller(scope: str) -> Callable[..., Principal]:
    """A dependency that admits callers holding `scope` (when auth is on) and within their rate limit."""

    def dependency(request: Request, state: ServiceState = Depends(get_state)) -> Principal:  # noqa: B008
        key = _presented_key(request)
        principal = ANONYMOUS
        if key is not None or state.auth_required:
            if key is None:
                raise ApiError(
                    401,
                    "unauthorized",
                    "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                    {"WWW-Authenticate": "Bearer"},
                )
            found = lookup_key(state.database, key)
            if found is None:
                raise ApiError(401, "unauthorized", "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
            principal = found
        if scope not in principal.scopes:
            raise ApiError(403, "forbidden", f"this key lacks the '{scope}' scope")
        client = principal.key_id or (request.client.host if request.client else "unknown")
        wait = state.limiter.hit(client)
        if wait is not None:
            raise ApiError(
                429, "rate_limited", "too many requests; retry later", {"Retry-After": str(max(1, math.ceil(wait)))}
            )
        return principal

    return dependency


analyze_caller = caller("analyze")
admin_caller = caller("admin")
