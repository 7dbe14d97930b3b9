"""Keeping the search index in step with a repository's branches (the ``index_push`` job).

`Indexer.index_repository` compares every branch (``refs/heads/*``) with the commit the
index last saw for it (``search_heads``) and, branch by branch, applies only what
changed: the two commits' trees are compared a level at a time (equal subtrees skipped),
the new blobs not already in the index are read and cut into pieces (in a thread: a novel
takes ~0.1 s), then ONE write unit points the changed paths at their new blobs, adds the
pieces, drops text no file holds any more and moves the head. A deleted branch loses its
rows. Planning reads outside the write, so a slow read never holds the database; if
another indexer moved the branch meanwhile, the plan is made again.

What is indexed: regular files whose path has no hidden part (``.gitignore``,
``.gitwrite/...``) and is at most `MAX_PATH_CHARS` long; text only (``chunks.text_of``).
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field

from dulwich.objects import Commit
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import CommitRow
from gitwrite_sync.domain.access import BRANCH_PREFIX
from gitwrite_sync.domain.search.chunks import Chunk, chunk, text_of
from gitwrite_sync.domain.search.index import IndexMoved, SearchIndex
from gitwrite_sync.storage import ObjectStore, list_refs
from gitwrite_sync.storage.resolve import COMMIT, TREE, stored_tree_entries

log = logging.getLogger(__name__)

MAX_PATH_CHARS = 1000
ATTEMPTS = 5
REFRESH_STATISTICS_AFTER = 200
"""Pieces added by one run after which the database's statistics are refreshed."""


