"""Alembic environment, async: migrations run on an async engine's connection.

There is no alembic.ini: `gitwrite_sync.db.migrate` builds the configuration in code and
passes an open connection of its async engine (inside a transaction, so an upgrade is all
or nothing on both databases) in ``config.attributes["connection"]``. Run any other way
(for instance by the ``alembic`` command with a config of your own), this file opens that
engine itself from ``sqlalchemy.url``, else the server's settings (``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from gitwrite_sync.db.engine import make_engine
from gitwrite_sync.db.models import Base, UTCDateTime, search_native
from gitwrite_sync.settings import Settings

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render `UTCDateTime` as the plain column type it stores as, so migrations do not
    import the models (a migration must keep working after the models change)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave out the full-text parts each database builds its own way (migration 0002)."""
    return not search_native(name, type_, getattr(getattr(obj, "table", None), "name", None))


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    # Foreign keys off on SQLite while tables are rebuilt; see gitwrite_sync.db.migrate.
    engine = make_engine(url, pool_size=1, sqlite_foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    asyncio.run(
        run_async(config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url)
    )
