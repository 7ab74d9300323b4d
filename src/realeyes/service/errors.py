"""Every error leaves the API as {"error": {code, message, request_id}} with the right status; never a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from realeyes.application.logs import request_id
from realeyes.errors import (
    AnalysisCrashed,
    AnalysisTimeout,
    CorruptMedia,
    InsufficientStorage,
    MediaTooLarge,
    RealEyesError,
    UnsupportedMedia,
)
from realeyes.jobs import QueueUnavailable
from realeyes.store.db import DatabaseUnavailable

log = logging.getLogger(__name__)
SQLITE_FULL = 13  # "database or disk is full"
PG_DISK_FULL = "53100"
STORAGE_FULL_MESSAGE = "the server's storage is full; retry later"

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media",
    429: "rate_limited",
}
_REALEYES_STATUS: dict[type[RealEyesError], int] = {
    UnsupportedMedia: 415,
    MediaTooLarge: 413,
    CorruptMedia: 422,
    AnalysisTimeout: 422,
    AnalysisCrashed: 422,
    InsufficientStorage: 507,
    DatabaseUnavailable: 503,
    QueueUnavailable: 503,
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "request_id": request_id()}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RealEyesError)
    async def realeyes_error(_: Request, exc: RealEyesError) -> JSONResponse:
        status = next((s for kind, s in _REALEYES_STATUS.items() if isinstance(exc, kind)), 500)
        if status >= 500:
            log.error("%s: %s", exc.code, exc)
        return error_response(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]
        )
        return error_response(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        return database_error_response(exc)


def database_error_response(exc: Exception) -> JSONResponse:
    """A connection-level database failure (server down, file unreadable) is an outage, not a bug: 503, retry
    later. A database whose disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full) is a 507 like a full
    file store."""
    log.error("database error: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    cause = getattr(exc, "orig", None)
    if getattr(cause, "sqlite_errorcode", None) == SQLITE_FULL or getattr(cause, "sqlstate", None) == PG_DISK_FULL:
        return error_response(507, InsufficientStorage.code, STORAGE_FULL_MESSAGE)
    return error_response(503, "database_unavailable", "the database is unavailable; retry later")
