"""Schema migrations (Alembic), shipped inside the package: no alembic.ini needed.

`upgrade` brings a database to the newest schema; the server runs it at start on the
embedded default, an admin runs ``gitwrite-server migrate`` in a cluster. Each upgrade runs
in one transaction, on SQLite too, so a failed one leaves the schema as it was.

Writing a migration after changing `gitwrite_sync.db.models`::

    from gitwrite_sync.db.migrate import make_revision
    make_revision("sqlite+aiosqlite:////tmp/x.db", "add the search index", rev_id="0002")

autogenerates ``versions/0002_add_the_search_index.py`` against a database migrated to the
current head (the file is created empty first, if needed); read it, then check it on
Postgres (``tests/integration/db/test_migrations.py`` does on every run).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url

from gitwrite_sync.db.engine import make_engine
from gitwrite_sync.errors import Unavailable

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """The Alembic configuration, built in code."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def head() -> str:
    """The newest revision shipped with this version of the server."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def _on(connection: Connection, action: str, revision: str, message: str = "") -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, revision)
        if connection.dialect.name == "sqlite":
            # Foreign keys are off while migrating (table rebuilds); check them before commit.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
    elif action == "downgrade":
        command.downgrade(cfg, revision)
    elif action == "revision":
        command.revision(cfg, message=message, autogenerate=True, rev_id=revision)


async def _run(url: str, action: str, revision: str, message: str = "") -> None:
    engine = make_engine(url, pool_size=1, sqlite_foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_on, action, revision, message)
    except (OSError, sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise Unavailable(f"cannot reach the database: {exc}", url=_safe(url)) from exc
    finally:
        await engine.dispose()


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (the newest by default)."""
    await _run(url, "upgrade", revision)


def upgrade(url: str, revision: str = "head") -> None:
    """`upgrade_async` for callers outside an event loop (CLI, test fixtures)."""
    asyncio.run(upgrade_async(url, revision))


async def downgrade_async(url: str, revision: str) -> None:
    await _run(url, "downgrade", revision)


async def current_async(url: str) -> str | None:
    """The revision the database at ``url`` is at (None: never migrated)."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    except (OSError, sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise Unavailable(f"cannot reach the database: {exc}", url=_safe(url)) from exc
    finally:
        await engine.dispose()


def current(url: str) -> str | None:
    return asyncio.run(current_async(url))


def make_revision(url: str, message: str, *, rev_id: str) -> None:
    """Autogenerate a migration from the difference between ``url`` (brought to the current
    head first) and the models. For developers; the result must be read and tested."""

    async def go() -> None:
        await upgrade_async(url)
        await _run(url, "revision", rev_id, message)

    asyncio.run(go())
