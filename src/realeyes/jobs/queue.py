"""The queue interface both the in-process and the Redis-backed queues implement."""

from __future__ import annotations

from typing import Protocol

from realeyes.errors import RealEyesError


class QueueUnavailable(RealEyesError):
    code = "queue_unavailable"


class JobQueue(Protocol):
    def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        """Deliver the job id to a worker (at least once; the runner's claim makes extra deliveries harmless)."""

    def ping(self) -> None:
        """Raise QueueUnavailable when jobs cannot be queued right now."""

    def close(self) -> None: ...
