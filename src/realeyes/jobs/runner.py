"""Run one job: claim it, analyse its items one by one (resuming where a lost worker stopped), finish it.

Delivery is at least once, so every step is safe to repeat: the claim is a single conditional UPDATE, finished
items are kept in the row, and analysing the same bytes again returns the stored result."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from realeyes import progress
from realeyes.application import uploads
from realeyes.application.analyses import Analyses
from realeyes.errors import MediaError, PoolClosed
from realeyes.store import Database, Job, JobStatus

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_SECONDS = 0.5
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"  # which process analysed an item (shows how work spreads)
# Which process holds a job: host, pid and a token of this start, since a restarted container often gets the
# same pid (1) as the process that died.
PROCESS_ID = f"{WORKER_ID}:{uuid.uuid4().hex[:12]}"


class JobCancelled(Exception):
    pass


class JobRunner:
    def __init__(
        self, analyses: Analyses, database: Database, stale_seconds: float, retries: int, metrics: Any = None
    ) -> None:
        self.analyses = analyses
        self.database = database
        self.stale = timedelta(seconds=stale_seconds)
        self.retries = retries
        self.metrics = metrics

    def run(self, job_id: str) -> bool:
        """Process the job if this worker can claim it. Returns False when there was nothing to do.

        An unexpected error is re-raised while retries remain (the queue retries with backoff); after the last
        attempt the job ends `failed` with the reason."""
        job = self._claim(job_id)
        if job is None:
            return False
        started = time.perf_counter()
        stop_heartbeat, heartbeat = self._heartbeat(job_id)
        try:
            for index in range(job.done, len(job.items)):
                self._check_cancelled(job_id)
                with progress.listening(self._progress_writer(job_id)):
                    result = self._run_item(job.items[index], job.api_key_id)
                with self.database.session() as session:
                    row = session.get_one(Job, job_id)
                    row.results = [*row.results, result]
                    row.done, row.item_progress = index + 1, 0.0
            self._finish(job_id, JobStatus.succeeded)
        except JobCancelled:
            self._finish(job_id, JobStatus.cancelled)
        except PoolClosed:  # the service is stopping: not the job's fault; back to the queue for the next start
            self._release(job_id)
            raise
        except Exception as exc:
            log.error("job %s attempt %d failed: %s", job_id, job.attempts, exc)
            log.debug("job %s traceback", job_id, exc_info=True)
            if job.attempts > self.retries:
                self._finish(job_id, JobStatus.failed, f"{type(exc).__name__}: {exc}")
            else:
                self._release(job_id)
                raise
        finally:
            stop_heartbeat.set()
            heartbeat.join(timeout=10)  # no beat may touch the database after the job (and the service) ends
            if self.metrics is not None:
                self.metrics.observe_job(job.kind, self._status(job_id), time.perf_counter() - started)
        return True

    def _run_item(self, item: dict[str, Any], api_key_id: str | None) -> dict[str, Any]:
        if "sha256" not in item:  # refused at intake (a zip member that cannot be extracted): its own error only
            code, message = item.get("error_code", "corrupt_media"), item.get("error_message", "unreadable file")
            return {"name": item["name"], "error": {"code": code, "message": message}}
        data = self.analyses.files.read_upload(item["sha256"])
        if data is None:
            return {"name": item["name"], "error": {"code": "upload_expired", "message": "the upload was deleted"}}
        try:
            outcome = self.analyses.analyze(data, item["name"], api_key_id)
        except MediaError as exc:
            return {"name": item["name"], "error": {"code": exc.code, "message": str(exc)}}
        analysis = outcome.analysis
        return {
            "name": item["name"],
            "analysis_id": analysis.id,
            "label": analysis.label,
            "p_fake": analysis.p_fake,
            "worker": WORKER_ID,
        }

    def _progress_writer(self, job_id: str) -> progress.Listener:
        """Store a long item's progress (a video's sampled frames), at most every half second."""
        last = 0.0

        def write(fraction: float) -> None:
            nonlocal last
            if time.monotonic() - last < PROGRESS_INTERVAL_SECONDS:
                return
            last = time.monotonic()
            with self.database.session() as session:
                session.execute(update(Job).where(Job.id == job_id).values(item_progress=fraction))

        return write

    def _claim(self, job_id: str) -> Job | None:
        now = datetime.now(UTC)
        claimable = or_(
            Job.status == JobStatus.queued.value,
            (Job.status == JobStatus.running.value) & (Job.heartbeat_at < now - self.stale),
        )
        with self.database.session() as session:
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, claimable)
                .values(status=JobStatus.running.value, attempts=Job.attempts + 1, heartbeat_at=now, worker=PROCESS_ID)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            job = session.get_one(Job, job_id)
            if job.started_at is None:
                job.started_at = now
            return job

    def _heartbeat(self, job_id: str) -> tuple[threading.Event, threading.Thread]:
        """Refresh heartbeat_at while the job runs, so a live worker's job is never taken for a lost one."""
        stop = threading.Event()
        interval = self.stale.total_seconds() / 4

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    with self.database.session() as session:
                        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=datetime.now(UTC)))
                except Exception as exc:  # a missed beat is retried; the job itself reports real failures
                    log.warning("job %s heartbeat failed: %s", job_id, exc)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
        thread.start()
        return stop, thread

    def _check_cancelled(self, job_id: str) -> None:
        with self.database.session() as session:
            if session.scalar(select(Job.cancel_requested).where(Job.id == job_id)):
                raise JobCancelled

    def _finish(self, job_id: str, status: JobStatus, error: str | None = None) -> None:
        """End the job and let go of its uploads (the analyses it stored hold their own)."""
        with self.database.session() as session:
            job = session.get_one(Job, job_id)
            job.status, job.error, job.finished_at = status.value, error, datetime.now(UTC)
            session.flush()
            uploads.release(session, self.analyses.files, [uploads.job_holder(job_id)])

    def _release(self, job_id: str) -> None:
        """Back to the queue for a retry (the retry's claim needs `queued`)."""
        with self.database.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.queued.value))

    def attempts(self, job_id: str) -> int:
        with self.database.session() as session:
            return session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0

    def _status(self, job_id: str) -> str:
        with self.database.session() as session:
            return session.scalar(select(Job.status).where(Job.id == job_id)) or "unknown"

    def lost_jobs(self, requeue_after: timedelta) -> list[str]:
        """Jobs to deliver again: running ones whose worker went silent or is known dead (a process of this host
        that no longer runs: at start-up, the one this process replaces), and queued ones whose message may be
        gone (e.g. Redis restarted). Jobs out of retries end `failed` here instead."""
        now = datetime.now(UTC)
        to_send: list[str] = []
        ended: list[str] = []
        with self.database.session() as session:
            running = session.scalars(select(Job).where(Job.status == JobStatus.running.value))
            silent = [job for job in running if _silent(job, now - self.stale) or _held_by_dead_process(job.worker)]
            for job in silent:
                if job.attempts > self.retries:
                    job.status, job.finished_at = JobStatus.failed.value, now
                    job.error = f"the worker was lost {job.attempts} times (killed or out of memory)"
                    ended.append(job.id)
                else:
                    job.status, job.heartbeat_at = JobStatus.queued.value, now
                    to_send.append(job.id)
            waiting = session.scalars(
                select(Job).where(Job.status == JobStatus.queued.value, Job.heartbeat_at < now - requeue_after)
            )
            for job in waiting:
                job.heartbeat_at = now
                to_send.append(job.id)
            session.flush()
            uploads.release(session, self.analyses.files, [uploads.job_holder(job_id) for job_id in ended])
        return to_send


def _silent(job: Job, since: datetime) -> bool:
    beat = job.heartbeat_at
    if beat is None:
        return True
    if beat.tzinfo is None:  # SQLite returns naive UTC
        beat = beat.replace(tzinfo=UTC)
    return beat < since


def _held_by_dead_process(worker: str | None) -> bool:
    """True when `worker` ("host:pid:boot") names a process of this host that is gone: its pid no longer runs,
    or it is this process's own pid from an earlier start (a restarted container). Other hosts' workers are
    judged by their heartbeat only."""
    if not worker or worker == PROCESS_ID:
        return False
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True  # same pid, another start token: the process before this one
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by another user
        return False
    return False
