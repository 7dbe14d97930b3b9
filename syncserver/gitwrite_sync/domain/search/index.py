"""`SearchIndex`: the full-text index of a repository's current text, one interface over
two databases (`PostgresSearchIndex`, `SqliteSearchIndex`; `index_for` picks).

What is stored is the same on both (``gitwrite_sync.db.models``): per branch, the commit
it was indexed at (``search_heads``) and the blob each file holds (``search_files``); per
blob, its text in pieces (``search_chunks``), once however many branches and paths share
it. The databases differ only in how they find and score pieces, so the writes live here
and each backend implements `SearchIndex._best_pieces` and `SearchIndex._snippets`.

Writes run in the caller's unit of work. `lock` serializes index writers of one
repository (a PostgreSQL advisory lock; SQLite's write transaction already holds the
database), so a piece is never dropped while another writer counts on it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import SearchChunk, SearchFile, SearchHead
from gitwrite_sync.domain.search.chunks import Chunk
from gitwrite_sync.domain.search.query import SearchQuery

_BATCH = 500
SNIPPET_WORDS = 24
"""About how many words a snippet shows around the matches."""


class IndexMoved(Exception):
    """A branch's indexed commit is not the one an update started from (another index
    writer got there first): plan the update again."""


@dataclass(frozen=True, slots=True)
class Piece:
    """A matching piece of text, the best of its blob."""

    id: int
    blob: str
    line: int
    rank: float


@dataclass(frozen=True, slots=True)
class FileHit:
    """A file whose text matches, with every branch that holds that same text.

    Attributes:
        path: The file, relative to the project.
        branches: The branches whose current version of ``path`` is this text (sorted).
        line: The line where the best matching piece starts (from 1).
        rank: Higher is better; comparable within one search only.
        snippet: Text around the matches, each match between `HIGHLIGHT_START` and
            `HIGHLIGHT_END` (``chunks`` module).
    """

    path: str
    branches: tuple[str, ...]
    line: int
    rank: float
    snippet: str


class SearchIndex(abc.ABC):
    """The index of every repository in one database (see the module docstring)."""

    # -- reading -----------------------------------------------------------------

    async def heads(self, session: AsyncSession, repo_id: int) -> dict[str, str]:
        """Branch → the commit it was last indexed at."""
        rows = await session.execute(
            select(SearchHead.branch, SearchHead.commit_sha).where(SearchHead.repo_id == repo_id)
        )
        return {branch: sha for branch, sha in rows}

    async def indexed_blobs(
        self, session: AsyncSession, repo_id: int, blobs: Iterable[str]
    ) -> set[str]:
        """Those of ``blobs`` whose text is already in the index."""
        wanted = list(dict.fromkeys(blobs))
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH):
            rows = await session.execute(
                select(SearchChunk.blob_sha)
                .where(
                    SearchChunk.repo_id == repo_id,
                    SearchChunk.blob_sha.in_(wanted[start : start + _BATCH]),
                    SearchChunk.ordinal == 0,
                )
                .distinct()
            )
            found.update(rows.scalars())
        return found

    async def search(
        self, session: AsyncSession, repo_id: int, query: SearchQuery, limit: int
    ) -> list[FileHit]:
        """The files whose current text matches, best first, at most ``limit``."""
        pieces = await self._best_pieces(session, repo_id, query, limit)
        if not pieces:
            return []
        snippets = await self._snippets(session, query, [p.id for p in pieces])
        paths: dict[str, dict[str, list[str]]] = {}
        rows = await session.execute(
            select(SearchFile.blob_sha, SearchFile.path, SearchFile.branch)
            .where(
                SearchFile.repo_id == repo_id,
                SearchFile.blob_sha.in_([p.blob for p in pieces]),
            )
            .order_by(SearchFile.path, SearchFile.branch)
        )
        for blob, path, branch in rows:
            paths.setdefault(blob, {}).setdefault(path, []).append(branch)
        hits = [
            FileHit(path, tuple(branches), piece.line, piece.rank, snippets.get(piece.id, ""))
            for piece in pieces
            for path, branches in paths.get(piece.blob, {}).items()
        ]
        return hits[:limit]

    @abc.abstractmethod
    async def _best_pieces(
        self, session: AsyncSession, repo_id: int, query: SearchQuery, limit: int
    ) -> list[Piece]:
        """The best matching piece of each of the ``limit`` best matching blobs, best
        first."""

    @abc.abstractmethod
    async def _snippets(
        self, session: AsyncSession, query: SearchQuery, ids: Sequence[int]
    ) -> dict[int, str]:
        """Piece id → its snippet for ``query``, matches marked."""

    # -- writing -----------------------------------------------------------------

    @abc.abstractmethod
    async def lock(self, session: AsyncSession, repo_id: int) -> None:
        """Hold the repository's index until the unit of work ends (see the module)."""

    async def update_branch(
        self,
        session: AsyncSession,
        repo_id: int,
        branch: str,
        old_head: str | None,
        new_head: str | None,
        files: Mapping[str, str | None],
        texts: Mapping[str, Sequence[Chunk]],
    ) -> int:
        """Move ``branch`` from ``old_head`` to ``new_head`` (None: not indexed / deleted);
        returns how many pieces of text were added.

        Args:
            files: Path → its new blob, or None when the file is gone, for every file
                that changed (every file of a branch indexed the first time).
            texts: The pieces of the new blobs not in the index yet (an empty list for a
                blob that is not text).

        Raises:
            IndexMoved: the branch is no longer indexed at ``old_head``, or a new blob
                left out of ``texts`` (being indexed when planned) is not indexed now.
        """
        await self.lock(session, repo_id)
        current = (
            await session.execute(
                select(SearchHead.commit_sha).where(
                    SearchHead.repo_id == repo_id, SearchHead.branch == branch
                )
            )
        ).scalar_one_or_none()
        if current != old_head:
            raise IndexMoved(branch)
        if new_head is None:
            files = dict.fromkeys(await self.files_of(session, repo_id, branch))
        replaced = await self._set_files(session, repo_id, branch, files)
        added = {blob for blob in files.values() if blob is not None}
        pieces = await self._add_texts(session, repo_id, added, texts)
        await self._drop_unused(session, repo_id, replaced - added)
        await self._set_head(session, repo_id, branch, old_head, new_head)
        return pieces

    @abc.abstractmethod
    async def refresh_statistics(self, session: AsyncSession) -> None:
        """After many pieces were added: let the database's planner know."""

    async def files_of(self, session: AsyncSession, repo_id: int, branch: str) -> list[str]:
        """The paths indexed for ``branch``."""
        rows = await session.execute(
            select(SearchFile.path).where(
                SearchFile.repo_id == repo_id, SearchFile.branch == branch
            )
        )
        return list(rows.scalars())

    async def _set_files(
        self, session: AsyncSession, repo_id: int, branch: str, files: Mapping[str, str | None]
    ) -> set[str]:
        """Point each path at its new blob; returns the blobs they held before."""
        paths = list(files)
        before: set[str] = set()
        for start in range(0, len(paths), _BATCH):
            where = (
                SearchFile.repo_id == repo_id,
                SearchFile.branch == branch,
                SearchFile.path.in_(paths[start : start + _BATCH]),
            )
            held = await session.execute(select(SearchFile.blob_sha).where(*where))
            before.update(held.scalars())
            await session.execute(delete(SearchFile).where(*where))
        rows = [
            {"repo_id": repo_id, "branch": branch, "path": path, "blob_sha": blob}
            for path, blob in files.items()
            if blob is not None
        ]
        for start in range(0, len(rows), _BATCH):
            await session.execute(insert(SearchFile), rows[start : start + _BATCH])
        return before

    async def _add_texts(
        self,
        session: AsyncSession,
        repo_id: int,
        blobs: set[str],
        texts: Mapping[str, Sequence[Chunk]],
    ) -> int:
        missing = set(blobs) - await self.indexed_blobs(session, repo_id, blobs)
        if missing - texts.keys():
            # Indexed when the update was planned, dropped since by another indexer.
            raise IndexMoved("a text the update counted on left the index")
        rows = [
            {
                "repo_id": repo_id,
                "blob_sha": blob,
                "ordinal": piece.ordinal,
                "line": piece.line,
                "text": piece.text,
            }
            for blob in sorted(missing)
            for piece in texts.get(blob, ())
        ]
        dialect = session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_(SearchChunk).on_conflict_do_nothing(
            index_elements=["repo_id", "blob_sha", "ordinal"]
        )
        for start in range(0, len(rows), _BATCH):
            await session.execute(statement, rows[start : start + _BATCH])
        return len(rows)

    async def _drop_unused(self, session: AsyncSession, repo_id: int, blobs: set[str]) -> None:
        """Remove the text of those of ``blobs`` that no file of any branch holds now."""
        if not blobs:
            return
        listed = list(blobs)
        used: set[str] = set()
        for start in range(0, len(listed), _BATCH):
            rows = await session.execute(
                select(SearchFile.blob_sha)
                .where(
                    SearchFile.repo_id == repo_id,
                    SearchFile.blob_sha.in_(listed[start : start + _BATCH]),
                )
                .distinct()
            )
            used.update(rows.scalars())
        unused = sorted(blobs - used)
        for start in range(0, len(unused), _BATCH):
            await session.execute(
                delete(SearchChunk).where(
                    SearchChunk.repo_id == repo_id,
                    SearchChunk.blob_sha.in_(unused[start : start + _BATCH]),
                )
            )

    async def _set_head(
        self,
        session: AsyncSession,
        repo_id: int,
        branch: str,
        old_head: str | None,
        new_head: str | None,
    ) -> None:
        where = (SearchHead.repo_id == repo_id, SearchHead.branch == branch)
        if new_head is None:
            await session.execute(delete(SearchHead).where(*where))
        elif old_head is None:
            await session.execute(
                insert(SearchHead).values(repo_id=repo_id, branch=branch, commit_sha=new_head)
            )
        else:
            await session.execute(update(SearchHead).where(*where).values(commit_sha=new_head))


def index_for(db: Database) -> SearchIndex:
    """The index implementation for ``db``'s database."""
    from gitwrite_sync.domain.search.postgres import PostgresSearchIndex
    from gitwrite_sync.domain.search.sqlite import SqliteSearchIndex

    return SqliteSearchIndex() if db.is_sqlite else PostgresSearchIndex()
