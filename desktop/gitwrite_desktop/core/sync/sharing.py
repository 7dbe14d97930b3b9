"""Sharing a project, cloning one, inviting collaborators (run on the engine's loop).

* `share_project`: ``POST /repositories`` on the account's server (the writer becomes its
  owner; a name already taken there is `RepositoryTaken`), the share is recorded in the
  workspace, and a first sync pushes every branch, milestone and the annotations. It
  ends when that sync has, and raises what stopped it.
* `clone_project`: the repository's details (``GET /repositories/{name}``, for its main
  story), every ref and object in one fetch, then `CloneInto` on the writer thread;
  ``progress(phase, done, total)`` follows along (`ClonePhase`).
* `invite`: ``POST /repositories/{name}/collaborators`` with an email and a role.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gitwrite.client import Disconnected, SyncError
from gitwrite.protocol import Fetch, FetchResult
from gitwrite_desktop.core.operations import ShareProject
from gitwrite_desktop.core.sync.clone import CloneInto, ClonePhase, Progress
from gitwrite_desktop.core.sync.errors import (
    RepositoryTaken,
    ServerRefused,
    ServerUnreachable,
    SyncProblem,
)
from gitwrite_desktop.core.sync.operations import FetchedPack

if TYPE_CHECKING:
    from pathlib import Path

    from gitwrite.rest import ServerApi
    from gitwrite_desktop.core.sync.engine import SyncEngine
    from gitwrite_desktop.core.workspace import ProjectEntry, Share

__all__ = ["ClonePhase", "Progress", "clone_project", "invite", "share_project"]


async def share_project(
    engine: SyncEngine, project_id: str, account_id: str, repository: str, description: str
) -> Share:
    account = engine.link(account_id).account

    async def create(api: ServerApi, token: str) -> Any:
        return await api.create_repository(token, repository, description)

    try:
        await engine.accounts.call(account, create)
    except ServerRefused as exc:
        if exc.status == 409:
            raise RepositoryTaken(repository, exc.message) from exc
        raise
    share = await engine.run_op(ShareProject(project_id, account_id, repository))
    await engine.reload()
    sync = engine.link(account_id).shares[project_id]
    sync.request("now")
    await sync.settled()
    if sync.failure:
        raise SyncProblem(
            f"{repository} was made on the server, but the first sync failed: {sync.failure}"
        )
    return share


async def clone_project(
    engine: SyncEngine,
    account_id: str,
    repository: str,
    folder: str | Path,
    name: str | None,
    progress: Progress | None,
) -> ProjectEntry:
    def report(phase: ClonePhase, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    link = engine.link(account_id)
    report(ClonePhase.CONNECTING, 0, 1)

    async def details(api: ServerApi, token: str) -> Any:
        return await api.repository(token, repository)

    info = await engine.accounts.call(link.account, details)
    try:
        client = await asyncio.wait_for(link.client(), engine.options.request_timeout)
    except TimeoutError as exc:
        raise ServerUnreachable(link.account.server_url, "no connection") from exc
    report(ClonePhase.RECEIVING, 0, 1)
    try:
        answer = await client.request(Fetch(id=client.next_id(), repo=repository))
    except Disconnected as exc:
        raise ServerUnreachable(
            link.account.server_url, f"the connection was lost while receiving ({exc.message})"
        ) from exc
    except SyncError as exc:
        raise ServerRefused(str(exc.code), exc.message) from exc
    assert isinstance(answer, FetchResult)
    report(ClonePhase.RECEIVING, len(answer.pack), len(answer.pack))
    operation = CloneInto(
        folder,
        name,
        link.account,
        repository,
        FetchedPack(answer.refs, answer.seq, answer.pack),
        default_branch=str(info.get("default_branch") or "main"),
        progress=progress,
    )
    entry = await engine.run_op(operation)
    await engine.reload()
    return entry


async def invite(
    engine: SyncEngine, account_id: str, repository: str, email: str, role: str
) -> None:
    account = engine.link(account_id).account

    async def add(api: ServerApi, token: str) -> Any:
        return await api.add_collaborator(token, repository, email, role)

    await engine.accounts.call(account, add)
