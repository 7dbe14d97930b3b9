"""Git objects in the database: one ``git_objects`` row each, whole or a delta.

A row holds the zlib-compressed object, or the zlib-compressed delta instructions that
turn its base (``base_sha``, a row of the same repository) into it; ``depth`` counts the
deltas down to a whole object. Reading resolves the chain: its rows' metadata come in one
recursive query, then the data of the rows below the nearest version already in memory.
Objects are immutable and named by their content, so the in-process caches (by repository
and id: contents, row metadata, commits' parents) never need invalidating, except when a
repository is deleted (`ObjectStore.forget`).

`ObjectStore` is one per process (built with the services) and used from the event loop.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dulwich.pack import apply_delta
from sqlalchemy import and_, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.models import MAX_DELTA_DEPTH, GitObject
from gitwrite_sync.storage.cache import ByteLRU

if TYPE_CHECKING:
    from gitwrite_sync.storage.graph import CommitInfo

_TABLE = GitObject.__table__
BATCH = 500
# A chain longer than this is corrupt (depths are capped far below it).
_CHAIN_LIMIT = 4 * MAX_DELTA_DEPTH + 16


class CorruptObject(Exception):
    """A stored object that cannot be read back (a broken chain or bad data).

    Raised only when the database was damaged outside GitWrite; never from user input.
    """

    def __init__(self, repo_id: int, oid: str, reason: str) -> None:
        super().__init__(f"object {oid} of repository {repo_id} cannot be read: {reason}")
        self.repo_id = repo_id
        self.oid = oid


@dataclass(frozen=True, slots=True)
class StoredInfo:
    """A stored object's row without its data."""

    id: str
    type_num: int
    size: int
    base_id: str | None
    depth: int


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A stored object's row as it is, data included (compressed)."""

    info: StoredInfo
    data: bytes


@dataclass(frozen=True, slots=True)
class NewRow:
    """An object to store: ``data`` is compressed; a delta when ``base_id`` is set."""

    id: str
    type_num: int
    size: int
    base_id: str | None
    depth: int
    data: bytes


