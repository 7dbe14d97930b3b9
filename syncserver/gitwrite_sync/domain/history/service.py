"""History (newest first, a page at a time, optionally of one file) and compare.

Both read in one unit of work through `RepoReader`; the word-level comparison
(`gitwrite.prose.compare_text`) runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from gitwrite.model import ChangeKind
from gitwrite.prose import RunKind, compare_text, stats_of
from gitwrite.texts import decode_text
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import CommitRow, User
from gitwrite_sync.domain.access import Action, require
from gitwrite_sync.domain.content import FULL_ID, Entry, RepoReader, checked_path, is_dir
from gitwrite_sync.domain.history.schemas import (
    Comparison,
    FileComparison,
    Identity,
    SaveSummary,
    TextRun,
)
from gitwrite_sync.domain.history.walk import Histories, changing, entries_at
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import InvalidInput
from gitwrite_sync.storage.commits import commit_row

MAX_PAGE = 200


async def summaries(reader: RepoReader, ids: list[str]) -> list[SaveSummary]:
    """The saves ``ids`` from the commit index, in that order (a commit missing from the
    index is read from its object)."""
    result = await reader.session.execute(
        select(CommitRow).where(CommitRow.repo_id == reader.repo.id, CommitRow.sha.in_(ids))
    )
    rows = {row.sha: row for row in result.scalars()}
    found = []
    for oid in ids:
        row = rows.get(oid)
        values: Mapping[str, Any] = (
            {column: getattr(row, column) for column in _COLUMNS}
            if row is not None
            else commit_row(reader.repo.id, await reader.commit(oid))
        )
        found.append(
            SaveSummary(
                id=oid,
                summary=values["summary"],
                author=Identity(values["author_name"], values["author_email"]),
                time=values["created_at"],
                parents=values["parents"].split(),
                words_added=values["words_added"],
                words_removed=values["words_removed"],
            )
        )
    return found


_COLUMNS = [
    "summary",
    "author_name",
    "author_email",
    "created_at",
    "parents",
    "words_added",
    "words_removed",
]


class HistoryService:
    def __init__(self, db: Database, sync: SyncService) -> None:
        self.db = db
        self.sync = sync
        self.histories = Histories()

    async def page(
        self,
        user: User,
        repo_name: str,
        *,
        at: str | None = None,
        path: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[str, list[SaveSummary], str | None]:
        """A page of the history leading to ``at`` (default: the main story's last save),
        newest first, after the save ``cursor``; only saves that changed ``path`` if given.

        Returns:
            The head, the page's saves, and the cursor of the next page (None at the end).
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit is 1 to {MAX_PAGE}", field="limit")
        file_path = checked_path(path) if path is not None else None
        if cursor is not None and not FULL_ID.fullmatch(cursor):
            raise InvalidInput("a cursor is the id of a save of this history", field="cursor")
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            head = (await reader.resolve(at)).id
            order = await self.histories.order(reader, head)
            start = 0
            if cursor is not None:
                if cursor not in order.position:
                    raise InvalidInput("the cursor is not a save of this history", field="cursor")
                start = order.position[cursor] + 1
            if file_path is None:
                ids = order.ids[start : start + limit]
                done = start + limit >= len(order.ids)
            else:
                ids, done = await changing(reader, order, start, file_path, limit)
            items = await summaries(reader, ids)
        return head, items, (None if done or not ids else ids[-1])

    async def compare(
        self,
        user: User,
        repo_name: str,
        *,
        old: str | None,
        new: str | None,
        path: str | None = None,
    ) -> tuple[Comparison, bool]:
        """Word-level changes from save ``old`` (default: ``new``'s first parent) to save
        ``new`` (default: the main story's last save), of every file or only ``path``.

        Returns:
            The comparison, and whether both saves were named by their full ids.
        """
        file_path = checked_path(path) if path is not None else None
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            after = await reader.resolve(new)
            if old is None:
                first = after.commit.parents[0].decode() if after.commit.parents else None
                before = await reader.resolve(first) if first else None
                immutable = after.immutable
            else:
                before = await reader.resolve(old)
                immutable = after.immutable and before.immutable
            if file_path is not None:
                trees = [after.tree] + ([before.tree] if before else [])
                at_path = await entries_at(reader, trees, file_path)
                old_files = _only(at_path.get(before.tree) if before else None, file_path)
                new_files = _only(at_path[after.tree], file_path)
            else:
                old_files = await reader.files(before.tree) if before else {}
                new_files = await reader.files(after.tree)
            changed = sorted(
                p for p in set(old_files) | set(new_files) if old_files.get(p) != new_files.get(p)
            )
            ids = {e[1] for p in changed for e in (old_files.get(p), new_files.get(p)) if e}
            contents = await reader.objects.read_many(session, repo.id, ids)
        blobs = {oid: data for oid, (_, data) in contents.items()}
        files = await asyncio.to_thread(_compare_files, changed, old_files, new_files, blobs)
        comparison = Comparison(
            from_=before.id if before else None,
            to=after.id,
            files=files,
            words_added=sum(f.words_added for f in files),
            words_removed=sum(f.words_removed for f in files),
        )
        return comparison, immutable


def _only(entry: Entry | None, path: str) -> dict[str, Entry]:
    return {path: entry} if entry is not None and not is_dir(entry[0]) else {}


def _compare_files(
    paths: list[str],
    old_files: dict[str, Entry],
    new_files: dict[str, Entry],
    blobs: dict[str, bytes],
) -> list[FileComparison]:
    found = []
    for path in paths:
        before, after = old_files.get(path), new_files.get(path)
        kind = (
            ChangeKind.ADDED
            if before is None
            else ChangeKind.DELETED
            if after is None
            else ChangeKind.MODIFIED
        )
        old_text = decode_text(blobs[before[1]]) if before else ""
        new_text = decode_text(blobs[after[1]]) if after else ""
        if old_text is None or new_text is None:
            found.append(FileComparison(path, kind.value, True, 0, 0, []))
            continue
        runs = compare_text(old_text, new_text)
        stats = stats_of(runs)
        found.append(
            FileComparison(
                path,
                kind.value,
                False,
                stats.added,
                stats.removed,
                [TextRun(RunKind(r.kind), r.text) for r in runs],
            )
        )
    return found
