"""Taking in a pack: read and check it, then store what a history needs.

The steps are separate so a push can put its own checks (roles, fast-forward) between
them and store inside ONE transaction with its ref changes:

1. `read_pack`: limits, checksum, parse, resolve (thin bases from the database), check
   every object (`gitwrite_sync.storage.resolve`). CPU work runs in a worker thread.
2. `prepare`: the connectivity check from the new ref targets (`graph.new_objects`), then
   the storage plan (`plan`): the rows to insert and the commits to index.
3. `store`: insert the rows and the commit index rows, in the caller's transaction.

`ingest_pack` does all three for a pack whose every object must be kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from dulwich.objects import Commit
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.storage.commits import index_commits
from gitwrite_sync.storage.graph import new_objects
from gitwrite_sync.storage.objects import NewRow, ObjectStore
from gitwrite_sync.storage.packparse import PackLimits, parse_pack
from gitwrite_sync.storage.plan import build_rows, prefetch, walk_paths
from gitwrite_sync.storage.resolve import IncomingObject, ResolvedPack, resolve_alone


@dataclass(slots=True)
class Prepared:
    """What storing a pack will insert.

    Attributes:
        pack: The resolved pack.
        rows: Object rows, each after its base.
        commits: The new commits (for the commit index).
    """

    pack: ResolvedPack
    rows: list[NewRow] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)

    @property
    def objects(self) -> list[IncomingObject]:
        return [self.pack.objects[r.id] for r in self.rows]


async def read_pack(
    session: AsyncSession, store: ObjectStore, repo_id: int, data: bytes, limits: PackLimits
) -> ResolvedPack:
    """Parse, resolve and check a received pack (see `gitwrite_sync.storage.resolve`).

    Raises:
        TooLarge: over ``limits``.
        InvalidPack: not a valid pack, or an object git would refuse.
        MissingObjects: a delta's base is in neither the pack nor the repository.
    """
    entries = await asyncio.to_thread(parse_pack, data, limits)
    resolver = await asyncio.to_thread(resolve_alone, data, entries, limits)
    wanted = resolver.wanted()
    if wanted:
        externals = await store.read_many(session, repo_id, sorted(wanted))
        await asyncio.to_thread(resolver.resolve, externals)
    return resolver.finish()


async def prepare(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    pack: ResolvedPack,
    targets: Iterable[str],
) -> Prepared:
    """Check that ``targets`` have their whole history in the pack and the repository,
    and plan the rows of the objects they need that the repository lacks.

    Raises:
        MissingObjects: the history of a target is incomplete.
    """
    new = await new_objects(session, store, repo_id, pack, targets)
    plan = await walk_paths(session, store, repo_id, pack, new)
    stored = await prefetch(session, store, repo_id, pack, plan)
    rows = await asyncio.to_thread(build_rows, pack, plan, stored)
    commits = [p for oid in plan.order if isinstance(p := pack.objects[oid].parsed, Commit)]
    return Prepared(pack, rows, commits)


async def store(
    session: AsyncSession, objects: ObjectStore, repo_id: int, prepared: Prepared
) -> None:
    """Insert the prepared rows and commit index rows in the caller's transaction."""
    await objects.insert(session, repo_id, prepared.rows)
    await index_commits(session, repo_id, prepared.commits)


async def remember(
    session: AsyncSession, objects: ObjectStore, repo_id: int, prepared: Prepared
) -> None:
    """After the transaction committed: keep the new objects still in memory in the object
    cache, so the next save of the same files finds its bases without reading them."""
    contents: dict[str, tuple[int, bytes]] = {}
    for row in prepared.rows:
        content = prepared.pack.cached(row.id)
        if content is not None:
            contents[row.id] = (row.type_num, content)
    if contents:
        await objects.remember(session, repo_id, contents)


async def ingest_pack(
    session: AsyncSession,
    repo_id: int,
    data: bytes,
    limits: PackLimits,
    *,
    objects: ObjectStore | None = None,
) -> list[IncomingObject]:
    """Check and store every object of a pack, in the caller's transaction.

    Every object must have its whole history in the pack or the repository (objects
    already stored are not stored again).

    Returns:
        The pack's objects, each once, in pack order.

    Raises:
        TooLarge, InvalidPack, MissingObjects: as `read_pack` and `prepare`.
    """
    objects = objects or ObjectStore()
    pack = await read_pack(session, objects, repo_id, data, limits)
    prepared = await prepare(session, objects, repo_id, pack, list(pack.objects))
    await store(session, objects, repo_id, prepared)
    return sorted(pack.objects.values(), key=lambda o: o.entry)
