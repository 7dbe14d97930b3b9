"""Background work: the durable job queue in the database and the worker that runs it."""

from gitwrite_sync.workers.queue import ClaimedJob, claim, complete, enqueue, fail
from gitwrite_sync.workers.runner import JobContext, JobRegistry, Worker

__all__ = [
    "ClaimedJob",
    "JobContext",
    "JobRegistry",
    "Worker",
    "claim",
    "complete",
    "enqueue",
    "fail",
]
