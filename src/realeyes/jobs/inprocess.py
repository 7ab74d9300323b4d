"""The laptop default: jobs run on a thread inside the API process; no Redis needed.

Nothing is lost on restart: at start-up (and every few seconds) jobs that are queued or whose worker went silent
are delivered again from the database."""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta

from realeyes.jobs.runner import JobRunner

log = logging.getLogger(__name__)

_STOP = ""


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
        self._closed.set()
        for _ in self._threads:
            self._pending.put(_STOP)

    def _work(self) -> None:
        while (job_id := self._pending.get()) != _STOP:
            try:
                self.runner.run(job_id)
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
