"""The job queue on SQLite and Postgres: each job claimed once, leases, retries, the worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Job
from gitwrite_sync.settings import Settings
from gitwrite_sync.workers import JobContext, JobRegistry, Worker, queue

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=url, secret_key="k" * 32)


async def add(db: Database, kind: str = "test.echo", n: int = 1, **payload: object) -> list[int]:
    async with db.write() as session:
        return [await queue.enqueue(session, kind, {"i": i, **payload}, now=T0) for i in range(n)]


async def jobs(db: Database) -> list[Job]:
    async with db.read() as session:
        return list((await session.execute(select(Job).order_by(Job.id))).scalars())


async def test_claim_takes_a_due_job_once_and_complete_removes_it(db: Database) -> None:
    [job_id] = await add(db, note="hello")
    job = await queue.claim(db, "w1", now=T0)
    assert job is not None
    assert (job.id, job.kind, job.payload, job.attempts) == (
        job_id,
        "test.echo",
        {"i": 0, "note": "hello"},
        1,
    )
    assert await queue.claim(db, "w2", now=T0) is None  # running: nobody else gets it
    [row] = await jobs(db)
    assert (row.state, row.locked_by) == ("running", "w1")
    assert await queue.complete(db, job)
    assert await jobs(db) == []


async def test_jobs_wait_for_their_time_and_their_kind(db: Database) -> None:
    async with db.write() as session:
        await queue.enqueue(session, "later", run_at=T0 + timedelta(hours=1), now=T0)
        await queue.enqueue(session, "other", now=T0)
    assert await queue.claim(db, "w", kinds=["later"], now=T0) is None
    job = await queue.claim(db, "w", kinds=["later"], now=T0 + timedelta(hours=1))
    assert job is not None and job.kind == "later"


async def test_enqueue_is_part_of_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await queue.enqueue(session, "test.echo", now=T0)
            raise RuntimeError("the push failed")
    assert await jobs(db) == []


async def test_concurrent_workers_claim_every_job_exactly_once(
    db: Database, database_url: str
) -> None:
    ids = await add(db, n=30)
    # One Database per worker: separate pools, as separate processes would have.
    workers = [Database(database_url) for _ in range(4)]

    async def drain(db: Database, name: str) -> list[int]:
        taken = []
        while (job := await queue.claim(db, name, now=T0)) is not None:
            taken.append(job.id)
            await asyncio.sleep(0)
        return taken

    try:
        results = await asyncio.gather(*(drain(db, f"w{i}") for i, db in enumerate(workers)))
    finally:
        for db in workers:
            await db.dispose()
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == sorted(ids)  # none twice, none missed


async def test_postgres_skips_a_locked_job_instead_of_waiting(postgres_database_url: str) -> None:
    db = Database(postgres_database_url)
    try:
        first, second = await add(db, n=2)
        async with db.write() as holder:
            # Another worker is in the middle of claiming the first job.
            await holder.execute(text(f"SELECT id FROM jobs WHERE id = {first} FOR UPDATE"))
            job = await asyncio.wait_for(queue.claim(db, "w2", now=T0), timeout=5)
            assert job is not None and job.id == second
    finally:
        await db.dispose()


async def test_an_expired_lease_lets_another_worker_take_over(db: Database) -> None:
    await add(db)
    lease = timedelta(minutes=5)
    first = await queue.claim(db, "dead", lease=lease, now=T0)
    assert first is not None
    assert await queue.claim(db, "w2", lease=lease, now=T0 + lease) is None
    second = await queue.claim(db, "w2", lease=lease, now=T0 + lease + timedelta(seconds=1))
    assert second is not None and second.id == first.id and second.attempts == 2
    assert not await queue.complete(db, first)  # the dead worker woke up: not its job anymore
    assert not await queue.fail(db, first, "late")
    assert await queue.complete(db, second)


async def test_fail_retries_later_or_keeps_the_error(db: Database) -> None:
    await add(db, n=2)
    a = await queue.claim(db, "w", now=T0)
    b = await queue.claim(db, "w", now=T0)
    assert a is not None and b is not None
    assert await queue.fail(db, a, "flaky", retry_at=T0 + timedelta(minutes=1))
    assert await queue.fail(db, b, "broken")
    row_a, row_b = await jobs(db)
    assert (row_a.state, row_a.run_at, row_a.last_error, row_a.locked_by) == (
        "queued",
        T0 + timedelta(minutes=1),
        "flaky",
        None,
    )
    assert (row_b.state, row_b.last_error) == ("failed", "broken")
    assert await queue.claim(db, "w", now=T0) is None
    again = await queue.claim(db, "w", now=T0 + timedelta(minutes=1))
    assert again is not None and again.id == a.id


async def test_worker_runs_handlers_and_retries_failures(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    seen: list[int] = []
    registry = JobRegistry()

    @registry.register("test.echo")
    async def echo(ctx: JobContext) -> None:
        seen.append(int(ctx.payload["i"]))

    @registry.register("test.boom")
    async def boom(ctx: JobContext) -> None:
        raise ValueError("no luck")

    worker = Worker(
        db, settings_for(database_url, tmp_path), registry, max_attempts=2, backoff=timedelta(0)
    )
    await add(db, "test.echo", n=2)
    await add(db, "test.boom")
    await add(db, "test.nobody")  # no handler here: left for a worker that has one
    while await worker.run_once():
        pass
    assert sorted(seen) == [0, 1]
    left = await jobs(db)
    assert [(j.kind, j.state, j.attempts) for j in left] == [
        ("test.boom", "failed", 2),
        ("test.nobody", "queued", 0),
    ]
    assert left[0].last_error == "ValueError: no luck"


async def test_worker_loop_runs_until_stopped_and_schedules_periodic_jobs(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    done = asyncio.Event()
    registry = JobRegistry()

    @registry.register("test.tick", every=timedelta(hours=1))
    async def tick(ctx: JobContext) -> None:
        done.set()

    worker = Worker(db, settings_for(database_url, tmp_path), registry, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(done.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert await jobs(db) == []
    # Within the hour nothing new is scheduled; a pending one is never doubled.
    await worker.schedule_periodic()
    assert await jobs(db) == []
    await worker.schedule_periodic(now=datetime.now(UTC) + timedelta(hours=2))
    await worker.schedule_periodic(now=datetime.now(UTC) + timedelta(hours=4))
    assert [j.kind for j in await jobs(db)] == ["test.tick"]


@pytest.mark.parametrize("settle_ms", [0, 300])
async def test_a_woken_worker_lets_the_settle_time_pass_before_claiming(
    db: Database, database_url: str, tmp_path: Path, settle_ms: int
) -> None:
    ran: list[float] = []
    registry = JobRegistry()

    @registry.register("test.echo")
    async def echo(ctx: JobContext) -> None:
        ran.append(time.monotonic())

    settings = replace(settings_for(database_url, tmp_path), worker_settle_ms=settle_ms)
    worker = Worker(db, settings, registry, poll_seconds=30)  # only a commit wakes it
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.2)  # idle now: waiting to be woken
    async with db.write() as session:
        for i in range(3):  # a burst, committed at once
            await queue.enqueue(session, "test.echo", {"i": i})
    committed = time.monotonic()
    while len(ran) < 3:
        await asyncio.sleep(0.01)
    assert settle_ms / 1000 <= ran[0] - committed < settle_ms / 1000 + 2
    assert ran[-1] - ran[0] < 1  # the burst runs back to back, not a settle each
    stopping = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert time.monotonic() - stopping < 1
