"""The app factory: health, one error shape for every failure, lifespan and OpenAPI."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from litestar import get
from litestar.exceptions import InternalServerException
from litestar.params import FromPath
from litestar.testing import TestClient
from sqlalchemy import text

from gitwrite_sync.app import create_app
from gitwrite_sync.errors import Conflict, RateLimited, ServerError
from gitwrite_sync.services import Services, services_of
from gitwrite_sync.settings import Settings
from gitwrite_sync.workers.queue import enqueue
from tests.integration.server.conftest import Api

pytestmark = pytest.mark.anyio


def test_health(api: Api) -> None:
    got = api.client.get("/health")
    assert (got.status_code, got.json()) == (200, {"status": "ok"})


def test_openapi_lists_the_routes(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    assert {"/auth/login", "/repositories", "/repositories/{name}", "/health"} <= set(paths)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("DELETE", "/health", 405, "method_not_allowed"),
        ("POST", "/auth/login", 400, "malformed"),  # no body at all
    ],
)
def test_framework_errors_have_the_same_shape(
    api: Api, method: str, path: str, status: int, code: str
) -> None:
    got = api.client.request(method, path)
    assert got.status_code == status
    body = got.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code


def test_domain_and_unexpected_errors_map_in_one_place(settings: Settings) -> None:
    @get("/boom/{kind:str}", sync_to_thread=False)
    def boom(kind: FromPath[str]) -> None:
        errors: dict[str, Exception] = {
            "conflict": Conflict("taken", field="name"),
            "limited": RateLimited("slow down", retry_after=7),
            "base": ServerError("odd"),
            "bug": KeyError("secret internals"),
        }
        raise errors[kind]

    app = create_app(settings)
    app.register(boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        conflict = client.get("/boom/conflict")
        limited = client.get("/boom/limited")
        base = client.get("/boom/base")
        bug = client.get("/boom/bug")
    assert (conflict.status_code, conflict.json()) == (
        409,
        {"code": "conflict", "message": "taken", "details": {"field": "name"}},
    )
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert base.status_code == 500 and base.json()["code"] == "internal"
    assert bug.status_code == 500
    assert bug.json() == {"code": "internal", "message": "internal server error", "details": {}}


async def test_the_embedded_worker_runs_jobs_while_the_app_serves(
    settings: Settings, services: Services
) -> None:
    # The app runs on the test client's own event loop: this test uses its own Database.
    with TestClient(create_app(replace(settings, embedded_worker=True))):
        async with services.db.write() as session:
            await enqueue(session, "auth.prune")
        remaining = None
        for _ in range(200):
            async with services.db.read() as session:
                remaining = (await session.execute(text("SELECT count(*) FROM jobs"))).scalar_one()
            if remaining == 0:
                break
            await asyncio.sleep(0.05)
    assert remaining == 0


def test_services_exist_only_while_the_app_runs(settings: Settings) -> None:
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="not started"):
        services_of(app.state)
    with TestClient(app):
        assert services_of(app.state).settings is settings


def test_framework_5xx_errors_hide_their_detail(settings: Settings) -> None:
    @get("/fail", sync_to_thread=False)
    def fail() -> None:
        raise InternalServerException("connection string postgres://secret@db")

    app = create_app(settings)
    app.register(fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        got = client.get("/fail")
    assert got.status_code == 500
    assert got.json() == {"code": "internal", "message": "internal server error", "details": {}}
