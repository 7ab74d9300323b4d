"""The one place that builds the application from its settings: the database, the file store, the engine and the
worker processes that analyse. `realeyes serve`, `realeyes worker`, the key and feedback commands and the MLOps
commands start here, so each finds the same database and files the same way."""

from __future__ import annotations

from realeyes.application.analyses import Analyses
from realeyes.application.isolation import AnalysisPool
from realeyes.application.settings import ServiceSettings
from realeyes.application.storage import FileStore
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.store import Database


def open_database(settings: ServiceSettings) -> Database:
    """The deployment's database, migrated to the current schema."""
    database = Database(settings.resolved_database_url)
    database.upgrade()
    return database


def open_store(settings: ServiceSettings) -> tuple[Database, FileStore]:
    """The database and the stored files (uploads, maps, thumbnails) of the deployment."""
    return open_database(settings), FileStore(settings.storage_dir)


def build_analyses(settings: ServiceSettings, engine_settings: Settings, workers: int) -> Analyses:
    """Analyse-and-store over the deployment's store, with WORKERS analysis processes under its time budgets
    (close with `analyses.pool.close()`)."""
    database, files = open_store(settings)
    engine = Engine(engine_settings)
    pool = AnalysisPool(engine.settings, workers, settings.analysis_timeout_seconds, settings.video_timeout_seconds)
    return Analyses(engine, database, files, pool)
