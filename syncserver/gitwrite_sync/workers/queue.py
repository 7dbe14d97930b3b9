"""The durable job queue: rows of ``jobs``, claimed by one worker at a time.

A job is enqueued inside the caller's transaction (so "index after push" commits with the
push or not at all), claimed in its own short transaction, then completed (deleted) or
failed (retried later, or kept as ``failed`` with its error for an admin to read).

Claiming is safe with many workers: on Postgres the candidate row is locked with
``FOR UPDATE SKIP LOCKED`` (concurrent claimers skip it instead of waiting or taking it
twice); on SQLite the write unit starts with ``BEGIN IMMEDIATE``, so claimers queue on the
database lock and each sees the previous one's claim. A claim is a lease: a job still
``running`` after ``lease`` (its worker died) may be claimed again. Completing or failing
checks the lease is still ours, so a job taken over by another worker is left to it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Job
from gitwrite_sync.workers.wakeup import notify_on_commit

QUEUED = "queued"
RUNNING = "running"
FAILED = "failed"
DEFAULT_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    """How many times it has been claimed, this time included."""
    worker_id: str


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Add a job in the caller's unit of work; it runs once that commits (a worker in
    this process is woken then, `gitwrite_sync.workers.wakeup`). Returns its id."""
    now = _now(now)
    job = Job(
        kind=kind,
        payload=json.dumps(dict(payload or {})),
        state=QUEUED,
        attempts=0,
        run_at=run_at or now,
        created_at=now,
    )
    session.add(job)
    await session.flush()
    notify_on_commit(session)
    return job.id


async def claim(
    db: Database,
    worker_id: str,
    *,
    kinds: Collection[str] | None = None,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> ClaimedJob | None:
    """Take the job due first (of ``kinds``, when given), or None when nothing is due."""
    now = _now(now)
    due = or_(
        and_(Job.state == QUEUED, Job.run_at <= now),
        and_(Job.state == RUNNING, Job.locked_at < now - lease),
    )
    query = select(Job).where(due).order_by(Job.run_at, Job.id).limit(1)
    if kinds is not None:
        query = query.where(Job.kind.in_(list(kinds)))
    async with db.write() as session:
        # SKIP LOCKED on Postgres; SQLite renders no FOR UPDATE (BEGIN IMMEDIATE serializes).
        job = (await session.execute(query.with_for_update(skip_locked=True))).scalar_one_or_none()
        if job is None:
            return None
        job.state = RUNNING
        job.locked_by = worker_id
        job.locked_at = now
        job.attempts += 1
        return ClaimedJob(
            id=job.id,
            kind=job.kind,
            payload=json.loads(job.payload),
            attempts=job.attempts,
            worker_id=worker_id,
        )


def _ours(job: ClaimedJob) -> Any:
    return and_(Job.id == job.id, Job.state == RUNNING, Job.locked_by == job.worker_id)


async def complete(db: Database, job: ClaimedJob) -> bool:
    """Remove a finished job. False when the lease was lost (another worker has it)."""
    async with db.write() as session:
        result = await session.execute(delete(Job).where(_ours(job)))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(
    db: Database,
    job: ClaimedJob,
    error: str,
    *,
    retry_at: datetime | None = None,
) -> bool:
    """Record a failure: queued again for ``retry_at``, or kept as ``failed`` when None.

    False when the lease was lost.
    """
    values: dict[str, Any] = {"last_error": error[:4000], "locked_by": None, "locked_at": None}
    if retry_at is None:
        values["state"] = FAILED
    else:
        values.update(state=QUEUED, run_at=retry_at)
    async with db.write() as session:
        result = await session.execute(update(Job).where(_ours(job)).values(**values))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def pending(session: AsyncSession, kind: str) -> bool:
    """Whether a job of ``kind`` is queued or running (to avoid piling up periodic jobs)."""
    query = select(Job.id).where(Job.kind == kind, Job.state.in_([QUEUED, RUNNING])).limit(1)
    return (await session.execute(query)).first() is not None
