"""ASGI layers: a request id, metrics, security headers and an access log (RequestContext, outermost), and the
body-size limit (BodyLimit, inside the CORS layer)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realeyes.application import metrics
from realeyes.application.logs import reset_request_id, set_request_id
from realeyes.service.errors import error_response

log = logging.getLogger("realeyes.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file itself
# Metric label values must come from a fixed set: a client can send any method token, so others count as "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# The web UI (static/) loads its own module scripts and stylesheet, sets inline styles, shows blob:/data: images
# and calls the API on the same origin; nothing else is allowed. A response that needs another policy (the
# Swagger page, downloads of uploads) sets its own header, which is kept.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
)


class BodyTooLarge(HTTPException):
    """An HTTPException, because FastAPI turns any other error raised while parsing a form into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodyLimit:
    """The body-size limit: a declared Content-Length over it is refused before a byte of the body is read, and
    a body that grows past it while streaming stops the request. It sits inside the CORS layer, so a refusal
    carries the CORS headers a browser needs to read it (and inside RequestContext: ids, headers, metrics)."""

    def __init__(self, app: ASGIApp, body_limit: Callable[[str], int]) -> None:
        self.app = app
        self.body_limit = body_limit  # path -> largest accepted body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.body_limit(scope["path"]) + MULTIPART_OVERHEAD
        declared = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"content-length"), "")
        if declared.isdigit() and int(declared) > limit:
            await error_response(413, "payload_too_large", f"the request body exceeds {limit} bytes")(
                scope, receive, send
            )
            return
        await self.app(scope, _limited(receive, limit), send)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoopbackGuard:
    """When no API key is required (a laptop on loopback), the network position is the only credential, so:
    the Host header must name this machine (localhost, 127.0.0.1, [::1], or REALEYES_ALLOWED_HOSTS), which
    defeats DNS rebinding (a page on evil.example whose name now points at 127.0.0.1 sends Host: evil.example);
    and a state-changing request (POST, PUT, PATCH, DELETE) whose Origin is another site's is refused, which
    defeats cross-site uploads and deletes from a page the user happens to visit (CSRF). Requests without an
    Origin (curl, scripts) pass."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], allowed_origins: list[str]) -> None:
        self.app = app
        self.hosts = LOOPBACK_HOSTS | {host.lower() for host in allowed_hosts}
        self.origins = {origin.rstrip("/").lower() for origin in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get(b"host")
        if host is not None and _host_name(host) not in self.hosts:
            await error_response(
                421,
                "misdirected_request",
                "this server answers only to localhost names without API keys; add the name to REALEYES_ALLOWED_HOSTS",
            )(scope, receive, send)
            return
        origin = headers.get(b"origin")
        if scope["method"] in STATE_CHANGING and origin is not None and not self._own_origin(origin, scope, host):
            await error_response(403, "cross_origin_refused", "cross-origin requests that change state are refused")(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _own_origin(self, origin: str, scope: Scope, host: str | None) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        return host is not None and origin == f"{scope.get('scheme', 'http')}://{host.lower()}"


def _host_name(host: str) -> str:
    """The Host header without its port ("[::1]:8000" -> "[::1]", "localhost:8000" -> "localhost")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = set_request_id(rid)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                response_headers = message.setdefault("headers", [])
                response_headers.append((b"x-request-id", rid.encode()))
                add_security_headers(response_headers)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # A bug: the operator gets the traceback (with the request id), the client only the id.
            log.exception("unhandled error")
            if not started_response:
                await error_response(500, "internal_error", "internal error; quote the request id when reporting it")(
                    scope, receive, send_with_id
                )
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = method_label(scope["method"])
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)
            fields = {"method": scope["method"], "path": scope["path"], "status": status, "ms": round(elapsed * 1e3, 1)}
            log.info("request", extra={"fields": fields})
            reset_request_id(token)


def add_security_headers(headers: list[tuple[bytes, bytes]]) -> None:
    """Add the security headers a response does not set itself (a route's stricter or looser policy wins)."""
    present = {name.lower() for name, _ in headers}
    headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)


def _limited(receive: Receive, limit: int) -> Receive:
    """Count body bytes as they arrive and stop the request once the limit is passed (chunked uploads too)."""
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


def method_label(method: str) -> str:
    """The request method as a metric label: a standard method, else "other" (a bounded set of values)."""
    return method if method in KNOWN_METHODS else "other"


def _route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label values), or 'unmatched'; the router records the
    route in the scope it shares with this middleware."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
