"""Operations on the cache: refresh, rebuild, sync state; and the queries that read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitwrite_desktop.core import annotation_index, syncstate
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.operations._base import Operation, Query
from gitwrite_desktop.core.search import Order, SearchResults, search
from gitwrite_desktop.core.syncstate import SyncStates
from gitwrite_desktop.core.textindex import file_words
from gitwrite_desktop.core.words import DayWords, words_per_day

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import date

    from gitwrite_desktop.core.annotation_index import IndexedAnnotation
    from gitwrite_desktop.core.context import ReaderContext, WriterContext


# -- writer operations --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshProject(Operation[None]):
    """Catch the cache up with a project (after the folder changed outside GitWrite, or
    periodically); only what changed is read."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> None:
        ctx.refresh(self.project_id)


@dataclass(frozen=True, slots=True)
class Rebuild(Operation[None]):
    """Refill the whole cache from the workspace and the repositories.

    ``progress(done, total)`` is called on the worker thread after each project.
    Cancelling stops between projects; the cache is then partly filled and later
    refreshes complete it.
    """

    progress: Callable[[int, int], None] | None = field(default=None, compare=False)

    def run(self, ctx: WriterContext, /) -> None:
        handle = ctx.handle
        was_open = ctx.open_ids()
        try:
            changes = ctx.indexer.rebuild(
                ctx.project,
                cancelled=lambda: handle is not None and handle.cancelled,
                progress=self.progress,
            )
        finally:
            for project_id in ctx.open_ids() - was_open:  # opened only to be indexed
                ctx.close_project(project_id)
        ctx.note(changes)
        ctx.check_cancelled()


@dataclass(frozen=True, slots=True)
class RecordSync(Operation[None]):
    """What the sync engine learnt about one share; only the fields given are written.

    ``server_heads`` is every ref the server has (the old ones not listed are dropped).
    ``error`` records a failure; ``succeeded`` clears the last error and notes the time.
    """

    project_id: str
    account_id: str
    last_seq: int | None = None
    server_heads: Mapping[str, str] | None = None
    needs_push: bool | None = None
    error: str | None = None
    succeeded: bool = False

    def run(self, ctx: WriterContext, /) -> None:
        states = SyncStates(ctx.db)
        with ctx.cache.write():
            if self.last_seq is not None:
                states.set_last_seq(self.project_id, self.account_id, self.last_seq)
            if self.server_heads is not None:
                states.set_server_heads(
                    self.project_id, self.account_id, self.server_heads, complete=True
                )
            if self.needs_push is not None:
                states.set_needs_push(self.project_id, self.account_id, self.needs_push)
            if self.error is not None:
                states.record_error(self.project_id, self.account_id, self.error)
            elif self.succeeded:
                states.record_success(self.project_id, self.account_id)
        ctx.note(Changes(sync=frozenset({self.project_id})))


# -- queries (reader thread) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Search(Query[SearchResults]):
    """Search a project's working text as the writer types (submit with a key so each
    keystroke supersedes the last)."""

    project_id: str
    text: str
    limit: int = 50
    offset: int = 0
    order: Order = Order.DOCUMENT

    def run(self, ctx: ReaderContext, /) -> SearchResults:
        ctx.check_cancelled()
        return search(
            ctx.db,
            self.project_id,
            self.text,
            limit=self.limit,
            offset=self.offset,
            order=self.order,
        )


@dataclass(frozen=True, slots=True)
class WordsPerDay(Query["list[DayWords]"]):
    """Words added and removed per day, for one project or all (``project_id`` None)."""

    project_id: str | None = None
    since: date | None = None
    until: date | None = None
    author_email: str | None = None

    def run(self, ctx: ReaderContext, /) -> list[DayWords]:
        return words_per_day(
            ctx.db,
            self.project_id,
            since=self.since,
            until=self.until,
            author_email=self.author_email,
        )


@dataclass(frozen=True, slots=True)
class AnnotationThreads(Query["list[IndexedAnnotation]"]):
    """Threads by file and position, optionally of one file, status or span of lines."""

    project_id: str
    path: str | None = None
    status: str | None = None
    lines: tuple[int, int] | None = None

    def run(self, ctx: ReaderContext, /) -> list[IndexedAnnotation]:
        return annotation_index.threads(
            ctx.db, self.project_id, path=self.path, status=self.status, lines=self.lines
        )


@dataclass(frozen=True, slots=True)
class AnnotationThread(Query["list[IndexedAnnotation]"]):
    """One thread: the annotation, then its replies oldest first."""

    project_id: str
    annotation_id: str

    def run(self, ctx: ReaderContext, /) -> list[IndexedAnnotation]:
        return annotation_index.thread(ctx.db, self.project_id, self.annotation_id)


@dataclass(frozen=True, slots=True)
class FileWords(Query["dict[str, int]"]):
    """Words per text file in the working folder (for the file tree)."""

    project_id: str

    def run(self, ctx: ReaderContext, /) -> dict[str, int]:
        return file_words(ctx.db, self.project_id)


@dataclass(frozen=True, slots=True)
class GetSyncState(Query[syncstate.SyncState]):
    project_id: str
    account_id: str

    def run(self, ctx: ReaderContext, /) -> syncstate.SyncState:
        return syncstate.read(ctx.db, self.project_id, self.account_id)
