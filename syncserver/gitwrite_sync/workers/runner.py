"""Running jobs: a registry of handlers by kind, and the worker loop.

A handler is ``async def handler(ctx: JobContext) -> None``; it raises to fail. Failed jobs
are retried with exponential backoff until ``max_attempts``, then kept as ``failed``.
The same `Worker` runs inside the server on the embedded default (``embedded_worker``)
and as ``gitwrite-server worker`` processes in a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gitwrite_sync.db.engine import Database
from gitwrite_sync.settings import Settings
from gitwrite_sync.workers import queue
from gitwrite_sync.workers.queue import ClaimedJob
from gitwrite_sync.workers.wakeup import signal_for

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobContext:
    db: Database
    settings: Settings
    job: ClaimedJob

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload


Handler = Callable[[JobContext], Awaitable[None]]


class JobRegistry:
    """Job kinds and their handlers, plus periodic kinds the worker enqueues itself."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self.periodic: dict[str, timedelta] = {}

    def register(
        self, kind: str, *, every: timedelta | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator: ``@registry.register("auth.prune", every=timedelta(hours=1))``."""

        def add(handler: Handler) -> Handler:
            if kind in self._handlers:
                raise ValueError(f"job kind {kind!r} registered twice")
            self._handlers[kind] = handler
            if every is not None:
                self.periodic[kind] = every
            return handler

        return add

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds)


async def _idle(stop: asyncio.Event, woken: Awaitable[bool]) -> None:
    """Until ``stop`` is set or ``woken`` finishes (it ends by itself after a timeout)."""
    stopping = asyncio.ensure_future(stop.wait())
    waking = asyncio.ensure_future(woken)
    try:
        await asyncio.wait([stopping, waking], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopping, waking):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Worker:
    """Claims and runs jobs of the registry's kinds until stopped."""

    db: Database
    settings: Settings
    registry: JobRegistry
    worker_id: str = field(default_factory=default_worker_id)
    poll_seconds: float = 1.0
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=10)
    lease: timedelta = queue.DEFAULT_LEASE
    _last_scheduled: dict[str, datetime] = field(default_factory=dict)

    async def run_once(self, *, now: datetime | None = None) -> bool:
        """Run the job due first, if any. True when a job was run (whatever its outcome)."""
        job = await queue.claim(
            self.db, self.worker_id, kinds=self.registry.kinds, lease=self.lease, now=now
        )
        if job is None:
            return False
        handler = self.registry.get(job.kind)
        if handler is None:  # the kinds filter makes this a registry changed under us
            await queue.fail(self.db, job, f"no handler for job kind {job.kind!r}")
            return True
        if job.attempts > self.max_attempts:
            await queue.fail(self.db, job, "gave up: its worker died every time it ran")
            return True
        try:
            await handler(JobContext(self.db, self.settings, job))
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc, exc_info=True)
            error = "".join(traceback.format_exception_only(exc)).strip()
            retry_at = None
            if job.attempts < self.max_attempts:
                retry_at = datetime.now(UTC) + self.backoff * (2 ** (job.attempts - 1))
            await queue.fail(self.db, job, error, retry_at=retry_at)
        else:
            await queue.complete(self.db, job)
        return True

    async def schedule_periodic(self, *, now: datetime | None = None) -> None:
        """Enqueue each periodic kind whose interval has passed, unless one is pending."""
        now = now or datetime.now(UTC)
        for kind, every in self.registry.periodic.items():
            last = self._last_scheduled.get(kind)
            if last is not None and now - last < every:
                continue
            self._last_scheduled[kind] = now
            async with self.db.write() as session:
                if not await queue.pending(session, kind):
                    await queue.enqueue(session, kind, now=now)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; a database outage is waited out, not fatal.

        Between polls it sleeps until a job is committed in this process (its engine's
        `gitwrite_sync.workers.wakeup.JobSignal`), ``poll_seconds`` pass, or ``stop``;
        then it lets ``settings.worker_settle_ms`` pass before claiming. A push's index
        job thus starts after the fetches that push sets off (in the embedded default
        they share this process), and a burst of pushes is indexed in one run: a job
        brings its repository's index up to date, so the others find nothing to do.
        """
        signal = signal_for(self.db.primary.sync_engine)
        log.info("worker %s running job kinds %s", self.worker_id, ", ".join(self.registry))
        while not stop.is_set():
            try:
                await self.schedule_periodic()
                if await self.run_once():
                    continue
            except Exception:
                log.exception("worker %s: cannot reach the job queue; retrying", self.worker_id)
            await _idle(stop, signal.wait(self.poll_seconds))
            await _idle(stop, asyncio.sleep(self.settings.worker_settle_ms / 1000, False))