@dataclass
class Plan:
    """What one branch update writes: changed paths and the pieces of new texts."""

    files: dict[str, str | None] = field(default_factory=dict)
    texts: dict[str, list[Chunk]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IndexReport:
    branches: int
    """Branches whose index moved."""
    files: int
    """File changes applied (added, changed or removed paths)."""
    pieces: int = 0
    """Pieces of text added to the index."""


def _pieces(contents: Mapping[str, tuple[int, bytes]]) -> dict[str, list[Chunk]]:
    """Blob → its pieces (none when it is not text)."""
    texts: dict[str, list[Chunk]] = {}
    for blob, (_, data) in contents.items():
        text = text_of(data)
        texts[blob] = chunk(text) if text is not None else []
    return texts


def _entries(
    found: Mapping[str, tuple[int, bytes]], tree: str | None
) -> dict[bytes, tuple[int, str]]:
    if tree is None or tree not in found or found[tree][0] != TREE:
        return {}
    return {name: (mode, sha) for name, mode, sha in stored_tree_entries(found[tree][1])}


async def tree_changes(
    session: AsyncSession, objects: ObjectStore, repo_id: int, old: str | None, new: str | None
) -> dict[str, str | None]:
    """Path → new blob (None: gone) of every indexable file that differs between the trees
    ``old`` and ``new`` (None: empty), read a level at a time."""
    changes: dict[str, str | None] = {}
    level: list[tuple[bytes, str | None, str | None]] = [(b"", old, new)]
    while level:
        ids = [t for _, a, b in level for t in (a, b) if t is not None]
        found = await objects.read_many(session, repo_id, ids)
        following: list[tuple[bytes, str | None, str | None]] = []
        for prefix, a, b in level:
            before, after = _entries(found, a), _entries(found, b)
            for name in sorted(before.keys() | after.keys()):
                if name.startswith(b".") or before.get(name) == after.get(name):
                    continue
                path = prefix + name
                mode_a, sha_a = before.get(name, (0, ""))
                mode_b, sha_b = after.get(name, (0, ""))
                dir_a = sha_a if stat.S_ISDIR(mode_a) else None
                dir_b = sha_b if stat.S_ISDIR(mode_b) else None
                if dir_a != dir_b:
                    following.append((path + b"/", dir_a, dir_b))
                file_a = sha_a if stat.S_ISREG(mode_a) else None
                file_b = sha_b if stat.S_ISREG(mode_b) else None
                shown = path.decode("utf-8", "replace")
                if file_a != file_b and len(shown) <= MAX_PATH_CHARS:
                    changes[shown] = file_b
        level = following
    return changes


class Indexer:
    """Brings the index of a repository up to date with its branches."""

    def __init__(
        self, db: Database, index: SearchIndex, objects: ObjectStore | None = None
    ) -> None:
        self.db = db
        self.index = index
        self.objects = objects or ObjectStore(cache_bytes=16 * 1024 * 1024)

    async def _state(self, repo_id: int) -> tuple[dict[str, str], dict[str, str]]:
        """The branches' commits and the commits the index has for them."""
        async with self.db.read() as session:
            refs = await list_refs(session, repo_id)
            heads = await self.index.heads(session, repo_id)
        branches = {
            name.removeprefix(BRANCH_PREFIX): sha
            for name, sha in refs.items()
            if name.startswith(BRANCH_PREFIX)
        }
        return branches, heads

    async def index_repository(self, repo_id: int) -> IndexReport:
        """Apply every branch's changes since it was last indexed (see the module)."""
        branches, heads = await self._state(repo_id)
        moved = files = pieces = 0
        for branch in sorted(branches.keys() | heads.keys()):
            old, new = heads.get(branch), branches.get(branch)
            for _ in range(ATTEMPTS):
                if old == new:
                    break
                plan = await self._plan(repo_id, branch, old, new)
                try:
                    async with self.db.write() as session:
                        added = await self.index.update_branch(
                            session, repo_id, branch, old, new, plan.files, plan.texts
                        )
                except IndexMoved:
                    latest_branches, latest_heads = await self._state(repo_id)
                    old, new = latest_heads.get(branch), latest_branches.get(branch)
                    continue
                moved += 1
                files += len(plan.files)
                pieces += added
                break
            else:
                raise IndexMoved(branch)
        if pieces >= REFRESH_STATISTICS_AFTER:
            async with self.db.write() as session:
                await self.index.refresh_statistics(session)
        return IndexReport(moved, files, pieces)

    async def _plan(self, repo_id: int, branch: str, old: str | None, new: str | None) -> Plan:
        plan = Plan()
        if new is None:
            return plan  # a deleted branch: update_branch drops all its files
        async with self.db.read() as session:
            new_tree = await self._tree_of(session, repo_id, new)
            old_tree = await self._tree_of(session, repo_id, old) if old is not None else None
            if old is not None and old_tree is None:
                # The old commit is unreadable: start over from the files indexed now.
                stale = await self.index.files_of(session, repo_id, branch)
                plan.files.update(dict.fromkeys(stale))
            plan.files.update(
                await tree_changes(session, self.objects, repo_id, old_tree, new_tree)
            )
            added = {blob for blob in plan.files.values() if blob is not None}
            missing = added - await self.index.indexed_blobs(session, repo_id, added)
            contents = await self.objects.read_many(session, repo_id, sorted(missing))
        plan.texts = await asyncio.to_thread(_pieces, contents)
        for blob in missing - plan.texts.keys():  # only a damaged repository lacks one
            log.warning("search: blob %s of repository %s is not stored", blob, repo_id)
            plan.texts[blob] = []
        return plan

    async def _tree_of(self, session: AsyncSession, repo_id: int, commit: str) -> str | None:
        tree = (
            await session.execute(
                select(CommitRow.tree).where(CommitRow.repo_id == repo_id, CommitRow.sha == commit)
            )
        ).scalar_one_or_none()
        if tree is not None:
            return str(tree)
        found = await self.objects.read_many(session, repo_id, [commit])
        if commit not in found or found[commit][0] != COMMIT:
            log.warning("search: commit %s of repository %s is not stored", commit, repo_id)
            return None
        parsed = Commit.from_raw_string(COMMIT, found[commit][1])
        assert isinstance(parsed, Commit)
        return str(parsed.tree.decode())


__all__ = ["IndexReport", "Indexer", "Plan", "tree_changes"]
