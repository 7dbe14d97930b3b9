"""Database fixtures: a migrated template made once per session, copied for every test.

``database_url`` runs a test twice, on SQLite (the embedded default) and on PostgreSQL
(marked ``integration``), each time on a fresh migrated database: a copy of a migrated
SQLite file, or ``CREATE DATABASE ... TEMPLATE`` of a migrated Postgres database. Both
take milliseconds, so every server test can afford its own database.

Registered from ``tests/conftest.py`` as a plugin, so tests anywhere can use them:

- ``postgres_server`` (session): the running `PostgresServer`.
- ``postgres_url`` (session): ``postgresql+asyncpg://`` URL of an empty database made at
  start, shared by the session (clean up what you create there).
- ``postgres_database_url``: a fresh migrated Postgres database for one test.
- ``database_url``: a fresh migrated database, parametrized ``sqlite`` / ``postgres``.
- ``empty_database_url``: a fresh database with no tables, parametrized the same way.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.postgres import PostgresServer

TEMPLATE = "gitwrite_template"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]
POSTGRES_FIXTURES = {"postgres_server", "postgres_url", "postgres_database_url"}


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    from gitwrite_sync.db.migrate import upgrade

    upgrade(url)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses PostgreSQL ``integration`` (``-m "not integration"`` skips
    them as a group); parametrized backends carry the mark on their ``postgres`` param."""
    for item in items:
        if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("gitwrite")


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a migrated database that per-test databases are copied from."""
    migrate(postgres_server.create_database(TEMPLATE))
    return TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that per-test databases are copied from."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gitwrite.db"
    migrate(sqlite_url(path))
    # The migration's engine is disposed, so the WAL is checkpointed into the main file.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _fresh_postgres(request: pytest.FixtureRequest, *, migrated: bool) -> Iterator[str]:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template") if migrated else None
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _fresh_postgres(request, migrated=True)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "gitwrite.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield sqlite_url(path)
    else:
        yield from _fresh_postgres(request, migrated=True)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
    else:
        yield from _fresh_postgres(request, migrated=False)
