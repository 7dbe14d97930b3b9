"""The team REST API on the real app, once per test module and database.

``team`` starts the app (Litestar's test client) on a fresh migrated database (SQLite,
then PostgreSQL) for a whole module, with five accounts signed in: an owner, an editor,
a writer, a beta reader and an outsider. Each test makes its own repository
(`Team.project`), shared with the first four, so tests never see each other's saves.
``server`` (from the end-to-end tests) is the real server process, for the live tests.
A module may set ``SETTINGS`` (a dict of `Settings` fields) to start its app with other
limits.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from litestar.testing import TestClient

from gitwrite_sync.services import Services, services_of
from tests.integration.databases import BACKENDS, sqlite_url
from tests.integration.server.conftest import Account, Api, client_for, make_settings
from tests.integration.sync.conftest import server  # noqa: F401 (the real server process)

ROLES = ("owner", "editor", "writer", "beta")
PEOPLE = (*ROLES, "outsider")
T = TypeVar("T")
SHARED_ROLE = {"editor": "editor", "writer": "writer", "beta": "beta_reader"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Team:
    """The app, its services and the five accounts; helpers to call the API as one."""

    client: TestClient[Any]
    people: dict[str, Account] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return services_of(self.client.app.state)

    def headers(self, who: str | None) -> dict[str, str]:
        return self.people[who].headers if who is not None else {}

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, who: str | None, path: str, **kwargs: Any) -> httpx.Response:
        return self.call(who, "GET", path, **kwargs)

    def project(self, files: dict[str, str] | None = None, **roles: str) -> str:
        """A new repository of the owner, shared with the editor, writer and beta reader,
        whose first save (when ``files``) holds ``files``."""
        name = unique("novel")
        shares = {self.people[w].email: r for w, r in (roles or SHARED_ROLE).items()}
        Api(self.client).repository(self.people["owner"], name, **shares)
        for path, text in (files or {}).items():
            self.save(name, path, text)
        return name

    def save(self, repo: str, path: str, text: str, who: str = "owner", **fields: Any) -> Any:
        """A save through the API that must succeed; returns its body."""
        got = self.call(
            who, "POST", f"/repositories/{repo}/save",
            json={"file_path": path, "content": text, **fields},
        )  # fmt: skip
        assert got.status_code in (200, 201), got.text
        return got.json()

    def state(self, repo: str) -> tuple[int, dict[str, str]]:
        """The repository's event number and refs, as the sync service sees them."""

        async def read() -> tuple[dict[str, str], int]:
            owner = await self.services.users.by_email(self.people["owner"].email)
            return await self.services.sync.list_refs(owner, repo)

        refs, seq = self.run(read)
        return seq, refs

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` on the app's event loop (where its database pools live)."""
        return self.client.blocking_portal.call(work)

    def head(self, repo: str, branch: str = "main") -> str:
        return self.state(repo)[1][f"refs/heads/{branch}"]


@pytest.fixture(scope="module", params=BACKENDS)
def rest_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("rest-db") / "gitwrite.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield sqlite_url(path)
        return
    pg = request.getfixturevalue("postgres_server")
    name = f"rest_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template=request.getfixturevalue("postgres_template"))
    try:
        yield url
    finally:
        pg.drop_database(name)


@pytest.fixture(scope="module")
def team(
    request: pytest.FixtureRequest, rest_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Team]:
    changes = getattr(request.module, "SETTINGS", {})
    settings = make_settings(rest_database, tmp_path_factory.mktemp("rest-data"), **changes)
    with client_for(settings) as client:
        made = Team(client)
        api = Api(client)
        for who in PEOPLE:
            made.people[who] = api.account(unique(who))
        yield made
