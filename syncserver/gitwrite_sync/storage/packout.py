"""Building the pack a fetch answers with, from the stored rows as they are.

What to send: the commits reachable from the wants and not from the haves
(`CommitGraph.difference`), their trees and blobs except those in the trees of the
*boundary* commits (the haves, and the had parents of new commits, whose whole trees the
client holds), and annotated tags asked for.

How: every object goes as it is stored. A whole row is copied (its zlib stream is what a
pack holds). A delta row is copied as a delta when its base is in the pack (``OFS_DELTA``)
or the client is known to have it (``REF_DELTA``: a thin pack, like git's). Nothing is
re-deltified. A base the client is *known* to have is one in a boundary tree or, for the
older versions deltas are sometimes made against (`gitwrite_sync.storage.deltas`), one
found at the same path in a recent commit of the client's history (`_HAD_WINDOW` commits
back from the boundary). A delta whose base cannot be shown to be the client's is sent
whole: the pack is then larger, never unusable.
"""

from __future__ import annotations

import hashlib
import stat
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dulwich.object_format import SHA1
from dulwich.objects import Tag
from dulwich.pack import OFS_DELTA, REF_DELTA, pack_object_header
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.errors import NotFound
from gitwrite_sync.storage.graph import CommitGraph
from gitwrite_sync.storage.objects import ObjectStore
from gitwrite_sync.storage.resolve import (
    COMMIT,
    GITLINK,
    TAG,
    TREE,
    parse_object,
    stored_tree_entries,
)

_HAD_WINDOW = 2000
_COMPRESSION = 6


@dataclass(slots=True)
class FetchPack:
    """A fetch's pack and what went into it.

    Attributes:
        data: The pack (``b""`` when nothing is to be sent).
        objects: Objects in it.
        deltas: Of which sent as deltas.
        thin: Of which against an object the client has (``REF_DELTA`` outside the pack).
        whole_fallbacks: Deltas sent whole because their base could not be shown to be
            the client's.
    """

    data: bytes = b""
    objects: int = 0
    deltas: int = 0
    thin: int = 0
    whole_fallbacks: int = 0


@dataclass(slots=True)
class _Selection:
    order: list[str] = field(default_factory=list)
    paths: dict[str, bytes] = field(default_factory=dict)
    chosen: set[str] = field(default_factory=set)

    def add(self, oid: str, path: bytes | None = None) -> bool:
        if oid in self.chosen:
            return False
        self.chosen.add(oid)
        self.order.append(oid)
        if path is not None:
            self.paths[oid] = path
        return True


class _Trees:
    """Parsed trees by id, read through the object store a level at a time."""

    def __init__(self, session: AsyncSession, store: ObjectStore, repo_id: int) -> None:
        self.session, self.store, self.repo_id = session, store, repo_id
        self.cache: dict[str, list[tuple[bytes, int, str]]] = {}

    async def preload(self, ids: Iterable[str]) -> None:
        """Read and parse, in a few queries, the trees among ``ids`` not parsed yet."""
        wanted = [oid for oid in dict.fromkeys(ids) if oid not in self.cache]
        if not wanted:
            return
        found = await self.store.read_many(self.session, self.repo_id, wanted)
        for oid in wanted:
            type_num, content = found.get(oid, (0, b""))
            self.cache[oid] = stored_tree_entries(content) if type_num == TREE else []

    async def entries(self, oid: str) -> list[tuple[bytes, int, str]]:
        await self.preload([oid])
        return self.cache[oid]

    async def everything(self, roots: Iterable[str], into: set[str]) -> None:
        """Add the trees ``roots`` and all they hold to ``into``."""
        level = [r for r in roots if r not in into]
        while level:
            await self.preload(level)
            following: list[str] = []
            for oid in level:
                if oid in into:
                    continue
                into.add(oid)
                for _, mode, sha in self.cache[oid]:
                    if stat.S_ISDIR(mode):
                        following.append(sha)
                    elif mode != GITLINK:
                        into.add(sha)
            level = [oid for oid in following if oid not in into]

    async def at_path(self, root: str, path: bytes) -> str | None:
        """The id at ``path`` under the tree ``root`` (``root`` itself for ``b""``)."""
        oid: str | None = root
        for part in path.split(b"/") if path else ():
            if oid is None:
                return None
            found = [sha for name, _, sha in await self.entries(oid) if name == part]
            oid = found[0] if found else None
        return oid


async def _select(
    trees: _Trees, selection: _Selection, known: set[str], roots: Iterable[tuple[str, bytes]]
) -> None:
    """Add the trees and blobs under ``roots`` (id, path) that are not ``known``."""
    level = list(roots)
    while level:
        await trees.preload(oid for oid, _ in level if oid not in known)
        following: list[tuple[str, bytes]] = []
        for oid, path in level:
            if oid in known or not selection.add(oid, path):
                continue
            for name, mode, sha in trees.cache[oid]:
                child = path + b"/" + name if path else name
                if stat.S_ISDIR(mode):
                    following.append((sha, child))
                elif mode != GITLINK and sha not in known:
                    selection.add(sha, child)
        level = following


