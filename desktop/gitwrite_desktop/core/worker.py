"""One thread, one queue of operations (Datasette's write thread, Anki's operations).

A `Worker` owns a context made on its own thread (the writer's: the workspace, the
cache's write connection and every open `Project`; a reader's: a read-only connection)
and runs the operations submitted to it one at a time, in order. Each submission gets
three optional callbacks, called on the worker's thread once the operation ends:

* ``on_success(Done)``: the operation's value and what it changed (`Changes`);
* ``on_failure(GitWriteError)``: an error meant for the writer. Third-party
  exceptions are translated here, at the boundary (`translate`); anything else is a bug
  and arrives as `UnexpectedError`, logged with its traceback;
* ``on_cancel()``: the `Handle` was cancelled before the operation ran, or while it ran
  and it stopped at a `Context.check_cancelled` (silently: no error).

Observers (`Worker.observe`) see every successful operation, whoever submitted it: the
sync engine learns of saves that way, and the UI of what a sync changed. The UI layer
turns these callbacks into Qt signals (queued to the GUI thread); nothing here knows
about Qt. Submitting with a ``key`` cancels the previous submission with the
same key that has not finished (search as you type: each keystroke supersedes the last).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from dulwich.file import FileLocked

from gitwrite.errors import GitWriteError
from gitwrite_desktop.core.changes import NOTHING, Changes
from gitwrite_desktop.core.errors import DiskError, ProjectBusy, UnexpectedError

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
C = TypeVar("C", bound="Context")
C_contra = TypeVar("C_contra", bound="Context", contravariant=True)


class Cancelled(Exception):
    """Raised inside an operation whose handle was cancelled; it ends silently."""


class Handle:
    """A submitted operation: cancel it, or wait for it to end."""

    def __init__(self, operation: object, key: str | None) -> None:
        self.operation = operation
        self.key = key
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        """Ask the operation not to run, or to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the callbacks have run; False on timeout."""
        return self._done.wait(timeout)


@dataclass(frozen=True, slots=True)
class Done(Generic[T_co]):
    """A successful operation: its value and what it changed."""

    operation: object
    value: T_co
    changes: Changes


class Context:
    """What every worker context offers operations: cancellation and change notes."""

    def __init__(self) -> None:
        self.handle: Handle | None = None
        self.changes: Changes = NOTHING

    def begin(self, handle: Handle) -> None:
        self.handle = handle
        self.changes = NOTHING

    def note(self, changes: Changes) -> None:
        """Add to what the running operation changed."""
        self.changes = self.changes | changes

    def check_cancelled(self) -> None:
        """Raise `Cancelled` when the running operation was cancelled."""
        if self.handle is not None and self.handle.cancelled:
            raise Cancelled()

    def close(self) -> None:
        """Release what the context holds (called on the worker thread as it stops)."""


class Runnable(Protocol[C_contra, T_co]):
    """An operation a worker with context ``C`` can run."""

    def run(self, ctx: C_contra, /) -> T_co: ...


def translate(exc: BaseException) -> GitWriteError:
    """The writer-facing error for an exception an operation raised."""
    if isinstance(exc, GitWriteError):
        return exc
    if isinstance(exc, FileLocked):
        lock = exc.lockfilename
        lockname = lock.decode("utf-8", "replace") if isinstance(lock, bytes) else str(lock)
        name = exc.filename
        path = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        return ProjectBusy(path, lockname)
    if isinstance(exc, OSError):
        return DiskError(str(exc.filename or "a file"), exc.strerror or str(exc))
    if isinstance(exc, sqlite3.OperationalError):
        return DiskError("the cache", str(exc))
    return UnexpectedError(exc)


@dataclass(slots=True)
class _Job:
    operation: Runnable[Any, Any]
    handle: Handle
    on_success: Callable[[Done[Any]], None] | None
    on_failure: Callable[[GitWriteError], None] | None
    on_cancel: Callable[[], None] | None


class Worker(Generic[C]):
    """A thread running operations one at a time with a context it made itself."""

    def __init__(self, name: str, make_context: Callable[[], C]) -> None:
        self.name = name
        self._make_context = make_context
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._keys: dict[str, Handle] = {}
        self._lock = threading.Lock()
        self._observers: list[Callable[[Done[Any]], None]] = []
        self.ready = threading.Event()
        self.startup_error: GitWriteError | None = None

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def submit(
        self,
        operation: Runnable[C, T],
        on_success: Callable[[Done[T]], None] | None = None,
        on_failure: Callable[[GitWriteError], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        *,
        key: str | None = None,
    ) -> Handle:
        """Queue ``operation``; the callbacks run on this worker's thread when it ends."""
        handle = Handle(operation, key)
        if key is not None:
            with self._lock:
                previous = self._keys.get(key)
                if previous is not None:
                    previous.cancel()
                self._keys[key] = handle
        self._queue.put(_Job(operation, handle, on_success, on_failure, on_cancel))
        return handle

    def observe(self, observer: Callable[[Done[Any]], None]) -> Callable[[], None]:
        """Call ``observer(done)`` on this thread after every successful operation (after
        its own ``on_success``), whoever submitted it. Returns a function that stops it."""
        with self._lock:
            self._observers.append(observer)

        def forget() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return forget

    def stop(self, timeout: float | None = 30) -> None:
        """Run what is queued, then close the context and end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _loop(self) -> None:
        ctx: C | None = None
        try:
            ctx = self._make_context()
        except BaseException as exc:
            log.exception("worker %s could not start", self.name)
            self.startup_error = translate(exc)
        self.ready.set()
        try:
            while (job := self._queue.get()) is not None:
                self._run(ctx, job)
        finally:
            if ctx is not None:
                try:
                    ctx.close()
                except Exception:
                    log.exception("worker %s did not close cleanly", self.name)

    def _run(self, ctx: C | None, job: _Job) -> None:
        handle = job.handle
        try:
            if handle.cancelled:
                self._call(job.on_cancel)
                return
            if ctx is None:
                assert self.startup_error is not None
                self._call(job.on_failure, self.startup_error)
                return
            ctx.begin(handle)
            try:
                value = job.operation.run(ctx)
            except Cancelled:
                self._call(job.on_cancel)
            except BaseException as exc:
                error = translate(exc)
                if isinstance(error, UnexpectedError):
                    log.error("operation %r failed", job.operation, exc_info=exc)
                self._call(job.on_failure, error)
            else:
                done = Done(job.operation, value, ctx.changes)
                self._call(job.on_success, done)
                with self._lock:
                    observers = list(self._observers)
                for observer in observers:
                    self._call(observer, done)
        finally:
            if handle.key is not None:
                with self._lock:
                    if self._keys.get(handle.key) is handle:
                        del self._keys[handle.key]
            handle._done.set()

    def _call(self, callback: Callable[..., None] | None, *args: object) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("a callback of worker %s failed", self.name)
