"""The desktop core as one object: a writer thread, a reader thread, and `submit`.

::

    desktop = Desktop(app_data_folder)
    desktop.start()                       # makes/opens the cache, rebuilds it if needed
    desktop.submit(OpenProject(pid), on_success=..., on_failure=...)
    desktop.submit(Search(pid, "Nata"), on_success=show, key="search")  # reader thread
    desktop.stop()

Operations (`gitwrite_desktop.core.operations.Operation`) run on the writer thread, in
the order submitted; queries (`Query`) on the reader thread, so search as the writer
types never waits behind a save. Callbacks run on those threads: the Qt layer re-emits
them as signals. There is no global instance: the application makes one and passes it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar, overload

from gitwrite_desktop.core.cache import FILE_NAME
from gitwrite_desktop.core.context import ReaderContext, WriterContext
from gitwrite_desktop.core.operations import Operation, Query, Rebuild
from gitwrite_desktop.core.recovery import GRACE_SECONDS
from gitwrite_desktop.core.worker import Cancelled, Done, Handle, Worker
from gitwrite_desktop.core.workspace import absolute

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gitwrite.errors import GitWriteError

T = TypeVar("T")


class _Startup(Operation[bool]):
    """Rebuild the cache when it was just made or its schema upgraded; True if it did."""

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self.progress = progress

    def run(self, ctx: WriterContext, /) -> bool:
        if not (ctx.cache.fresh or ctx.cache.upgraded_from is not None):
            return False
        Rebuild(self.progress).run(ctx)
        ctx.cache.fresh = False
        ctx.cache.upgraded_from = None
        return True


class Desktop:
    """The workers of one workspace (its app data folder)."""

    def __init__(self, data_dir: str | Path, *, grace: float = GRACE_SECONDS) -> None:
        self.data_dir = absolute(data_dir)
        self.writer: Worker[WriterContext] = Worker(
            "gitwrite-writer", lambda: WriterContext(self.data_dir, grace=grace)
        )
        self.reader: Worker[ReaderContext] = Worker(
            "gitwrite-reader", lambda: ReaderContext(self.data_dir / FILE_NAME, self.writer.ready)
        )

    def start(
        self,
        on_success: Callable[[Done[bool]], None] | None = None,
        on_failure: Callable[[GitWriteError], None] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> Handle:
        """Start both threads; the first operation rebuilds the cache if it is new."""
        self.writer.start()
        self.reader.start()
        return self.writer.submit(_Startup(progress), on_success, on_failure)

    @overload
    def submit(
        self,
        operation: Operation[T],
        on_success: Callable[[Done[T]], None] | None = ...,
        on_failure: Callable[[GitWriteError], None] | None = ...,
        on_cancel: Callable[[], None] | None = ...,
        *,
        key: str | None = ...,
    ) -> Handle: ...

    @overload
    def submit(
        self,
        operation: Query[T],
        on_success: Callable[[Done[T]], None] | None = ...,
        on_failure: Callable[[GitWriteError], None] | None = ...,
        on_cancel: Callable[[], None] | None = ...,
        *,
        key: str | None = ...,
    ) -> Handle: ...

    def submit(
        self,
        operation: Operation[Any] | Query[Any],
        on_success: Callable[[Done[Any]], None] | None = None,
        on_failure: Callable[[GitWriteError], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        *,
        key: str | None = None,
    ) -> Handle:
        """Queue an operation (writer thread) or a query (reader thread)."""
        if isinstance(operation, Query):
            return self.reader.submit(operation, on_success, on_failure, on_cancel, key=key)
        return self.writer.submit(operation, on_success, on_failure, on_cancel, key=key)

    def observe(self, observer: Callable[[Done[Any]], None]) -> Callable[[], None]:
        """See every successful writer operation (`Worker.observe`); returns a function
        that stops observing."""
        return self.writer.observe(observer)

    def call(self, operation: Operation[T] | Query[T], timeout: float = 120) -> Done[T]:
        """Submit and wait (for scripts and tests; never on the GUI thread).

        Raises the operation's `GitWriteError`, `Cancelled`, or `TimeoutError`.
        """
        outcome: list[Done[T] | BaseException] = []
        finished = threading.Event()

        def success(done: Done[T]) -> None:
            outcome.append(done)
            finished.set()

        def failure(error: GitWriteError) -> None:
            outcome.append(error)
            finished.set()

        def cancel() -> None:
            outcome.append(Cancelled())
            finished.set()

        self.submit(operation, success, failure, cancel)
        if not finished.wait(timeout):
            raise TimeoutError(f"{operation!r} did not finish in {timeout} s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self, timeout: float | None = 30) -> None:
        """Finish what is queued, close every project and the cache, end the threads."""
        self.reader.stop(timeout)
        self.writer.stop(timeout)
