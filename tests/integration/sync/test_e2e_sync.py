"""End to end on the real server, on SQLite and PostgreSQL: pushes racing for one branch,
writers syncing concurrently with prose merges, and fetches into empty repositories."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from dulwich.repo import Repo

from gitwrite.project import Project
from gitwrite.rest import ServerApi
from gitwrite.syncing import SyncStatus
from tests.builders import build_history, make_project, write
from tests.compat.gitcli import fsck, git
from tests.integration.sync.helpers import connect, fresh_repo, person, shared_repository
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MAIN = "refs/heads/main"
PARAGRAPHS = [
    f"Paragraph {n}: the rain on the roof, and what it meant on day {n}." for n in range(60)
]
TEXT = "# Chapter one\n\n" + "\n\n".join(PARAGRAPHS) + "\n"


def edit(project: Project, n: int, words: str) -> str:
    """Add ``words`` to paragraph ``n`` and save; returns the save's id."""
    text = project.read("chapter.md")
    write(project, {"chapter.md": text.replace(PARAGRAPHS[n], f"{PARAGRAPHS[n]} {words}", 1)})
    return project.save().id


def clone(project: Project, dest: Path) -> Project:
    shutil.copytree(project.root, dest)
    return Project.open(dest)


async def fetch_fresh(server: ServerProcess, token: str, repo: str, dest: Path) -> dict[str, str]:
    """Fetch everything into a new repository, check it with git fsck --strict."""
    local = fresh_repo(dest)
    async with await connect(server, token) as client:
        fetched = await client.fetch(repo, local)
    fsck(dest)
    return fetched.refs


async def test_racing_pushes_to_one_branch_land_or_are_stale(
    server: ServerProcess, tmp_path: Path
) -> None:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        editors = [await person(api, f"editor{n}") for n in range(5)]
        repo = await shared_repository(api, owner, *((e, "editor") for e in editors))
    base = make_project(tmp_path / "base", {"chapter.md": TEXT})
    async with await connect(server, owner) as first:
        assert (await first.push(repo, base.repo, [MAIN])).status == "ok"
    start = base.head_id()
    assert start is not None
    copies = [clone(base, tmp_path / f"w{n}") for n in range(5)]
    news = [edit(c, n, f"Writer {n}.") for n, c in enumerate(copies)]
    clients = [await connect(server, e) for e in editors]
    results = await asyncio.gather(
        *(
            c.push(repo, p.repo, [MAIN], old={MAIN: start.decode()})
            for c, p in zip(clients, copies, strict=True)
        )
    )
    statuses = sorted(r.status for r in results)
    assert statuses == ["ok"] + ["stale"] * 4
    winner = news[[r.status for r in results].index("ok")]
    for r in results:
        if r.status == "stale":
            assert r.refs == {MAIN: winner}  # told where the branch is now
    refs = (await clients[0].list_refs(repo)).refs
    assert refs[MAIN] == winner
    for c in clients:
        await c.close()
    assert (await fetch_fresh(server, owner.token, repo, tmp_path / "check"))[MAIN] == winner


@pytest.mark.parametrize("writers", [2, pytest.param(20, marks=pytest.mark.slow)])
async def test_concurrent_writers_lose_no_save(
    server: ServerProcess, tmp_path: Path, writers: int
) -> None:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        people = [await person(api, f"w{n}") for n in range(writers)]
        repo = await shared_repository(api, owner, *((p, "editor") for p in people))
    base = make_project(tmp_path / "base", {"chapter.md": TEXT})
    async with await connect(server, owner) as first:
        await first.sync_branch(base, repo)
    copies = [clone(base, tmp_path / f"w{n}") for n in range(writers)]
    saves: list[str] = []
    for n, copy in enumerate(copies):  # each writer saves twice, offline
        saves.append(edit(copy, (3 * n) % 60, f"Writer {n} first."))
        saves.append(edit(copy, (3 * n + 1) % 60, f"Writer {n} second."))
    clients = [await connect(server, p) for p in people]
    outcomes = await asyncio.gather(
        *(c.sync_branch(p, repo) for c, p in zip(clients, copies, strict=True))
    )
    assert {o.status for o in outcomes} <= {SyncStatus.PUSHED, SyncStatus.MERGED}
    for client, copy in zip(clients, copies, strict=True):  # one more round: all converge
        await client.sync_branch(copy, repo)
    heads = {c.head_id() for c in copies}
    refs = (await clients[0].list_refs(repo)).refs
    assert heads == {ObjectID(refs[MAIN].encode())}
    for c in clients:
        await c.close()
    await fetch_fresh(server, owner.token, repo, tmp_path / "check")
    history = set(git(tmp_path / "check", "rev-list", "refs/remotes/origin/main").split())
    assert set(saves) <= history  # no save lost
    final = copies[0].read("chapter.md")
    for n in range(writers):
        assert final.count(f"Writer {n} first.") == 1
        assert final.count(f"Writer {n} second.") == 1


async def test_a_fetch_into_an_empty_repository_matches_the_pusher(
    server: ServerProcess, tmp_path: Path
) -> None:
    async with ServerApi(server.base_url) as api:
        owner = await person(api, "owner")
        reader = await person(api, "reader")
        repo = await shared_repository(api, owner, (reader, "beta_reader"))
    project = make_project(tmp_path / "writer", {"chapter.md": TEXT, "notes/plan.md": "Plan.\n"})
    build_history(project, [{"chapter.md": TEXT.replace("rain", f"snow{n}")} for n in range(8)])
    project.explorations.create("darker ending", switch=True)
    build_history(project, [{"notes/plan.md": "Darker.\n"}])
    project.explorations.switch("main")
    project.milestones.create("first draft")
    project.annotations.create("chapter.md", 2, 9, kind="comment", body="Strong opening.")
    refs = ["refs/heads/main", "refs/heads/darker-ending", "refs/tags/first-draft"]
    refs.append("refs/gitwrite/annotations")
    async with await connect(server, owner) as client:
        assert (await client.push(repo, project.repo, refs)).status == "ok"
    fetched = await fetch_fresh(server, reader.token, repo, tmp_path / "empty")
    assert set(fetched) == set(refs)
    for ref in refs:
        local = "refs/remotes/origin/" + ref.removeprefix("refs/heads/")
        if not ref.startswith("refs/heads/"):
            local = "refs/gitwrite/remotes/origin/" + ref.removeprefix("refs/")
        ours = git(tmp_path / "empty", "log", "--format=%H %an <%ae> %at %s", local)
        theirs = git(project.root, "log", "--format=%H %an <%ae> %at %s", ref)
        assert ours == theirs
    # a second fetch after one more save brings a thin pack of that save only
    project.write_files({"chapter.md": (TEXT + "\nThe end.\n").encode()})
    project.save()
    async with await connect(server, owner) as client:
        await client.push(repo, project.repo, ["refs/heads/main"])
    async with await connect(server, reader) as client:
        incremental = await client.fetch(repo, Repo(str(tmp_path / "empty")))
        assert incremental.refs["refs/heads/main"] == project.head_id().decode()  # type: ignore[union-attr]
        assert 0 < incremental.pack_bytes < 2_000
    fsck(tmp_path / "empty")
