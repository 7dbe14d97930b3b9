"""Search fixtures: services on a fresh database (``database_url``: SQLite, then
PostgreSQL), an owner with a repository, and a `Writer` that pushes saves to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.search import SearchIndex, index_for
from gitwrite_sync.services import Services
from tests.integration.search.helpers import Writer
from tests.integration.server.conftest import make_settings

PASSWORD = "correct horse battery"


@dataclass
class Library:
    """One repository on a fresh database, with its owner and the index under test."""

    services: Services
    index: SearchIndex
    owner: User
    repo: str
    repo_id: int
    writer: Writer

    @property
    def db(self) -> Database:
        return self.services.db


@pytest.fixture
async def library(database_url: str, tmp_path: Path) -> AsyncIterator[Library]:
    settings = make_settings(database_url, tmp_path / "data")
    db = Database(database_url)
    services = Services.build(settings, db)
    owner = await services.users.create("owner@example.com", PASSWORD, "Owner")
    await services.repositories.create(owner, "novel")
    repo = await services.sync.readable(owner, "novel")
    writer = Writer(tmp_path / "writer", services, owner, "novel")
    try:
        yield Library(services, index_for(db), owner, "novel", repo.id, writer)
    finally:
        await db.dispose()
