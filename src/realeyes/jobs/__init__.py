"""Long work (batches; videos later): the jobs table is the source of truth, queues only carry job ids."""

from realeyes.jobs.queue import JobQueue, QueueUnavailable
from realeyes.jobs.runner import JobRunner

__all__ = ["JobQueue", "JobRunner", "QueueUnavailable"]
