"""The periodic job that trims the event log to ``event_retention`` per repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Event
from gitwrite_sync.settings import Settings
from gitwrite_sync.storage import RefChange, apply_changes
from gitwrite_sync.workers import JobContext
from gitwrite_sync.workers.jobs import default_registry
from gitwrite_sync.workers.queue import ClaimedJob
from tests.integration.storage.conftest import make_repository

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_the_trim_job_runs_hourly_and_keeps_the_newest_events(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    registry = default_registry()
    assert "events.trim" in registry.kinds and "events.trim" in registry.periodic
    repo_id = await make_repository(db)
    for n in range(7):
        async with db.write() as session:
            await apply_changes(
                session, repo_id, [RefChange(f"refs/heads/b{n}", ZERO_ID, "a" * 40)], None
            )
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key="k" * 32, event_retention=3
    )
    handler = registry.get("events.trim")
    assert handler is not None
    await handler(JobContext(db, settings, ClaimedJob(1, "events.trim", {}, 1, "w")))
    async with db.read() as session:
        kept = (await session.execute(select(Event.seq).order_by(Event.seq))).scalars().all()
    assert kept == [5, 6, 7]
