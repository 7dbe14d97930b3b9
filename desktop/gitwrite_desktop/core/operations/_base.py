"""The two kinds of operation: writer operations and cache queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from gitwrite_desktop.core.context import ReaderContext, WriterContext

T = TypeVar("T")


class Operation(Generic[T]):
    """Something the writer thread does: anything touching git, the disk or the cache's
    write connection, or reading a project (a `Project` belongs to the writer thread).

    Subclasses are small frozen dataclasses holding the arguments; ``run`` does the work
    and returns the value handed to ``on_success``; what changed is noted on ``ctx``.
    """

    def run(self, ctx: WriterContext, /) -> T:
        raise NotImplementedError


class Query(Generic[T]):
    """A read of the cache, run on a reader thread with its own read-only connection."""

    def run(self, ctx: ReaderContext, /) -> T:
        raise NotImplementedError
