"""Engines and units of work.

`Database` owns the primary engine (and, in a cluster, replica engines). Code asks for a
unit of work, never for a connection per statement: ``async with db.write() as session``
for anything that writes (one transaction, committed at the end), ``async with db.read()
as session`` for read-only work (a replica may serve it once replicas exist).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so two writers queue
on the database lock instead of failing later with "database is locked" when one tries to
upgrade a read lock; WAL mode lets readers go on meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str, *, pool_size: int = 10, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """An async engine for ``url`` with the settings GitWrite relies on.

    ``sqlite_foreign_keys=False`` is for migrations only: SQLite rebuilds a table to alter
    it (copy, drop, rename), which enforced foreign keys would cascade into other tables.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": 30, "isolation_level": None}, pool_size=pool_size
        )
        sync = engine.sync_engine

        @event.listens_for(sync, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if sqlite_foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(sync, "begin")
        def _begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """The primary (and later the replicas) behind one interface of units of work."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.primary = make_engine(url, pool_size=pool_size)
        self.is_sqlite = self.primary.dialect.name == "sqlite"
        self._sessions = async_sessionmaker(self.primary, expire_on_commit=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction on the primary, committed when the block ends without error."""
        options = {"sqlite_begin": "IMMEDIATE"} if self.is_sqlite else {}
        async with self._sessions() as session, session.begin():
            if options:
                # Applied before the connection begins, so the "begin" hook sees it.
                await session.connection(execution_options=options)
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (the primary for now; replicas plug in here)."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.primary.dispose()
