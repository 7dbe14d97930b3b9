"""Column types behave the same on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import RevokedAccessToken

pytestmark = pytest.mark.anyio


async def test_timestamps_come_back_aware_and_in_utc(database_url: str) -> None:
    db = Database(database_url)
    paris = timezone(timedelta(hours=2))
    written = datetime(2026, 5, 1, 14, 30, 15, 123456, tzinfo=paris)
    try:
        async with db.write() as session:
            session.add(RevokedAccessToken(jti="a", expires_at=written))
        async with db.read() as session:
            read = (await session.execute(select(RevokedAccessToken.expires_at))).scalar_one()
            # Comparisons happen in the database in UTC too.
            later = (
                await session.execute(
                    select(RevokedAccessToken.jti).where(
                        RevokedAccessToken.expires_at > datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
                    )
                )
            ).scalar_one_or_none()
    finally:
        await db.dispose()
    assert read == written
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert later == "a"


async def test_naive_timestamps_are_refused(database_url: str) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(sa_exc.StatementError, match="naive datetime"):
            async with db.write() as session:
                session.add(RevokedAccessToken(jti="a", expires_at=datetime(2026, 5, 1)))
    finally:
        await db.dispose()
