"""The Alembic migrations build exactly the schema of models.py, on SQLite and Postgres."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from gitwrite_sync.db import migrate
from gitwrite_sync.db.engine import make_engine
from gitwrite_sync.db.models import Base, search_native
from gitwrite_sync.errors import Unavailable
from tests.integration.postgres import free_port

pytestmark = pytest.mark.anyio


async def _inspect(url: str, fn: Any) -> Any:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _differences(conn: Connection) -> list[Any]:
    # The full-text parts each database builds its own way are not in the models.
    opts = {"compare_type": True, "include_object": _modelled}
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, Base.metadata))


def _modelled(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not search_native(name, type_, getattr(getattr(obj, "table", None), "name", None))


def _tables(conn: Connection) -> set[str]:
    return {t for t in inspect(conn).get_table_names() if not search_native(t, "table")}


async def test_upgrade_builds_the_schema_of_the_models(empty_database_url: str) -> None:
    assert await migrate.current_async(empty_database_url) is None
    await migrate.upgrade_async(empty_database_url)
    assert await migrate.current_async(empty_database_url) == migrate.head()
    assert await _inspect(empty_database_url, _differences) == []
    assert await _inspect(empty_database_url, _tables) == set(Base.metadata.tables) | {
        "alembic_version"
    }


async def test_upgrade_twice_changes_nothing(empty_database_url: str) -> None:
    await migrate.upgrade_async(empty_database_url)
    await migrate.upgrade_async(empty_database_url)
    assert await _inspect(empty_database_url, _differences) == []


async def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    await migrate.upgrade_async(empty_database_url)
    await migrate.downgrade_async(empty_database_url, "base")
    assert await _inspect(empty_database_url, _tables) == {"alembic_version"}
    assert await migrate.current_async(empty_database_url) is None
    await migrate.upgrade_async(empty_database_url)
    assert await _inspect(empty_database_url, _differences) == []


def test_the_sync_entry_point_migrates(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()


async def test_unreachable_database_is_a_domain_error() -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    with pytest.raises(Unavailable, match="cannot reach the database"):
        await migrate.upgrade_async(url)


def test_env_py_opens_its_own_async_engine_when_run_by_alembic(empty_database_url: str) -> None:
    # What a developer's `alembic upgrade head` with a config of their own does.
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", empty_database_url)
    command.upgrade(cfg, "head")
    assert migrate.current(empty_database_url) == migrate.head()
