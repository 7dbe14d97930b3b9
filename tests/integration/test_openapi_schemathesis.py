"""The OpenAPI the server generates, fuzzed by schemathesis against the real server
process (SQLite, then PostgreSQL): every operation, signed in, must answer without a 5xx,
with a status code, content type and body its schema documents.

Path parameters that name a repository get the account's own repository half the time
(with a save in it, so reads, history and search have something to find), else a random
name. Left out: ``POST /auth/logout`` (it would revoke the token the run signs in with)
and deleting that repository (the other operations need it). Bounded: a few examples per
operation, so a run takes seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.databases import BACKENDS
from tests.serverproc import ServerProcess

PASSWORD = "correct horse battery staple"
REPO = "fuzzed-novel"
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Target:
    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=BACKENDS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    data = tmp_path_factory.mktemp(f"schemathesis-{request.param}")
    database_url, drop = None, None
    if request.param == "postgres":
        pg = request.getfixturevalue("postgres_server")
        name = f"fuzz_{uuid.uuid4().hex[:12]}"
        database_url = pg.create_database(
            name, template=request.getfixturevalue("postgres_template")
        )
        drop = lambda: pg.drop_database(name)  # noqa: E731
    server = ServerProcess.start(data, database_url=database_url)
    try:
        yield Target(server, _seed(server))
    finally:
        server.stop()
        if drop:
            drop()


def _seed(server: ServerProcess) -> str:
    """An account with a repository holding one save; returns its access token."""
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as http:
        email = "fuzzer@example.com"
        assert http.post("/auth/register", json={"email": email, "password": PASSWORD}).is_success
        token = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        assert http.post("/repositories", json={"name": REPO}, headers=headers).is_success
        body = {"file_path": "chapter-01.md", "content": "# One\n\nThe whale sang.\n"}
        assert http.post(f"/repositories/{REPO}/save", json=body, headers=headers).is_success
        return str(token)


def _operations(target: Target) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{target.server.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [
        op for op in operations if (op.method.upper(), op.path) not in {("POST", "/auth/logout")}
    ]


def _fuzz(operation: Any, target: Target) -> str | None:
    """Run ``operation`` with generated requests; the first failure, described, or None."""
    deleting_repository = operation.method.upper() == "DELETE" and operation.path == (
        "/repositories/{name}"
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    @given(case=operation.as_strategy(), own=st.booleans())
    def run(case: Any, own: bool) -> None:
        if own and "name" in (case.path_parameters or {}) and not deleting_repository:
            case.path_parameters["name"] = REPO
        case.call_and_validate(
            base_url=target.server.base_url, headers=target.headers, checks=CHECKS
        )

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # check failures come as a group
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return None


def test_every_operation_answers_as_documented(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # schemathesis keeps a .schemathesis/ cache in the cwd
    operations = _operations(target)
    assert len(operations) > 20
    failures = [f for f in (_fuzz(op, target) for op in operations) if f is not None]
    assert not failures, "\n\n".join(failures)


def test_the_schema_lists_the_search_endpoint(target: Target) -> None:
    got = httpx.get(f"{target.server.base_url}/schema/openapi.json", timeout=30).json()
    search = got["paths"]["/repositories/{name}/search"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"name", "q", "limit"}
