"""The laptop default: jobs run on a thread inside the API process; no Redis needed.

Nothing is lost on restart: at start-up (and every few seconds) jobs that are queued or whose worker went silent
are delivered again from the database."""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import timedelta

from realeyes.errors import PoolClosed
from realeyes.jobs.runner import JobRunner

log = logging.getLogger(__name__)

_STOP = ""
CLOSE_WAIT_SECONDS = 30.0


class InProcessQueue:
    def __init__(self, runner: JobRunner, threads: int = 1, requeue_after: timedelta = timedelta(minutes=15)) -> None:
        self.runner = runner
        self.requeue_after = requeue_after
        self._pending: queue.Queue[str] = queue.Queue()
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"job-worker-{i}", daemon=True) for i in range(threads)
        ]
        self._threads.append(threading.Thread(target=self._recover, name="job-recovery", daemon=True))
        for thread in self._threads:
            thread.start()

    def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        if delay_seconds > 0:
            timer = threading.Timer(delay_seconds, self._pending.put, args=(job_id,))
            timer.daemon = True
            timer.start()
        else:
            self._pending.put(job_id)

    def ping(self) -> None:
        """Always reachable: it lives in this process."""

    def close(self) -> None:
        """Stop taking jobs and wait for the threads to end, so none touches the database after the service
        disposes of it. The app closes the analysis pool first: a job mid-analysis then ends at once (PoolClosed,
        the job goes back to the queue) instead of running to its end."""
        self._closed.set()
        for _ in self._threads:
            self._pending.put(_STOP)
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop within %g s", thread.name, CLOSE_WAIT_SECONDS)

    def _work(self) -> None:
        while (job_id := self._pending.get()) != _STOP and not self._closed.is_set():
            try:
                self.runner.run(job_id)
            except PoolClosed:  # the service is stopping (the runner put the job back in the queue)
                return
            except Exception:  # the runner kept the job queued for a retry: deliver it again after a pause
                attempt = self.runner.attempts(job_id)
                self.enqueue(job_id, delay_seconds=min(60.0, 2.0**attempt))

    def _recover(self) -> None:
        interval = self.runner.stale.total_seconds() / 2
        requeue_after = timedelta(0)  # at start-up every queued job is lost: its message died with the process
        while True:
            try:
                for job_id in self.runner.lost_jobs(requeue_after):
                    self._pending.put(job_id)
                requeue_after = self.requeue_after
            except Exception as exc:  # e.g. the database is briefly down: try again next round
                log.warning("job recovery failed: %s", exc)
            if self._closed.wait(interval):
                return
