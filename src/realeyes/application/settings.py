"""Service settings (REALEYES_*): where results live, auth, limits and the job queue. The engine's own
settings (thresholds, media limits, models) stay in realeyes.config.Settings."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from realeyes.config import Settings

MEGABYTE = 1024 * 1024
PREFIX = "REALEYES_"
# Variables read outside the two settings classes (tests/unit/test_settings_variables.py checks the code reads no
# other REALEYES_* name): JSON logs, the training data and autoencoder weights, the MLflow store.
OTHER_VARIABLES = frozenset(
    {"REALEYES_LOG_FORMAT", "REALEYES_SHARED_DATA", "REALEYES_TAESD_DIR", "REALEYES_TRACKING_URI"}
)


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "realeyes"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALEYES_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Database (SQLite) and stored files.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    retention_days: int = Field(30, ge=0, description="Delete stored uploads after this many days (0 = never).")

    listen_host: str = Field("127.0.0.1", description="Set by `realeyes serve --host`; decides auth when 'auto'.")
    # "auto": keys required unless the server listens on loopback only.
    auth: Literal["auto", "required", "off"] = "auto"
    rate_limit_per_minute: int = Field(600, ge=0, description="Requests per minute per key or client (0 = off).")
    # "auto": Redis when the queue is Redis; the database when several server processes run without Redis
    # (`realeyes serve --workers N`); else this process's memory.
    rate_limit_store: Literal["auto", "memory", "redis", "database"] = "auto"
    server_processes: int = Field(1, ge=1, description="Set by `realeyes serve --workers`.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API.")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Without API keys, Host names answered besides localhost, 127.0.0.1 and [::1] (DNS rebinding).",
    )

    # Largest request body; the engine's max_bytes still bounds each file inside it.
    max_upload_bytes: int = Field(50 * MEGABYTE, gt=0)
    max_job_bytes: int = Field(500 * MEGABYTE, gt=0, description="Largest batch upload (all files or a zip).")
    max_job_files: int = Field(1000, gt=0)

    queue: Literal["inprocess", "redis"] = "inprocess"
    redis_url: str = "redis://127.0.0.1:6379/0"
    job_retries: int = Field(3, ge=0, description="Re-runs of a job whose worker failed or vanished.")
    job_stale_seconds: float = Field(60.0, gt=0, description="A running job silent this long is re-queued.")
    analysis_concurrency: int = Field(2, ge=1, description="Analyses run at once per API process.")
    # Each analysis runs in a worker process that is killed when it overruns (application/isolation.py).
    analysis_timeout_seconds: float = Field(
        30.0, gt=0, description="Wall-clock budget of one image's analysis; overruns are `analysis_timeout`."
    )
    video_timeout_seconds: float = Field(3600.0, gt=0, description="Wall-clock budget of one video's analysis.")
    # POST /predict answers short videos while the client waits (the DFD contract); longer ones go to /v1/jobs.
    predict_video_max_seconds: float = Field(60.0, gt=0, description="Longest video POST /predict analyses.")
    predict_video_max_bytes: int = Field(20 * MEGABYTE, gt=0, description="Largest video POST /predict analyses.")

    # Connections (`realeyes serve`, per server process): slow or idle clients cannot hold the server's sockets.
    header_timeout_seconds: float = Field(
        10.0, gt=0, description="A request's headers must arrive complete within this time, else the connection closes."
    )
    keep_alive_seconds: int = Field(5, ge=1, description="An idle connection between requests is closed after this.")
    max_connections: int = Field(
        500, ge=1, description="Open connections per server process; more are closed at once, requests beyond get 503."
    )
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="Largest request line and headers, in bytes.")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'realeyes.db'}"

    @property
    def resolved_rate_limit_store(self) -> str:
        if self.rate_limit_store != "auto":
            return self.rate_limit_store
        if self.queue == "redis":
            return "redis"
        return "database" if self.server_processes > 1 else "memory"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "files"


def known_variables() -> set[str]:
    """Every REALEYES_* variable that something reads (settings are matched without regard to case)."""
    fields = (*Settings.model_fields, *ServiceSettings.model_fields)
    return {PREFIX + name.upper() for name in fields} | OTHER_VARIABLES


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each REALEYES_* variable that nothing reads (a typo is otherwise silently ignored), naming
    the closest known one."""
    known = known_variables()
    warnings = []
    for name in sorted(n for n in environ if n.upper().startswith(PREFIX) and n.upper() not in known):
        # Compared without the prefix, which every name shares and which would make any two look alike.
        suffixes = sorted(known_name.removeprefix(PREFIX) for known_name in known)
        closest = difflib.get_close_matches(name.upper().removeprefix(PREFIX), suffixes, n=1)
        hint = f"; did you mean {PREFIX}{closest[0]}?" if closest else ""
        warnings.append(f"{name} is not a RealEyes setting and is ignored{hint}")
    return warnings
