"""Server fixtures: settings for a test, the services on a fresh database, the real app
behind Litestar's test client, and accounts signed in through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from gitwrite_sync.app import create_app
from gitwrite_sync.db.engine import Database
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings

PASSWORD = "correct horse battery"


def make_settings(database_url: str, data_dir: Path, **changes: Any) -> Settings:
    """Settings for tests: cheap argon2 (the real parameters cost ~0.25 s a hash here) and
    no in-process worker (tests that want one start it)."""
    base = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        embedded_worker=False,
    )
    return replace(base, **changes)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    db = Database(settings.database_url)
    yield Services.build(settings, db)
    await db.dispose()


@dataclass
class Account:
    email: str
    id: int
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    """The app under Litestar's test client, with helpers to make accounts."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client

    def account(self, name: str) -> Account:
        email = f"{name}@example.com"
        made = self.client.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "display_name": name}
        )
        assert made.status_code == 201, made.text
        tokens = self.client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(email, made.json()["id"], body["access_token"], body["refresh_token"])

    def repository(self, owner: Account, name: str, **shares: str) -> None:
        """A repository of ``owner`` shared with ``shares`` (email → role)."""
        made = self.client.post("/repositories", json={"name": name}, headers=owner.headers)
        assert made.status_code == 201, made.text
        for email, role in shares.items():
            done = self.client.post(
                f"/repositories/{name}/collaborators",
                json={"email": email, "role": role},
                headers=owner.headers,
            )
            assert done.status_code == 201, done.text


def client_for(settings: Settings) -> TestClient[Any]:
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with client_for(settings) as client:
        yield Api(client)
