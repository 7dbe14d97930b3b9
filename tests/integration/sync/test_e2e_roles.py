"""The role matrix over the real socket, on SQLite and PostgreSQL: every protocol operation
for an owner, editor, writer, beta reader, outsider, and with no, expired or revoked
tokens. A refused operation changes nothing on the server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect

from gitwrite.client import SyncClient, SyncError
from gitwrite.project import Project
from gitwrite.protocol import Error, ErrorCode, Hello, ListRefs, decode_server, encode
from gitwrite.rest import RestError, ServerApi
from tests.builders import build_history, make_project
from tests.integration.sync.helpers import (
    Person,
    connect,
    expired_token,
    fresh_repo,
    person,
    shared_repository,
)
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

OK = "ok"
FORBIDDEN, NOT_FOUND = ErrorCode.FORBIDDEN.value, ErrorCode.NOT_FOUND.value
OPERATIONS = [
    "list_refs",
    "fetch",
    "push_main",
    "push_exploration",
    "push_annotations",
    "force_push_main",
]
EXPECTED = {
    "owner": [OK, OK, OK, OK, OK, OK],
    "editor": [OK, OK, OK, OK, OK, OK],
    "writer": [OK, OK, FORBIDDEN, OK, OK, FORBIDDEN],
    "beta_reader": [OK, OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN],
    "outsider": [NOT_FOUND] * 6,
}


async def main_on_server(client: SyncClient, repo: str) -> str:
    """The server's main, as the owner sees it (a forced push still names what it replaces)."""
    try:
        return (await client.list_refs(repo)).refs["refs/heads/main"]
    except SyncError:  # this user may not even list refs: any id will do, it is refused
        return "0" * 40


async def run_operation(
    client: SyncClient, repo: str, name: str, project: Project, rewritten: Project
) -> str:
    """Do one operation; its outcome as ``ok`` or the error code."""
    try:
        match name:
            case "list_refs":
                await client.list_refs(repo)
            case "fetch":
                await client.fetch(repo, fresh_repo(project.root.parent / "fetched"))
            case "push_main":
                result = await client.push(repo, project.repo, ["refs/heads/main"])
                assert result.status == "ok", result
            case "push_exploration":
                result = await client.push(repo, project.repo, ["refs/heads/idea"])
                assert result.status == "ok", result
            case "push_annotations":
                result = await client.push(repo, project.repo, ["refs/gitwrite/annotations"])
                assert result.status == "ok", result
            case "force_push_main":
                # a rewritten main, over the server's current one (a compare-and-swap still)
                current = {"refs/heads/main": await main_on_server(client, repo)}
                result = await client.push(
                    repo, rewritten.repo, ["refs/heads/main"], force=True, old=current
                )
                assert result.status == "ok", result
    except SyncError as exc:
        return str(exc.code)
    return OK


async def setup(server: ServerProcess, tmp_path: Path) -> tuple[str, Person, dict[str, Person]]:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        people = {r: await person(api, r) for r in ("editor", "writer", "beta_reader")}
        people["outsider"] = await person(api, "outsider")
        repo = await shared_repository(
            api, owner, *((p, r) for r, p in people.items() if r != "outsider")
        )
    people["owner"] = owner
    seed = make_project(tmp_path / "seed", {"chapter.md": "# One\n\nIt begins.\n"})
    async with await connect(server, owner) as client:
        assert (await client.push(repo, seed.repo, ["refs/heads/main"])).status == "ok"
    return repo, owner, people


def working_copies(tmp_path: Path, role: str) -> tuple[Project, Project]:
    """A copy with new saves on main, an exploration and an annotation; and a copy whose
    main was rewritten (a force push)."""
    project = Project.open(shutil.copytree(tmp_path / "seed", tmp_path / role / "work"))
    build_history(project, [{"chapter.md": f"# One\n\nIt begins, said the {role}.\n"}])
    project.explorations.create("idea")
    project.annotations.create("chapter.md", 2, 5, kind="comment", body=f"From the {role}.")
    rewritten = make_project(tmp_path / role / "rewritten", {"chapter.md": "Another start.\n"})
    return project, rewritten


async def server_state(server: ServerProcess, owner: Person, repo: str) -> tuple[dict, int]:
    async with await connect(server, owner) as client:
        refs = await client.list_refs(repo)
    return refs.refs, refs.seq


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_each_role_may_do_what_the_matrix_says(
    server: ServerProcess, tmp_path: Path, role: str
) -> None:
    repo, owner, people = await setup(server, tmp_path)
    project, rewritten = working_copies(tmp_path, role)
    outcomes = []
    async with await connect(server, people[role]) as client:
        for operation in OPERATIONS:
            before = await server_state(server, owner, repo)
            outcome = await run_operation(client, repo, operation, project, rewritten)
            outcomes.append(outcome)
            if outcome != OK:
                assert await server_state(server, owner, repo) == before, operation
    assert dict(zip(OPERATIONS, outcomes, strict=True)) == dict(
        zip(OPERATIONS, EXPECTED[role], strict=True)
    )


async def test_a_push_that_is_not_a_fast_forward_needs_force(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, owner, _ = await setup(server, tmp_path)
    _, rewritten = working_copies(tmp_path, "owner")
    before = await server_state(server, owner, repo)
    async with await connect(server, owner) as client:
        current = {"refs/heads/main": await main_on_server(client, repo)}
        with pytest.raises(SyncError) as info:
            await client.push(repo, rewritten.repo, ["refs/heads/main"], old=current)
    assert info.value.code == ErrorCode.NOT_FAST_FORWARD
    assert await server_state(server, owner, repo) == before


@pytest.mark.parametrize("token", ["none", "empty", "garbage", "expired", "revoked"])
async def test_without_a_valid_token_nothing_is_served(
    server: ServerProcess, tmp_path: Path, token: str
) -> None:
    repo, owner, people = await setup(server, tmp_path)
    before = await server_state(server, owner, repo)
    writer = people["writer"]
    if token == "none":
        # no Auth at all: Hello, then a request, on a raw socket
        async with ws_connect(server.ws_url) as ws:
            await ws.send(encode(Hello(version=1)))
            await ws.send(encode(ListRefs(id=1, repo=repo)))
            answer = decode_server(await ws.recv())  # type: ignore[arg-type]
            assert isinstance(answer, Error) and answer.code == ErrorCode.UNAUTHENTICATED
    else:
        value = {
            "empty": "",
            "garbage": "not.a.token",
            "expired": expired_token(writer.id),
            "revoked": writer.token,
        }[token]
        if token == "revoked":
            async with ServerApi(server.base_url) as api:
                await api.logout(writer.tokens)
        with pytest.raises(SyncError) as info:
            await SyncClient.connect(server.ws_url, value, timeout=30)
        assert info.value.code == ErrorCode.UNAUTHENTICATED
    assert await server_state(server, owner, repo) == before


async def test_the_rest_helper_reports_refusals_with_their_codes(server: ServerProcess) -> None:
    async with ServerApi(server.base_url) as api:
        assert await api.health()
        someone = await person(api, "someone")
        with pytest.raises(RestError) as wrong:
            await api.login(someone.email, "not the password")
        assert (wrong.value.status, wrong.value.code) == (401, "unauthenticated")
        with pytest.raises(RestError) as missing:
            await api.repository(someone.token, "no-such-repository")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
    async with ServerApi("http://127.0.0.1:9") as nowhere:
        assert not await nowhere.health()
        with pytest.raises(RestError) as unreachable:
            await nowhere.login("a@example.com", "x")
        assert unreachable.value.code == "unreachable"