def batches(items: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _info(row: Any) -> StoredInfo:
    return StoredInfo(row.sha, row.type_num, row.size, row.base_sha, row.depth)


class ObjectStore:
    """Reads and writes ``git_objects``, with an LRU of whole contents and of row metadata."""

    def __init__(self, cache_bytes: int = 64 * 1024 * 1024) -> None:
        self.contents: ByteLRU[tuple[int, str], tuple[int, bytes]] = ByteLRU(cache_bytes)
        self.infos: ByteLRU[tuple[int, str], StoredInfo] = ByteLRU(8 * 1024 * 1024)
        self.commits: ByteLRU[tuple[int, str], CommitInfo] = ByteLRU(16 * 1024 * 1024)
        """Parents and times of stored commits (`gitwrite_sync.storage.graph`): a fetch
        walks the newest saves of a busy repository again and again."""

    def forget(self) -> None:
        """Drop everything cached (a repository was deleted: SQLite may give the next
        one the same id, and nothing cached for this one may be taken for that one's)."""
        self.contents.clear()
        self.infos.clear()
        self.commits.clear()

    # -- metadata ------------------------------------------------------------------

    async def infos_of(
        self, session: AsyncSession, repo_id: int, ids: Iterable[str]
    ) -> dict[str, StoredInfo]:
        """Metadata of those of ``ids`` that are stored (missing ones are left out)."""
        found: dict[str, StoredInfo] = {}
        wanted: list[str] = []
        for oid in dict.fromkeys(ids):
            hit = self.infos.get((repo_id, oid))
            if hit is not None:
                found[oid] = hit
            else:
                wanted.append(oid)
        cols = (_TABLE.c.sha, _TABLE.c.type_num, _TABLE.c.size, _TABLE.c.base_sha, _TABLE.c.depth)
        for part in batches(wanted):
            rows = await session.execute(
                select(*cols).where(_TABLE.c.repo_id == repo_id, _TABLE.c.sha.in_(part))
            )
            for row in rows:
                info = _info(row)
                found[info.id] = info
                self.infos.put((repo_id, info.id), info, 100)
        return found

    async def existing(self, session: AsyncSession, repo_id: int, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` the repository has."""
        return set(await self.infos_of(session, repo_id, ids))

    def _cached_chain(self, repo_id: int, oid: str) -> list[StoredInfo] | None:
        """The chain from the metadata in memory, or None when a link is not there."""
        chain: list[StoredInfo] = []
        current: str | None = oid
        while current is not None and len(chain) <= _CHAIN_LIMIT:
            info = self.infos.get((repo_id, current))
            if info is None:
                return None
            chain.append(info)
            current = info.base_id
        return chain if current is None else None

    async def chain(self, session: AsyncSession, repo_id: int, oid: str) -> list[StoredInfo]:
        """``oid``'s row and its bases' rows down to a whole object (empty when missing)."""
        cached = self._cached_chain(repo_id, oid)
        if cached is not None:
            return cached
        start = (
            select(
                _TABLE.c.sha,
                _TABLE.c.type_num,
                _TABLE.c.size,
                _TABLE.c.base_sha,
                _TABLE.c.depth,
                literal(0).label("n"),
            )
            .where(_TABLE.c.repo_id == repo_id, _TABLE.c.sha == oid)
            .cte("chain", recursive=True)
        )
        step = select(
            _TABLE.c.sha,
            _TABLE.c.type_num,
            _TABLE.c.size,
            _TABLE.c.base_sha,
            _TABLE.c.depth,
            (start.c.n + 1).label("n"),
        ).join(start, and_(_TABLE.c.repo_id == repo_id, _TABLE.c.sha == start.c.base_sha))
        chain = start.union_all(step.where(start.c.n < _CHAIN_LIMIT))
        rows = (await session.execute(select(chain).order_by(chain.c.n))).all()
        infos = [_info(row) for row in rows]
        for info in infos:
            self.infos.put((repo_id, info.id), info, 100)
        if infos and infos[-1].base_id is not None:
            raise CorruptObject(repo_id, oid, "its delta chain is broken or too long")
        return infos

    # -- contents ------------------------------------------------------------------

    async def read(self, session: AsyncSession, repo_id: int, oid: str) -> tuple[int, bytes]:
        """Type number and whole content of a stored object.

        Raises:
            KeyError: the repository has no such object.
            CorruptObject: it is stored but cannot be read back.
        """
        found = await self.read_many(session, repo_id, [oid])
        if oid not in found:
            raise KeyError(oid)
        return found[oid]

    async def read_many(
        self, session: AsyncSession, repo_id: int, ids: Iterable[str]
    ) -> dict[str, tuple[int, bytes]]:
        """Like `read` for several objects (missing ones are left out), in a few queries:
        the chains' metadata of all of them in one recursive query per batch, then the
        data of the rows not already in memory."""
        found: dict[str, tuple[int, bytes]] = {}
        wanted: list[str] = []
        for oid in dict.fromkeys(ids):
            # Metadata in memory came from the database: the object is stored (a content
            # in memory alone is not proof; it may be from a push that rolled back).
            hit = self.contents.get((repo_id, oid))
            if hit is not None and (repo_id, oid) in self.infos:
                found[oid] = hit
            else:
                wanted.append(oid)
        if not wanted:
            return found
        infos = await self._chains(session, repo_id, wanted)
        done: dict[str, tuple[int, bytes]] = {}
        needed: list[str] = []
        for oid in wanted:
            current: str | None = oid
            while current is not None and current in infos and current not in done:
                hit = self.contents.get((repo_id, current))
                if hit is not None:
                    done[current] = hit
                    break
                needed.append(current)
                current = infos[current].base_id
        datas = await self._data(session, repo_id, list(dict.fromkeys(needed)))
        for oid in wanted:
            if oid in infos:
                found[oid] = self._resolve(repo_id, oid, infos, datas, done)
        return found

    async def _chains(
        self, session: AsyncSession, repo_id: int, ids: Sequence[str]
    ) -> dict[str, StoredInfo]:
        """The rows of ``ids`` and of every base below them (UNION: shared bases once)."""
        cols = (_TABLE.c.sha, _TABLE.c.type_num, _TABLE.c.size, _TABLE.c.base_sha, _TABLE.c.depth)
        infos: dict[str, StoredInfo] = {}
        unknown: list[str] = []
        for oid in ids:
            cached = self._cached_chain(repo_id, oid)
            if cached is None:
                unknown.append(oid)
            else:
                infos.update((i.id, i) for i in cached)
        for part in batches(unknown):
            start = (
                select(*cols)
                .where(_TABLE.c.repo_id == repo_id, _TABLE.c.sha.in_(part))
                .cte("chains", recursive=True)
            )
            step = select(*cols).join(
                start, and_(_TABLE.c.repo_id == repo_id, _TABLE.c.sha == start.c.base_sha)
            )
            chains = start.union(step)
            for row in await session.execute(select(chains)):
                info = _info(row)
                infos[info.id] = info
                self.infos.put((repo_id, info.id), info, 100)
        return infos

    def _resolve(
        self,
        repo_id: int,
        oid: str,
        infos: dict[str, StoredInfo],
        datas: dict[str, bytes],
        done: dict[str, tuple[int, bytes]],
    ) -> tuple[int, bytes]:
        """``oid``'s content from rows already read, memoised in ``done``."""
        chain: list[StoredInfo] = []
        current: str | None = oid
        while current is not None and current not in done:
            if current not in infos or len(chain) > _CHAIN_LIMIT:
                raise CorruptObject(repo_id, oid, "its delta chain is broken or too long")
            chain.append(infos[current])
            current = infos[current].base_id
        below = done[current] if current is not None else None
        for info in reversed(chain):
            try:
                raw = zlib.decompress(datas[info.id])
                if info.base_id is None:
                    content = raw
                else:
                    assert below is not None
                    content = b"".join(apply_delta(below[1], raw))
            except Exception as exc:  # zlib or delta errors: the row is damaged
                raise CorruptObject(repo_id, info.id, str(exc)) from exc
            if len(content) != info.size:
                raise CorruptObject(repo_id, info.id, "its size does not match")
            below = (info.type_num, content)
            done[info.id] = below
            self.contents.put((repo_id, info.id), below, len(content))
        assert below is not None
        return below

    async def rows(
        self, session: AsyncSession, repo_id: int, ids: Sequence[str]
    ) -> dict[str, StoredRow]:
        """The stored rows of ``ids`` as they are (compressed data, delta or whole)."""
        found: dict[str, StoredRow] = {}
        for part in batches(list(dict.fromkeys(ids))):
            result = await session.execute(
                select(_TABLE).where(_TABLE.c.repo_id == repo_id, _TABLE.c.sha.in_(part))
            )
            for row in result:
                found[row.sha] = StoredRow(_info(row), row.data)
                self.infos.put((repo_id, row.sha), found[row.sha].info, 100)
        return found

    async def _data(self, session: AsyncSession, repo_id: int, ids: list[str]) -> dict[str, bytes]:
        datas: dict[str, bytes] = {}
        for part in batches(ids):
            result = await session.execute(
                select(_TABLE.c.sha, _TABLE.c.data).where(
                    _TABLE.c.repo_id == repo_id, _TABLE.c.sha.in_(part)
                )
            )
            datas.update({row.sha: row.data for row in result})
        return datas

    async def remember(
        self, session: AsyncSession, repo_id: int, contents: dict[str, tuple[int, bytes]]
    ) -> None:
        """Keep just-stored objects in memory (the next save's bases), once their rows are
        read back from the database (committed, and as they are: an object stored by a
        concurrent push keeps that push's row)."""
        infos = await self.infos_of(session, repo_id, contents)
        for oid in infos:
            type_num, content = contents[oid]
            self.contents.put((repo_id, oid), (type_num, content), len(content))

    # -- writing -------------------------------------------------------------------

    async def insert(self, session: AsyncSession, repo_id: int, rows: Sequence[NewRow]) -> None:
        """Store ``rows``; an object already stored keeps its row (same id, same content)."""
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = [
            {
                "repo_id": repo_id,
                "sha": r.id,
                "type_num": r.type_num,
                "size": r.size,
                "base_sha": r.base_id,
                "depth": r.depth,
                "data": r.data,
            }
            for r in rows
        ]
        statement = insert(GitObject).on_conflict_do_nothing(index_elements=["repo_id", "sha"])
        for start in range(0, len(values), BATCH):
            await session.execute(statement, values[start : start + BATCH])
