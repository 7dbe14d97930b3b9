"""Looking at what the REST API stored: the repository exported into a real git
repository on disk, and the rows behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dulwich.objects import Commit
from dulwich.refs import Ref
from dulwich.repo import Repo
from sqlalchemy import select

from gitwrite.packs import apply_pack
from gitwrite_sync.db.models import GitObject, Job, Repository
from tests.compat.gitcli import fsck
from tests.integration.rest.conftest import Team


def export(team: Team, repo: str, dest: Path) -> Repo:
    """Every ref and object of ``repo`` fetched into a new repository at ``dest``, which
    ``git fsck --strict`` must find sound."""

    async def fetch() -> Any:
        owner = await team.services.users.by_email(team.people["owner"].email)
        return await team.services.sync.fetch(owner, repo, [], [])

    fetched = team.run(fetch)
    local = Repo.init(str(dest), mkdir=True)
    apply_pack(local, fetched.pack.data, complete=True)
    for ref, sha in fetched.refs.items():
        local.refs[Ref(ref.encode())] = sha.encode()
    local.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(b"refs/heads/main"))
    fsck(dest)
    return local


def commit(local: Repo, sha: str) -> Commit:
    obj = local[sha.encode()]
    assert isinstance(obj, Commit)
    return obj


def object_rows(team: Team, repo: str) -> dict[str, GitObject]:
    async def read() -> dict[str, GitObject]:
        async with team.services.db.read() as session:
            repo_id = (
                await session.execute(select(Repository.id).where(Repository.name == repo))
            ).scalar_one()
            rows = await session.execute(select(GitObject).where(GitObject.repo_id == repo_id))
            return {row.sha: row for row in rows.scalars()}

    return team.run(read)


def jobs(team: Team, kind: str) -> list[Job]:
    async def read() -> list[Job]:
        async with team.services.db.read() as session:
            return list((await session.execute(select(Job).where(Job.kind == kind))).scalars())

    return team.run(read)
