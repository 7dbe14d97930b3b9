"""End-to-end fixtures: the real server process on each database.

``server`` starts ``gitwrite-server serve`` once per test module and database (SQLite in
a temporary data folder, then a fresh PostgreSQL database), so every test makes its own
accounts and repositories (unique names; see `tests.integration.sync.helpers`) instead of
its own server. A module may set ``SERVER_ENV`` (a dict of environment variables) to start
its servers with other limits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.integration.databases import BACKENDS
from tests.serverproc import ServerProcess


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    extra = getattr(request.module, "SERVER_ENV", {})
    data = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        process = ServerProcess.start(data, **extra)
        try:
            yield process
        finally:
            process.stop()
        return
    pg = request.getfixturevalue("postgres_server")
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template=request.getfixturevalue("postgres_template"))
    process = ServerProcess.start(data, database_url=url, **extra)
    try:
        yield process
    finally:
        process.stop()
        pg.drop_database(name)
