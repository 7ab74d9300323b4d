"""The FastAPI application factory. `realeyes serve` runs it with uvicorn; tests run it in-process."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from realeyes import __version__
from realeyes.application import metrics
from realeyes.application.composition import build_analyses
from realeyes.application.logs import configure_json_logging
from realeyes.application.settings import ServiceSettings
from realeyes.config import Settings
from realeyes.jobs import JobQueue, JobRunner
from realeyes.jobs.inprocess import InProcessQueue
from realeyes.jobs.redis_queue import RedisQueue
from realeyes.service.auth import RateLimiter, is_loopback
from realeyes.service.errors import install_error_handlers
from realeyes.service.middleware import BodyLimit, LoopbackGuard, RequestContext
from realeyes.service.routes import analyses, compat, feedback, jobs, system
from realeyes.service.state import ServiceState

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
PURGE_INTERVAL_SECONDS = 6 * 3600
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def keys_required(settings: ServiceSettings) -> bool:
    return settings.auth == "required" or (settings.auth == "auto" and not is_loopback(settings.listen_host))


def build_state(settings: ServiceSettings, engine_settings: Settings) -> ServiceState:
    # Analyses run in worker processes under a wall-clock budget: one per API analysis slot, one for the job thread.
    workers = settings.analysis_concurrency + (1 if settings.queue == "inprocess" else 0)
    service = build_analyses(settings, engine_settings, workers)
    engine, database = service.engine, service.database
    runner = JobRunner(service, database, settings.job_stale_seconds, settings.job_retries, metrics.JobMetrics())
    queue: JobQueue
    if settings.queue == "redis":
        queue = RedisQueue(settings.redis_url, settings.job_retries, settings.job_stale_seconds)
    else:
        queue = InProcessQueue(runner)
    auth_required = keys_required(settings)
    store = settings.resolved_rate_limit_store
    limiter = RateLimiter(
        settings.rate_limit_per_minute,
        redis_url=settings.redis_url if store == "redis" else None,
        database=database if store == "database" else None,
    )
    for analyzer in engine.analyzers:
        if analyzer.model_version:
            name, _, version = analyzer.model_version.rpartition("-")
            metrics.MODEL_INFO.labels(analyzer.name, name, version).set(1)
    return ServiceState(
        settings=settings,
        engine=engine,
        database=database,
        files=service.files,
        analyses=service,
        queue=queue,
        runner=runner,
        limiter=limiter,
        auth_required=auth_required,
        analysis_slots=threading.BoundedSemaphore(settings.analysis_concurrency),
    )


def create_app(settings: ServiceSettings | None = None, engine_settings: Settings | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    engine_settings = engine_settings or Settings()
    if os.environ.get("REALEYES_LOG_FORMAT") == "json":  # set by `realeyes serve`, so every process logs JSON
        configure_json_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await asyncio.to_thread(build_state, settings, engine_settings)
        app.state.realeyes = state
        purge = asyncio.create_task(_purge_uploads_periodically(state))
        log.info("service ready: auth %s, queue %s", "required" if state.auth_required else "off", settings.queue)
        try:
            yield
        finally:
            purge.cancel()
            # The pool first: an analysis still running is stopped, so the in-process job thread ends promptly;
            # then the queue, which waits for its threads; the database last, once nothing uses it.
            if state.analyses.pool is not None:
                state.analyses.pool.close()
            await asyncio.to_thread(state.queue.close)
            state.database.dispose()

    app = FastAPI(
        title="RealEyes",
        version=__version__,
        summary="Is this image authentic, AI-generated or manipulated — and where and why.",
        lifespan=lifespan,
        docs_url=None,  # served below from the packaged Swagger UI: FastAPI's default loads it from a CDN
        redoc_url=None,  # ReDoc is only on a CDN, which the CSP blocks: /docs is the one API page
    )
    install_error_handlers(app)
    for router in (system.router, analyses.router, feedback.router, jobs.router, compat.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="RealEyes API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP  # the page starts Swagger UI from an inline script
        return page

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    def body_limit(path: str) -> int:
        return settings.max_job_bytes if path.startswith("/v1/jobs") else settings.max_upload_bytes

    # Added inside out: RequestContext(CORS(LoopbackGuard(BodyLimit(app)))), so refusals carry the CORS headers.
    app.add_middleware(BodyLimit, body_limit=body_limit)
    if not keys_required(settings):  # no keys: check Host (DNS rebinding) and Origin (CSRF) before the body
        app.add_middleware(LoopbackGuard, allowed_hosts=settings.allowed_hosts, allowed_origins=settings.cors_origins)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        )

    app.add_middleware(RequestContext)
    return app


async def _purge_uploads_periodically(state: ServiceState) -> None:
    if state.settings.retention_days == 0:
        return
    while True:
        try:
            removed = await asyncio.to_thread(state.files.purge_uploads, state.settings.retention_days)
            if removed:
                log.info("retention: removed %d upload(s) older than %d days", removed, state.settings.retention_days)
        except OSError as exc:
            log.warning("retention purge failed: %s", exc)
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
