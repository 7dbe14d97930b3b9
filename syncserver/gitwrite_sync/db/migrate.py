"""Bring a database to the newest schema.

Provisional: creates the tables of `models` directly until the Alembic migrations land.
"""

from __future__ import annotations

import asyncio

from gitwrite_sync.db.engine import make_engine
from gitwrite_sync.db.models import Base


async def upgrade_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


def upgrade(url: str) -> None:
    """Create the schema at ``url`` (from outside any running event loop)."""
    asyncio.run(upgrade_async(url))
