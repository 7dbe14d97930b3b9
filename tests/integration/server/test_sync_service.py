"""The sync service on SQLite and PostgreSQL: push and fetch as DESIGN §4 orders them,
roles, fast-forwards and force, lost races, events, jobs and notices; a refused push
changes nothing and a ref never points at an object the server lacks."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from dulwich.objects import Blob, ObjectID
from dulwich.repo import Repo
from sqlalchemy import func, select

from gitwrite.packs import apply_pack, build_push_pack
from gitwrite.project import Project
from gitwrite.protocol import ZERO_ID, Notice
from gitwrite_sync.db.models import GitObject, Job, Ref, User
from gitwrite_sync.domain.access import Role
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import (
    Forbidden,
    InvalidInput,
    MissingObjects,
    NotFastForward,
    NotFound,
    RefNotAllowed,
)
from gitwrite_sync.services import Services
from gitwrite_sync.storage import RefChange
from tests.builders import build_history
from tests.integration.storage.conftest import first_parent_line, head, novel_project

pytestmark = pytest.mark.anyio
MAIN = "refs/heads/main"
PASSWORD = "correct horse battery"


@dataclass
class Team:
    services: Services
    repo: str
    people: dict[str, User]

    @property
    def sync(self) -> SyncService:
        return self.services.sync


@pytest.fixture
async def team(services: Services) -> Team:
    people = {}
    for name in ("owner", "editor", "writer", "beta_reader", "outsider"):
        people[name] = await services.users.create(f"{name}@example.com", PASSWORD, name)
    await services.repositories.create(people["owner"], "novel")
    for name in ("editor", "writer", "beta_reader"):
        await services.repositories.share(
            people["owner"], "novel", f"{name}@example.com", Role(name)
        )
    return Team(services, "novel", people)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return novel_project(tmp_path / "writer", saves=4, chapter_count=2)


def sha(oid: ObjectID) -> str:
    return oid.decode()


async def push(
    team: Team,
    who: str,
    project: Project,
    ref: str,
    new: ObjectID,
    *,
    old: str = ZERO_ID,
    known: list[ObjectID] | None = None,
    force: bool = False,
) -> str:
    pack = build_push_pack(project.repo, [new], known or [])
    outcome = await team.sync.push(
        team.people[who], team.repo, [RefChange(ref, old, sha(new))], pack, force=force
    )
    return outcome.status


async def refs_point_at_stored_objects(team: Team) -> None:
    async with team.services.db.read() as session:
        targets = (await session.execute(select(Ref.sha))).scalars().all()
        stored = set((await session.execute(select(GitObject.sha))).scalars().all())
    assert set(targets) <= stored


async def object_count(team: Team) -> int:
    async with team.services.db.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(GitObject))).scalar_one()
        )


async def test_a_push_is_stored_logged_queued_and_announced(
    team: Team, project: Project, tmp_path: Path
) -> None:
    heard: list[Notice] = []
    team.services.fanout.subscribe("novel", heard.append)
    pack = build_push_pack(project.repo, [head(project)], [])
    outcome = await team.sync.push(
        team.people["writer"],
        "novel",
        [RefChange("refs/heads/draft", ZERO_ID, sha(head(project)))],
        pack,
    )
    assert (outcome.status, outcome.seq, outcome.refs) == (
        "ok",
        1,
        {"refs/heads/draft": sha(head(project))},
    )
    assert outcome.objects == len(list(project.repo.object_store))
    await asyncio.sleep(0.01)  # the fanout delivers on the next turn of the loop
    assert heard == [Notice("novel", 1, "refs/heads/draft", ZERO_ID, sha(head(project)))]
    async with team.services.db.read() as session:
        [job] = (await session.execute(select(Job))).scalars().all()
    assert job.kind == "index_push"
    assert json.loads(job.payload)["refs"] == {"refs/heads/draft": sha(head(project))}
    fetched = await team.sync.fetch(team.people["beta_reader"], "novel", [], [])
    assert (fetched.refs, fetched.seq) == ({"refs/heads/draft": sha(head(project))}, 1)
    clone = Repo.init(str(tmp_path / "clone"), mkdir=True)
    assert len(apply_pack(clone, fetched.pack.data)) == outcome.objects
    await refs_point_at_stored_objects(team)


ROLE_CASES = {
    # role: (main, exploration, milestone tag, annotations)
    "owner": ("ok", "ok", "ok", "ok"),
    "editor": ("ok", "ok", "ok", "ok"),
    "writer": (Forbidden, "ok", Forbidden, "ok"),
    "beta_reader": (Forbidden, Forbidden, Forbidden, "ok"),
    "outsider": (NotFound, NotFound, NotFound, NotFound),
}
REFS = (MAIN, "refs/heads/darker-ending", "refs/tags/first-draft", "refs/gitwrite/annotations")


@pytest.mark.parametrize("role", sorted(ROLE_CASES))
async def test_each_role_pushes_only_where_the_matrix_allows(
    team: Team, project: Project, role: str
) -> None:
    for ref, expected in zip(REFS, ROLE_CASES[role], strict=True):
        before = await object_count(team)
        if expected == "ok":
            assert await push(team, role, project, ref, head(project)) == "ok"
        else:
            with pytest.raises(expected):  # type: ignore[call-overload]
                await push(team, role, project, ref, head(project))
            assert await object_count(team) == before
    await refs_point_at_stored_objects(team)


@pytest.mark.parametrize(
    "ref", ["HEAD", "refs/heads/a..b", "refs/hooks/post-receive", "refs/heads/"]
)
async def test_refs_gitwrite_does_not_keep_are_refused_for_everyone(
    team: Team, project: Project, ref: str
) -> None:
    with pytest.raises(RefNotAllowed):
        await push(team, "owner", project, ref, head(project))


async def test_an_update_that_drops_saves_needs_force_and_a_role_that_may(
    team: Team, project: Project, tmp_path: Path
) -> None:
    line = first_parent_line(project)
    assert await push(team, "owner", project, MAIN, line[-1]) == "ok"
    other = novel_project(tmp_path / "other", saves=1, chapter_count=1)
    with pytest.raises(NotFastForward):
        await push(team, "editor", other, MAIN, head(other), old=sha(line[-1]))
    with pytest.raises(NotFastForward):  # going back is not forward either
        await push(team, "editor", project, MAIN, line[-2], old=sha(line[-1]))
    assert await push(team, "writer", project, "refs/heads/e", line[-1]) == "ok"
    with pytest.raises(Forbidden):
        await push(team, "writer", project, "refs/heads/e", line[-2], old=sha(line[-1]), force=True)
    assert (
        await push(team, "editor", other, MAIN, head(other), old=sha(line[-1]), force=True) == "ok"
    )
    refs, _ = await team.sync.list_refs(team.people["owner"], "novel")
    assert refs[MAIN] == sha(head(other))


async def test_a_wrong_old_id_is_stale_and_stores_nothing(team: Team, project: Project) -> None:
    line = first_parent_line(project)
    assert await push(team, "owner", project, MAIN, line[-2]) == "ok"
    before = await object_count(team)
    outcome = await team.sync.push(
        team.people["owner"],
        "novel",
        [RefChange(MAIN, ZERO_ID, sha(line[-1]))],
        build_push_pack(project.repo, [line[-1]], [line[-2]]),
    )
    assert (outcome.status, outcome.refs, outcome.seq) == ("stale", {MAIN: sha(line[-2])}, 1)
    assert await object_count(team) == before


async def test_of_racing_pushes_one_lands_and_the_others_are_told_where_the_ref_is(
    team: Team, project: Project, tmp_path: Path
) -> None:
    base = first_parent_line(project)[1]
    assert await push(team, "owner", project, MAIN, base) == "ok"
    saves = []
    for n in range(4):
        writer = novel_project(tmp_path / f"w{n}", saves=0, chapter_count=2)
        writer.repo.object_store.add_objects(
            [(project.repo[s], None) for s in project.repo.object_store]
        )
        writer.repo.refs[b"refs/heads/main"] = base
        writer.checkout_tree(project.repo[base].tree)  # type: ignore[attr-defined]
        build_history(writer, [{f"chapter-{n}.md": f"Writer {n} was here.\n"}])
        saves.append((writer, head(writer)))
    results = await asyncio.gather(
        *(push(team, "editor", w, MAIN, new, old=sha(base), known=[base]) for w, new in saves)
    )
    assert sorted(results) == ["ok", "stale", "stale", "stale"]
    refs, seq = await team.sync.list_refs(team.people["owner"], "novel")
    assert refs[MAIN] == sha(saves[results.index("ok")][1]) and seq == 2
    await refs_point_at_stored_objects(team)


async def test_checks_on_what_refs_may_point_at(team: Team, project: Project) -> None:
    owner = team.people["owner"]
    blob = Blob.from_string(b"not a save\n")
    project.repo.object_store.add_object(blob)
    with pytest.raises(InvalidInput, match="must point at a save"):
        await push(team, "owner", project, "refs/heads/blob", blob.id)
    assert await push(team, "owner", project, MAIN, head(project)) == "ok"
    with pytest.raises(Forbidden, match="cannot be deleted"):
        await team.sync.push(owner, "novel", [RefChange(MAIN, sha(head(project)), ZERO_ID)])
    with pytest.raises(InvalidInput, match="only once"):
        changes = [RefChange("refs/heads/x", ZERO_ID, sha(head(project)))] * 2
        await team.sync.push(owner, "novel", changes)
    with pytest.raises(MissingObjects):
        await team.sync.push(owner, "novel", [RefChange("refs/heads/y", ZERO_ID, "ab" * 20)])
    with pytest.raises(NotFound):
        await team.sync.push(owner, "no-such-novel", [RefChange(MAIN, ZERO_ID, sha(head(project)))])
    # A branch may be deleted, and pushed again from nothing.
    await team.sync.push(owner, "novel", [RefChange("refs/heads/z", ZERO_ID, sha(head(project)))])
    gone = await team.sync.push(
        owner, "novel", [RefChange("refs/heads/z", sha(head(project)), ZERO_ID)]
    )
    assert (
        gone.status == "ok" and "refs/heads/z" not in (await team.sync.list_refs(owner, "novel"))[0]
    )
    await refs_point_at_stored_objects(team)


async def test_fetch_wants_by_name_or_id_and_replays_by_sequence(
    team: Team, project: Project
) -> None:
    line = first_parent_line(project)
    known: list[ObjectID] = []
    old = ZERO_ID
    for save in line:
        assert await push(team, "owner", project, MAIN, save, old=old, known=known) == "ok"
        old, known = sha(save), [save]
    reader = team.people["beta_reader"]
    by_name = await team.sync.fetch(reader, "novel", [MAIN], [sha(line[-2])])
    assert by_name.refs == {MAIN: sha(line[-1])} and by_name.pack.objects in (3, 5)
    by_id = await team.sync.fetch(reader, "novel", [sha(line[-2])], [sha(line[-3])])
    assert by_id.refs == {} and by_id.pack.objects in (3, 5)
    with pytest.raises(NotFound):
        await team.sync.fetch(reader, "novel", ["refs/heads/nothing"], [])
    with pytest.raises(NotFound):
        await team.sync.fetch(team.people["outsider"], "novel", [], [])
    replay = await team.sync.replay(reader, "novel", len(line) - 2)
    assert [(e.seq, e.new) for e in replay.events] == [
        (len(line) - 1, sha(line[-2])),
        (len(line), sha(line[-1])),
    ]
