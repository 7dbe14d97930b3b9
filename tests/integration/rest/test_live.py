"""REST and the desktop's sync protocol on the real server process, on SQLite and
PostgreSQL: a save made through REST reaches a subscribed desktop live (the sync
client gets the notice, then fetches it), and what a desktop pushes, REST shows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from dulwich.refs import Ref

from gitwrite.client import SyncClient
from gitwrite.project import Project
from gitwrite.protocol import Notice
from gitwrite.rest import ServerApi
from tests.builders import build_history, make_project
from tests.integration.sync.helpers import Person, connect, fresh_repo, person, shared_repository
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MAIN = "refs/heads/main"
TEXT = "# One\n\nThe rain began at dusk.\n\nBy morning the river had risen.\n"


async def next_notice(client: SyncClient, timeout: float = 15) -> Notice:
    async def first() -> Notice:
        async for event in client.events():
            if isinstance(event, Notice):
                return event
        raise AssertionError("the connection ended before a notice came")

    return await asyncio.wait_for(first(), timeout)


async def rest(
    server: ServerProcess, who: Person, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {who.token}"}
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as http:
        return await http.request(method, path, headers=headers, **kwargs)


async def team(server: ServerProcess) -> tuple[Person, Person, str]:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        editor = await person(api, "editor")
        repo = await shared_repository(api, owner, (editor, "editor"))
    return owner, editor, repo


async def test_a_rest_save_reaches_a_subscribed_desktop_live(
    server: ServerProcess, tmp_path: Path
) -> None:
    owner, editor, repo = await team(server)
    async with await connect(server, editor) as desktop:
        await desktop.subscribe({repo: 0})
        await desktop.list_refs(repo)  # the subscription is in place once this answers
        made = await rest(
            server, owner, "POST", f"/repositories/{repo}/save",
            json={"file_path": "chapter.md", "content": TEXT, "message": "From the web"},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        notice = await next_notice(desktop)
        assert (notice.repo, notice.seq, notice.ref, notice.new) == (
            repo,
            1,
            MAIN,
            made.json()["id"],
        )
        local = fresh_repo(tmp_path / "desk")
        fetched = await desktop.fetch(repo, local)
        assert fetched.refs == {MAIN: made.json()["id"]}
        tree = local[local[made.json()["id"].encode()].tree]
        assert local[tree[b"chapter.md"][1]].data.decode() == TEXT

        renamed = await rest(
            server, owner, "POST", f"/repositories/{repo}/explorations", json={"name": "idea"}
        )
        assert renamed.status_code == 201
        notice = await next_notice(desktop)
        assert (notice.seq, notice.ref) == (2, "refs/heads/idea")


async def test_what_a_desktop_pushes_rest_shows_and_back(
    server: ServerProcess, tmp_path: Path
) -> None:
    owner, editor, repo = await team(server)
    project = make_project(tmp_path / "desk", {"chapter.md": TEXT})
    build_history(project, [{"chapter.md": TEXT + "\nThe bridge held.\n"}, {"notes.md": "N.\n"}])
    async with await connect(server, editor) as desktop:
        assert (await desktop.push(repo, project.repo, [MAIN])).status == "ok"
        desk_saves = [s.id for s in project.history()]
        history = await rest(server, owner, "GET", f"/repositories/{repo}/history")
        assert [s["id"] for s in history.json()["items"]] == desk_saves
        assert history.json()["items"][1]["words_added"] == 3  # from the desktop's trailer
        file = await rest(server, owner, "GET", f"/repositories/{repo}/files/chapter.md")
        assert file.text == project.read("chapter.md")
        overview = (await rest(server, owner, "GET", f"/repositories/{repo}")).json()
        assert {f["path"] for f in overview["files"]} == {".gitignore", "chapter.md", "notes.md"}

        # Made through REST, then synced to the desktop with the protocol.
        saved = await rest(
            server, owner, "POST", f"/repositories/{repo}/save",
            json={"file_path": "chapter.md", "content": TEXT, "expected_head": desk_saves[0]},
        )  # fmt: skip
        assert saved.status_code == 201, saved.text
        milestone = await rest(
            server, owner, "POST", f"/repositories/{repo}/milestones", json={"name": "web draft"}
        )
        assert milestone.status_code == 201
        note = await rest(
            server, editor, "POST", f"/repositories/{repo}/annotations",
            json={"path": "chapter.md", "start": 2, "end": 5, "kind": "comment", "body": "Hm."},
        )  # fmt: skip
        assert note.status_code == 201
        await desktop.sync_branch(project, repo)
        assert project.head_id() == saved.json()["id"].encode()
        assert project.read("chapter.md") == TEXT

        copy = fresh_repo(tmp_path / "copy")
        fetched = await desktop.fetch(repo, copy)
        for ref, sha in fetched.refs.items():
            copy.refs[Ref(ref.encode())] = sha.encode()
        copy.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(MAIN.encode()))
        other = Project.open(tmp_path / "copy")
        [shown] = other.milestones.list()
        assert (shown.name, shown.save_id) == ("web draft", saved.json()["id"])
        [thread] = other.annotations.list()
        assert thread.annotation.id == note.json()["id"] and thread.annotation.quote == "One"
