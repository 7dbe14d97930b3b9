"""The database fixtures themselves: a loopback-only throwaway server, fresh databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from gitwrite_sync.db.engine import Database
from tests.integration import postgres
from tests.integration.postgres import PostgresServer, PostgresUnavailable

pytestmark = pytest.mark.anyio


def test_server_listens_on_loopback_only_without_fsync(postgres_server: PostgresServer) -> None:
    assert postgres_server.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    assert postgres_server.psql("SHOW fsync").strip() == "off"
    assert postgres_server.psql("SHOW port").strip() == str(postgres_server.port)
    assert postgres_server.socketdir.is_dir()


def test_postgres_url_is_asyncpg(postgres_url: str, postgres_server: PostgresServer) -> None:
    assert (
        postgres_url == f"postgresql+asyncpg://gitwrite@127.0.0.1:{postgres_server.port}/gitwrite"
    )


async def _insert_and_count(url: str) -> int:
    db = Database(url)
    try:
        async with db.write() as session:
            await session.execute(
                text("INSERT INTO rate_counters (key, window_start, count) VALUES ('k', 1, 1)")
            )
        async with db.read() as session:
            return int((await session.execute(text("SELECT count(*) FROM rate_counters"))).one()[0])
    finally:
        await db.dispose()


# Two tests writing the same row: each sees only its own, so neither database is shared.
@pytest.mark.parametrize("attempt", [1, 2])
async def test_each_test_gets_a_fresh_migrated_database(database_url: str, attempt: int) -> None:
    assert await _insert_and_count(database_url) == 1


async def test_empty_database_has_no_tables(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        async with db.read() as session:
            names = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
    finally:
        await db.dispose()
    assert names == []


def test_missing_binaries_fail_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PG_BINDIR", raising=False)
    monkeypatch.setattr(postgres, "_SEARCH_DIRS", (str(tmp_path),))
    with pytest.raises(PostgresUnavailable, match="install-system-packages"):
        postgres.find_bindir()