class _PackWriter:
    def __init__(self, count: int) -> None:
        self.parts: list[bytes] = [b"PACK", struct.pack(">LL", 2, count)]
        self.offset = 12
        self.offsets: dict[str, int] = {}

    def add(self, oid: str, kind: int, size: int, body: bytes, base: str | None = None) -> None:
        offset = self.offset
        if base is None:
            header = pack_object_header(kind, None, size, SHA1)
        elif base in self.offsets:
            header = pack_object_header(OFS_DELTA, offset - self.offsets[base], size, SHA1)
        else:
            header = pack_object_header(REF_DELTA, bytes.fromhex(base), size, SHA1)
        self.offsets[oid] = offset
        self.parts += [bytes(header), body]
        self.offset += len(header) + len(body)

    def finish(self) -> bytes:
        data = b"".join(self.parts)
        return data + hashlib.sha1(data).digest()


async def build_fetch_pack(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    wants: Sequence[str],
    haves: Sequence[str],
) -> FetchPack:
    """The pack of what ``wants`` (object ids) need and ``haves`` (commit ids) do not.

    Raises:
        NotFound: a wanted id is not an object of the repository.
    """
    infos = await store.infos_of(session, repo_id, wants)
    unknown = [w for w in wants if w not in infos]
    if unknown:
        raise NotFound(f"the repository has no object {unknown[0]}", object=unknown[0])
    trees = _Trees(session, store, repo_id)
    graph = CommitGraph(session, store, repo_id)
    selection = _Selection()
    commits: list[str] = []
    loose: list[str] = []
    for oid in wants:
        await _peel(session, store, repo_id, oid, selection, commits, loose)
    new, boundary = await graph.difference(commits, list(haves))
    known: set[str] = set()
    await trees.everything((graph.known[c].tree for c in sorted(boundary)), known)
    for commit in new:
        selection.add(commit)
    await _select(trees, selection, known, ((graph.known[c].tree, b"") for c in new))
    for oid in loose:
        if infos[oid].type_num == TREE:
            await _select(trees, selection, known, [(oid, b"")])
        elif oid not in known:
            selection.add(oid)
    return await _write(session, store, repo_id, graph, trees, selection, known, boundary)


async def _peel(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    oid: str,
    selection: _Selection,
    commits: list[str],
    loose: list[str],
) -> None:
    """Sort a wanted id: tags are sent and followed to their target; commits are walked."""
    for _ in range(16):  # a tag of a tag of ... a commit
        info = (await store.infos_of(session, repo_id, [oid])).get(oid)
        if info is None:
            raise NotFound(f"the repository has no object {oid}", object=oid)
        if info.type_num == COMMIT:
            commits.append(oid)
            return
        if info.type_num != TAG:
            loose.append(oid)
            return
        type_num, content = await store.read(session, repo_id, oid)
        tag = parse_object(type_num, content, oid)
        assert isinstance(tag, Tag)
        selection.add(oid)
        oid = tag.object[1].decode()
    raise NotFound(f"tag {oid} points too deep")


async def _write(
    session: AsyncSession,
    store: ObjectStore,
    repo_id: int,
    graph: CommitGraph,
    trees: _Trees,
    selection: _Selection,
    known: set[str],
    boundary: Iterable[str],
) -> FetchPack:
    if not selection.order:
        return FetchPack()
    rows = await store.rows(session, repo_id, selection.order)
    unproven: dict[bytes, set[str]] = {}
    for oid, row in rows.items():
        base = row.info.base_id
        outside = base is not None and base not in selection.chosen and base not in known
        if outside and oid in selection.paths:
            unproven.setdefault(selection.paths[oid], set()).add(str(base))
    if unproven:
        known |= await _had_versions(graph, trees, boundary, unproven)
    report = FetchPack(objects=len(selection.order))
    writer = _PackWriter(len(selection.order))
    emitted: set[str] = set()

    async def emit(oid: str) -> None:
        row = rows[oid]
        base = row.info.base_id
        if base is None:
            writer.add(oid, row.info.type_num, row.info.size, row.data)
        elif base in selection.chosen or base in known:
            if base in selection.chosen and base not in emitted:
                await emit(base)
            report.deltas += 1
            report.thin += base not in selection.chosen
            writer.add(oid, row.info.type_num, len(zlib.decompress(row.data)), row.data, base)
        else:
            report.whole_fallbacks += 1
            _, content = await store.read(session, repo_id, oid)
            writer.add(oid, row.info.type_num, len(content), zlib.compress(content, _COMPRESSION))
        emitted.add(oid)

    for oid in selection.order:
        if oid not in emitted:
            await emit(oid)
    report.data = writer.finish()
    return report


async def _had_versions(
    graph: CommitGraph, trees: _Trees, boundary: Iterable[str], wanted: dict[bytes, set[str]]
) -> set[str]:
    """Which of the ids in ``wanted`` (by path) are at that path in a commit the client has,
    looking at most ``_HAD_WINDOW`` commits back from the boundary."""
    found: set[str] = set()
    left = {path: set(ids) for path, ids in wanted.items()}
    seen: set[str] = set()
    frontier = sorted(boundary)
    visited = 0
    while frontier and left and visited < _HAD_WINDOW:
        await graph.load(frontier)
        await trees.preload(graph.known[c].tree for c in frontier if c in graph.known)
        following: list[str] = []
        for commit in frontier:
            info = graph.known.get(commit)
            if info is None or commit in seen:
                continue
            seen.add(commit)
            visited += 1
            for path in list(left):
                oid = await trees.at_path(info.tree, path)
                if oid is not None and oid in left[path]:
                    found.add(oid)
                    left[path].discard(oid)
                    if not left[path]:
                        del left[path]
            following.extend(p for p in info.parents if p not in seen)
        frontier = following
    return found
