"""Scale-out: a Redis-backed queue built on Dramatiq, consumed by `realeyes worker` processes.

Why Dramatiq: a message is acknowledged only after the job returns, and a worker that dies mid-job has its
unacknowledged messages re-queued by the broker (RQ only moves such jobs to a failed registry); retries with
exponential backoff are built in; and it needs only Redis (Celery's Redis transport re-delivers only after a
visibility timeout of an hour by default). The jobs table stays the source of truth either way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from realeyes.jobs.queue import QueueUnavailable
from realeyes.jobs.runner import JobRunner

log = logging.getLogger(__name__)

QUEUE_NAME = "realeyes-jobs"
ACTOR_NAME = "run_job"


class RedisQueue:
    def __init__(self, url: str, retries: int, stale_seconds: float) -> None:
        self.url = url
        self.broker = RedisBroker(url=url, heartbeat_timeout=int(stale_seconds * 1000))  # type: ignore[no-untyped-call]
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.actor = declare_actor(self.broker, retries, _not_a_worker)

    def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        try:
            self.actor.send_with_options(args=(job_id,), delay=int(delay_seconds * 1000) or None)
        except redis.RedisError as exc:
            raise QueueUnavailable(f"the job queue (Redis) is unreachable: {type(exc).__name__}") from exc

    def ping(self) -> None:
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise QueueUnavailable(f"the job queue (Redis) is unreachable: {type(exc).__name__}") from exc

    def close(self) -> None:
        self.broker.close()
        self._client.close()


def declare_actor(broker: RedisBroker, retries: int, run: Callable[[str], object]) -> dramatiq.Actor:  # type: ignore[type-arg]
    return dramatiq.Actor(
        run,
        broker=broker,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE_NAME,
        priority=0,
        options={"max_retries": retries, "min_backoff": 1_000, "max_backoff": 60_000, "time_limit": 6 * 3_600_000},
    )


def _not_a_worker(job_id: str) -> None:
    raise RuntimeError("API processes only send jobs; `realeyes worker` runs them")


def serve_worker(runner: JobRunner, url: str, threads: int, stop: threading.Event) -> None:
    """Consume jobs until `stop` is set, and re-deliver jobs whose worker died (any live worker does this)."""
    broker = RedisBroker(url=url, heartbeat_timeout=int(runner.stale.total_seconds() * 1000))  # type: ignore[no-untyped-call]
    declare_actor(broker, runner.retries, runner.run)
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    sender = RedisQueue(url, runner.retries, runner.stale.total_seconds())
    log.info("worker started: %d thread(s) on %s", threads, QUEUE_NAME)
    try:
        while not stop.wait(runner.stale.total_seconds() / 2):
            try:
                for job_id in runner.lost_jobs(timedelta(minutes=15)):
                    sender.enqueue(job_id)
            except Exception as exc:  # Redis or the database briefly down: next round
                log.warning("job recovery failed: %s", exc)
    finally:
        worker.stop()
        broker.close()
        sender.close()
