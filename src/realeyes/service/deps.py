"""Request dependencies: the service state and the caller (API key, scope, rate limit).

The caller is checked once per request, by `admit`. FastAPI reads and parses a route's body (File and Form
parameters: up to 500 MB spooled on /v1/jobs) before it runs the route's dependencies, so a route that needs a
caller is a `GatedRoute`: its handler calls `admit` before the body is read, answers a refusal at once (the
dependency's own error body, through the same exception handlers), and hands the admitted caller to the
dependency, which then neither checks nor counts it again. A request that did not pass the gate (a route of
another class) is checked by the dependency itself, with the same function."""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from realeyes.service.auth import ANONYMOUS, Principal, lookup_key
from realeyes.service.errors import ApiError
from realeyes.service.state import ServiceState

# Where GatedRoute leaves the caller it admitted, in the request's ASGI scope: (scope name, principal).
ADMITTED = "realeyes.caller"


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.realeyes
    return state


def _presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return headers.get("x-api-key") or None


def admit(state: ServiceState, headers: Mapping[str, str], client_host: str | None, scope: str) -> Principal:
    """The caller of a request with these headers, if it holds `scope` (when auth is on) and is within its rate
    limit (one request counted); else ApiError 401, 403 or 429. Blocking (database, Redis): run it in a thread
    from async code."""
    key = _presented_key(headers)
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
    client = principal.key_id or (client_host or "unknown")
    wait = state.limiter.hit(client)
    if wait is not None:
        raise ApiError(
            429, "rate_limited", "too many requests; retry later", {"Retry-After": str(max(1, math.ceil(wait)))}
        )
    return principal


class CallerDependency:
    """A dependency that admits callers holding `scope` (when auth is on) and within their rate limit. GatedRoute
    finds the routes that use one (and its scope) to check the caller before the body is read."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: Request, state: ServiceState = Depends(get_state)) -> Principal:  # noqa: B008
        admitted = request.scope.get(ADMITTED)
        if admitted is not None and admitted[0] == self.scope:
            principal: Principal = admitted[1]
            return principal  # checked and counted by GatedRoute
        return admit(state, request.headers, request.client.host if request.client else None, self.scope)


def caller(scope: str) -> Callable[..., Principal]:
    """A dependency that admits callers holding `scope` (when auth is on) and within their rate limit."""
    return CallerDependency(scope)


analyze_caller = caller("analyze")
admin_caller = caller("admin")


class GatedRoute(APIRoute):
    """A route whose caller (a CallerDependency among its dependencies) is admitted before its body is read.
    Every API router uses it (`APIRouter(route_class=GatedRoute)`); a route without a caller is unchanged."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needed = caller_scope(self.dependant)
        if needed is None:
            return handler

        async def gated(request: Request) -> Response:
            client = request.client.host if request.client else None
            state = get_state(request)
            # Blocking (database, Redis): in a thread. ApiError goes to the app's handlers, as from the dependency.
            principal = await run_in_threadpool(admit, state, request.headers, client, needed)
            request.scope[ADMITTED] = (needed, principal)
            return await handler(request)

        return gated


def caller_scope(dependant: Dependant) -> str | None:
    """The scope of the first CallerDependency among a route's dependencies (at any depth), or None."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, CallerDependency):
            return dependency.call.scope
        found = caller_scope(dependency)
        if found is not None:
            return found
    return None
