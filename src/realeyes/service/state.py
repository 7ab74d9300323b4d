"""Everything a request handler needs, built once per process at start-up."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from realeyes.application.analyses import Analyses
from realeyes.application.settings import ServiceSettings
from realeyes.application.storage import FileStore
from realeyes.engine import Engine
from realeyes.jobs import JobQueue, JobRunner
from realeyes.models.bundle import CARD_FILE
from realeyes.models.registry import Registry
from realeyes.service.auth import RateLimiter
from realeyes.store import Database


@dataclass
class ServiceState:
    settings: ServiceSettings
    engine: Engine
    database: Database
    files: FileStore
    analyses: Analyses
    queue: JobQueue
    runner: JobRunner
    limiter: RateLimiter
    auth_required: bool
    analysis_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(2))

    def missing_models(self) -> list[str]:
        """Promoted models that no running analyzer serves (e.g. a bundle failed its checksum at start-up). When the
        operator chose the analyzers (REALEYES_ANALYZERS), only those are run and a missing one fails start-up."""
        if self.engine.settings.analyzers is not None:
            return []
        registry = Registry(self.engine.settings.models_dir)
        served = {analyzer.model_version for analyzer in self.engine.analyzers if analyzer.model_version}
        missing = []
        for task, folder in registry.promoted_paths().items():
            card = json.loads((registry.root / folder / CARD_FILE).read_text())
            if f"{card['name']}-{card['version']}" not in served:
                missing.append(task)
        return sorted(missing)
