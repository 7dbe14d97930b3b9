"""Fixed-window counters in ``rate_counters``, safe across server instances.

`hit` is ONE statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING count``), so two
instances counting the same key at the same moment both see a distinct count: there is no
read-then-write gap to race through. A counter left from an earlier window restarts at 1
in the same statement. Both SQLite (3.35+) and Postgres support the statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.models import RateCounter


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    count: int
    """Hits in this window, this one included."""
    window_start: int
    retry_after: int
    """Seconds until the window ends."""


def window_of(now: float, window_seconds: int) -> int:
    return int(now // window_seconds) * window_seconds


async def hit(session: AsyncSession, key: str, *, window_seconds: int, now: float) -> Hit:
    """Count one hit on ``key`` in the current window and return the new count."""
    start = window_of(now, window_seconds)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = RateCounter.__table__
    upsert = insert(RateCounter).values(key=key, window_start=start, count=1)
    same_window = table.c.window_start == upsert.excluded.window_start
    stmt = upsert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "count": case((same_window, table.c.count + 1), else_=1),
            "window_start": upsert.excluded.window_start,
        },
    ).returning(table.c.count)
    count = (await session.execute(stmt)).scalar_one()
    return Hit(key, int(count), start, max(1, start + window_seconds - int(now)))


async def refund(session: AsyncSession, spent: Hit) -> None:
    """Give back a hit (a login that succeeded), if its window is still the current one."""
    await session.execute(
        update(RateCounter)
        .where(
            RateCounter.key == spent.key,
            RateCounter.window_start == spent.window_start,
            RateCounter.count > 0,
        )
        .values(count=RateCounter.count - 1)
    )
