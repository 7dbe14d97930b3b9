"""The order of a history and which saves changed a file.

A history is every save a save leads back to, newest first, as ``git log`` lists them:
a walk from the save that always takes the newest save not yet listed (by time, then
id, so the order is total and the same on every call). The saves a save leads back to
never change, so the order is remembered by (repository, save) and a page is a slice of
it; a cursor is the id of the last save shown.

The order comes from the commit index (``commits``: one query for the whole repository,
parents and times only); a commit missing from it is read from its object.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from dulwich.objects import Commit, Tree
from sqlalchemy import select

from gitwrite_sync.db.models import CommitRow
from gitwrite_sync.domain.content import Entry, RepoReader, is_dir
from gitwrite_sync.storage import ByteLRU


@dataclass(frozen=True, slots=True)
class Node:
    parents: tuple[str, ...]
    time: float


@dataclass(frozen=True, slots=True)
class Order:
    """A history's saves newest first, and each one's position."""

    ids: list[str]
    position: dict[str, int]
    nodes: dict[str, Node]


class Histories:
    """Orders of histories, remembered by (repository id, head)."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._cache: ByteLRU[tuple[int, str], Order] = ByteLRU(max_entries * 100)

    async def order(self, reader: RepoReader, head: str) -> Order:
        key = (reader.repo.id, head)
        found = self._cache.get(key)
        if found is None:
            found = await _walk(reader, head)
            self._cache.put(key, found, 100 * len(found.ids))
        return found


async def _index(reader: RepoReader) -> dict[str, Node]:
    rows = await reader.session.execute(
        select(CommitRow.sha, CommitRow.parents, CommitRow.created_at).where(
            CommitRow.repo_id == reader.repo.id
        )
    )
    return {r.sha: Node(tuple(r.parents.split()), r.created_at.timestamp()) for r in rows}


async def _walk(reader: RepoReader, head: str) -> Order:
    nodes = await _index(reader)

    async def node(oid: str) -> Node:
        if oid not in nodes:  # not indexed: read the commit itself
            commit = await reader.commit(oid)
            parents = tuple(p.decode() for p in commit.parents)
            nodes[oid] = Node(parents, float(commit.author_time))
        return nodes[oid]

    first = await node(head)
    heap: list[tuple[float, str]] = [(-first.time, head)]
    queued = {head}
    ids: list[str] = []
    while heap:
        _, oid = heapq.heappop(heap)
        ids.append(oid)
        for parent in (await node(oid)).parents:
            if parent not in queued:
                queued.add(parent)
                heapq.heappush(heap, (-(await node(parent)).time, parent))
    reached = {oid: nodes[oid] for oid in ids}
    return Order(ids, {oid: n for n, oid in enumerate(ids)}, reached)


async def entries_at(
    reader: RepoReader, trees: Sequence[str], path: str
) -> dict[str, Entry | None]:
    """The entry at ``path`` in each of ``trees`` (None where there is none), reading the
    folders of all of them a level at a time."""
    found: dict[str, Entry | None] = {}
    current: dict[str, str] = {t: t for t in dict.fromkeys(trees)}  # root → folder here
    parts = path.split("/")
    for depth, part in enumerate(parts):
        objects = await reader.many(set(current.values()))
        following: dict[str, str] = {}
        for root, folder in current.items():
            tree = objects.get(folder)
            try:
                if not isinstance(tree, Tree):
                    raise KeyError(folder)
                mode, sha = tree[part.encode("utf-8")]
            except KeyError:
                found[root] = None
                continue
            entry = (mode, sha.decode())
            if depth == len(parts) - 1:
                found[root] = entry
            elif is_dir(mode):
                following[root] = entry[1]
            else:
                found[root] = None
        current = following
    return found


async def changing(
    reader: RepoReader, order: Order, start: int, path: str, limit: int, batch: int = 200
) -> tuple[list[str], bool]:
    """From position ``start``, up to ``limit`` saves that changed ``path`` (compared with
    their first parent), and whether the history was read to its end."""
    found: list[str] = []
    position = start
    while position < len(order.ids):
        chunk = order.ids[position : position + batch]
        firsts = {c: order.nodes[c].parents[0] for c in chunk if order.nodes[c].parents}
        commits = await reader.many({*chunk, *firsts.values()})
        trees = {oid: obj.tree.decode() for oid, obj in commits.items() if isinstance(obj, Commit)}
        entries = await entries_at(reader, list(trees.values()), path)
        for oid in chunk:
            position += 1
            mine = entries[trees[oid]]
            theirs = entries[trees[firsts[oid]]] if oid in firsts else None
            if mine != theirs:
                found.append(oid)
                if len(found) == limit:
                    return found, position >= len(order.ids)
    return found, True
