"""`realeyes serve | worker | keys | db | feedback`: run and administer the service."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from realeyes.application.settings import ServiceSettings

if TYPE_CHECKING:
    from realeyes.store import Database


def _settings() -> ServiceSettings:
    try:
        return ServiceSettings()
    except ValidationError as exc:
        raise click.UsageError(f"Invalid REALEYES_* setting: {exc}") from exc


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (auth is required "
              "beyond loopback unless REALEYES_AUTH=off).")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Server processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the API and web UI (SQLite and an in-process job worker unless configured otherwise)."""
    import uvicorn

    from realeyes.application.logs import configure_json_logging
    from realeyes.service.server import GuardedH11Protocol

    os.environ["REALEYES_LISTEN_HOST"] = host
    os.environ["REALEYES_SERVER_PROCESSES"] = str(workers)
    os.environ["REALEYES_LOG_FORMAT"] = "json"
    settings = _settings()  # refuse bad settings before starting processes
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each process writes its samples here; /metrics in any process sums them.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="realeyes-metrics-")
    configure_json_logging()
    uvicorn.run(
        "realeyes.service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        # Slow and idle clients (slowloris): a deadline for headers, idle keep-alives closed, a connection cap.
        http=GuardedH11Protocol,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )


@click.command()
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1), help="Jobs run at once.")
@click.option("--metrics-port", type=click.IntRange(1, 65535), help="Serve this worker's Prometheus metrics.")
def worker(threads: int, metrics_port: int | None) -> None:
    """Run jobs from the Redis queue (REALEYES_REDIS_URL) until SIGTERM; a killed worker's job is re-run."""
    from realeyes.application import metrics
    from realeyes.application.composition import build_analyses
    from realeyes.application.logs import configure_json_logging
    from realeyes.config import Settings
    from realeyes.jobs import JobRunner
    from realeyes.jobs.redis_queue import serve_worker

    settings = _settings()
    configure_json_logging()
    # One analysis worker process per job thread, each file under the wall-clock budget.
    analyses = build_analyses(settings, Settings(), threads)
    runner = JobRunner(
        analyses, analyses.database, settings.job_stale_seconds, settings.job_retries, metrics.JobMetrics()
    )
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        serve_worker(runner, settings.redis_url, threads, stop)
    finally:
        if analyses.pool is not None:
            analyses.pool.close()


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _database() -> Database:
    from realeyes.application.composition import open_database

    return open_database(_settings())


@keys.command("create")
@click.option("--name", required=True, help="Who or what uses the key (at most 64 characters).")
@click.option("--scopes", default="analyze", show_default=True, help="Comma-separated: analyze, admin.")
def create_key_command(name: str, scopes: str) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from sqlalchemy.exc import IntegrityError

    from realeyes.service.auth import create_key

    chosen = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    if not chosen:
        raise click.BadParameter("name at least one scope (analyze, admin)", param_hint="--scopes")
    try:
        key = create_key(_database(), name, chosen)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except IntegrityError as exc:
        raise click.UsageError(f"a key named {name!r} exists already") from exc
    click.echo(f"Created key {name!r}; store it now, it is not shown again:", err=True)
    click.echo(key)


@keys.command("list")
def list_keys_command() -> None:
    """Names, prefixes, scopes and state of every key (never the keys themselves)."""
    from sqlalchemy import select

    from realeyes.service.auth import display_name
    from realeyes.store import ApiKey

    with _database().session() as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.created_at)):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(f"{display_name(key.name)}\t{key.prefix}…\t{','.join(key.scopes)}\t{state}")


@keys.command("revoke")
@click.argument("name")
def revoke_key_command(name: str) -> None:
    """Revoke the active key called NAME."""
    from realeyes.service.auth import revoke_key

    if not revoke_key(_database(), name):
        raise click.UsageError(f"no active key named {name!r}")
    click.echo(f"Revoked {name!r}.")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def upgrade_command() -> None:
    """Apply every migration (the service also does this at start-up)."""
    database = _database()
    click.echo(f"Database schema is up to date ({database.engine.url.render_as_string(hide_password=True)}).")


@click.group()
def feedback() -> None:
    """Review the labels people gave before they reach retraining."""


@feedback.command("review")
@click.option("--accept", "accepted", multiple=True, metavar="ID", help="Accept this feedback for retraining.")
@click.option("--reject", "rejected", multiple=True, metavar="ID", help="Reject this feedback.")
@click.option(
    "--status",
    type=click.Choice(["pending", "accepted", "rejected", "all"]),
    default="pending",
    show_default=True,
    help="Which feedback to list (when nothing is accepted or rejected).",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def review_feedback_command(accepted: tuple[str, ...], rejected: tuple[str, ...], status: str, limit: int) -> None:
    """List feedback waiting for review, or accept or reject feedback by id.

    Only accepted feedback is used by `realeyes retrain`; an admin key's feedback is accepted when given."""
    from realeyes.report import terminal_safe
    from realeyes.service import feedback as review
    from realeyes.store import FeedbackStatus

    database = _database()
    if accepted or rejected:
        decisions = [(item, "accept") for item in accepted] + [(item, "reject") for item in rejected]
        unknown = []
        for feedback_id, decision in decisions:
            done = review.review(database, feedback_id, decision, "cli")  # type: ignore[arg-type]
            if done is None:
                unknown.append(feedback_id)
            else:
                click.echo(f"{feedback_id}\t{done.status}")
        if unknown:
            raise click.UsageError(f"no feedback with id {', '.join(terminal_safe(item) for item in unknown)}")
        return
    rows, total = review.list_feedback(database, None if status == "all" else FeedbackStatus(status), limit)
    for row in rows:
        note = terminal_safe(row.note)[:200]
        click.echo(f"{row.id}\t{row.analysis_id}\t{row.label}\t{row.status}\t{row.created_at:%Y-%m-%d %H:%M}\t{note}")
    click.echo(f"{len(rows)} of {total} {status} feedback shown.", err=True)


COMMANDS = [serve, worker, keys, db, feedback]
