"""The index follows pushes through the durable job queue: a push enqueues ``index_push``,
the worker runs it (woken at once when the job commits in its process), and
``search.catch_up`` re-queues repositories the index is behind on."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import delete, select

from gitwrite_sync.db.models import Job
from gitwrite_sync.domain.search import CATCH_UP_JOB, INDEX_JOB, parse
from gitwrite_sync.domain.search.jobs import stale_repositories
from gitwrite_sync.workers import Worker, queue
from gitwrite_sync.workers.jobs import default_registry
from gitwrite_sync.workers.wakeup import signal_for
from tests.integration.search.conftest import Library

pytestmark = pytest.mark.anyio


def worker(library: Library, **options: float) -> Worker:
    return Worker(library.db, library.services.settings, default_registry(), **options)  # type: ignore[arg-type]


async def queued(library: Library, kind: str) -> list[dict[str, object]]:
    async with library.db.read() as session:
        rows = await session.scalars(select(Job.payload).where(Job.kind == kind))
        return [json.loads(p) for p in rows]


async def found(library: Library, typed: str) -> set[str]:
    query = parse(typed)
    assert query is not None
    async with library.db.read() as session:
        hits = await library.index.search(session, library.repo_id, query, 20)
    return {h.path for h in hits}


async def test_a_push_queues_the_job_that_indexes_it(library: Library) -> None:
    await library.writer.save("main", {"a.md": "The albatross.\n"})
    assert [p["repo_id"] for p in await queued(library, INDEX_JOB)] == [library.repo_id]
    assert await found(library, "albatross") == set()  # not before the job runs
    runner = worker(library)
    async with library.db.write() as session:  # only the job under test
        await session.execute(delete(Job).where(Job.kind != INDEX_JOB))
    assert await runner.run_once()
    assert await found(library, "albatross") == {"a.md"}
    assert await queued(library, INDEX_JOB) == []


async def test_catch_up_queues_repositories_the_index_is_behind_on(library: Library) -> None:
    await library.writer.save("main", {"a.md": "The albatross.\n"})
    await library.writer.save("draft", {"b.md": "The petrel.\n"}, start="main")
    async with library.db.write() as session:
        await session.execute(delete(Job))  # as if the jobs were lost
    assert await stale_repositories(library.db) == [library.repo_id]

    runner = worker(library)
    await runner.schedule_periodic()
    assert await queued(library, CATCH_UP_JOB) == [{}]
    while await runner.run_once():
        pass
    assert await stale_repositories(library.db) == []
    assert await found(library, "petrel") == {"b.md"}

    # An indexed branch that is gone also counts as behind.
    await library.writer.delete("draft")
    async with library.db.write() as session:
        await session.execute(delete(Job))
    assert await stale_repositories(library.db) == [library.repo_id]
    await runner.schedule_periodic()  # not due again yet
    assert await queued(library, CATCH_UP_JOB) == []


async def test_the_in_process_worker_wakes_when_a_job_commits(library: Library) -> None:
    runner = worker(library, poll_seconds=30.0)
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    try:
        # Let the worker finish its start-up (periodic jobs) and go to sleep.
        deadline = time.monotonic() + 10
        while await queued(library, CATCH_UP_JOB) or await queued(library, "auth.prune"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await library.writer.save("main", {"a.md": "The kraken rose.\n"})
        while not await found(library, "kraken"):
            assert time.monotonic() - started < 5, "the worker slept through the job"
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    # Polling every 30 s, only the wake-up explains finding it this soon.
    assert elapsed < 1.0


async def test_a_rolled_back_job_does_not_wake_the_worker(library: Library) -> None:
    signal = signal_for(library.db.primary.sync_engine)
    waiting = asyncio.create_task(signal.wait(0.5))
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError):
        async with library.db.write() as session:
            await queue.enqueue(session, INDEX_JOB, {"repo_id": library.repo_id})
            raise RuntimeError("changed my mind")
    assert await waiting is False
    async with library.db.write() as session:
        await queue.enqueue(session, INDEX_JOB, {"repo_id": library.repo_id})
    assert await signal.wait(5.0) is True
