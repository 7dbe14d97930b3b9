"""The worker: one thread runs operations in order; success brings what changed,
failure a writer-facing error, cancellation only ``on_cancel``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from dulwich.file import FileLocked

from gitwrite.errors import GitWriteError, NothingToSave
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.errors import DiskError, ProjectBusy, UnexpectedError
from gitwrite_desktop.core.worker import Context, Done, Handle, Worker

WAIT = 10


class Recorder(Context):
    def __init__(self) -> None:
        super().__init__()
        self.ran: list[str] = []
        self.closed_on: str | None = None

    def close(self) -> None:
        self.closed_on = threading.current_thread().name


@dataclass
class Op:
    name: str
    action: Callable[[Recorder], object] = lambda ctx: None
    thread: str | None = field(default=None, init=False)

    def run(self, ctx: Recorder, /) -> str:
        self.thread = threading.current_thread().name
        ctx.ran.append(self.name)
        ctx.note(Changes(files=frozenset({("p", f"{self.name}.md")})))
        self.action(ctx)
        return self.name.upper()


@dataclass
class Outcomes:
    done: list[Done[object]] = field(default_factory=list)
    failed: list[GitWriteError] = field(default_factory=list)
    cancelled: int = 0
    threads: set[str] = field(default_factory=set)

    def success(self, done: Done[object]) -> None:
        self.threads.add(threading.current_thread().name)
        self.done.append(done)

    def failure(self, error: GitWriteError) -> None:
        self.threads.add(threading.current_thread().name)
        self.failed.append(error)

    def cancel(self) -> None:
        self.cancelled += 1


@pytest.fixture
def context() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(context: Recorder) -> Iterator[Worker[Recorder]]:
    made: Worker[Recorder] = Worker("test-writer", lambda: context)
    made.start()
    yield made
    made.stop()


def submit(worker: Worker[Recorder], op: Op, seen: Outcomes, key: str | None = None) -> Handle:
    return worker.submit(op, seen.success, seen.failure, seen.cancel, key=key)


def test_operations_run_in_order_on_the_worker_thread(
    worker: Worker[Recorder], context: Recorder
) -> None:
    seen = Outcomes()
    ops = [Op(f"op{n}") for n in range(20)]
    handles = [worker.submit(op, seen.success, seen.failure) for op in ops]
    assert handles[-1].wait(WAIT)
    assert context.ran == [op.name for op in ops]
    assert {op.thread for op in ops} == {"test-writer"} == seen.threads
    assert threading.current_thread().name != "test-writer"
    assert [d.value for d in seen.done] == [op.name.upper() for op in ops]
    assert seen.done[3].changes.files == {("p", "op3.md")}  # each op's own changes only
    assert seen.done[3].operation is ops[3]


def test_an_error_for_the_writer_is_a_failure_not_a_cancel(worker: Worker[Recorder]) -> None:
    seen = Outcomes()

    def refuse(ctx: Recorder) -> None:
        raise NothingToSave()

    assert submit(worker, Op("save", refuse), seen).wait(WAIT)
    assert [type(e) for e in seen.failed] == [NothingToSave] and seen.done == []
    assert seen.cancelled == 0


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (FileLocked(b"/p/.git/index", b"/p/.git/index.lock"), ProjectBusy),
        (PermissionError(13, "Permission denied", "/p/a.md"), DiskError),
        (ValueError("a bug"), UnexpectedError),
    ],
)
def test_other_exceptions_are_translated_at_the_boundary(
    worker: Worker[Recorder], raised: Exception, expected: type[GitWriteError]
) -> None:
    seen = Outcomes()

    def fail(ctx: Recorder) -> None:
        raise raised

    assert submit(worker, Op("x", fail), seen).wait(WAIT)
    (error,) = seen.failed
    assert type(error) is expected
    if isinstance(error, UnexpectedError):
        assert error.original is raised
    if isinstance(error, ProjectBusy):
        assert error.lock == "/p/.git/index.lock"
    # The worker survives any of them.
    assert submit(worker, Op("after"), seen).wait(WAIT)
    assert [d.value for d in seen.done] == ["AFTER"]


def test_cancelling_before_or_during_a_run_is_silent(
    worker: Worker[Recorder], context: Recorder
) -> None:
    seen = Outcomes()
    gate, started = threading.Event(), threading.Event()

    def block(ctx: Recorder) -> None:
        started.set()
        gate.wait(WAIT)
        ctx.check_cancelled()

    running = submit(worker, Op("long", block), seen)
    waiting = submit(worker, Op("queued"), seen)
    assert started.wait(WAIT)
    running.cancel()
    waiting.cancel()
    gate.set()
    assert waiting.wait(WAIT)
    assert seen.cancelled == 2 and seen.failed == [] and seen.done == []
    assert context.ran == ["long"]  # the queued one never ran


def test_a_key_supersedes_the_previous_submission(
    worker: Worker[Recorder], context: Recorder
) -> None:
    seen = Outcomes()
    gate = threading.Event()
    submit(worker, Op("busy", lambda ctx: gate.wait(WAIT)), seen)
    for typed in ("N", "Na", "Nat", "Nata"):
        last = submit(worker, Op(typed), seen, key="search")
    gate.set()
    assert last.wait(WAIT)
    assert context.ran == ["busy", "Nata"]
    assert seen.cancelled == 3


def test_a_failing_callback_does_not_stop_the_worker(worker: Worker[Recorder]) -> None:
    def broken(done: Done[object]) -> None:
        raise RuntimeError("a widget is gone")

    worker.submit(Op("one"), broken)
    seen = Outcomes()
    assert submit(worker, Op("two"), seen).wait(WAIT)
    assert [d.value for d in seen.done] == ["TWO"]


def test_a_context_that_cannot_be_made_fails_every_operation() -> None:
    def broken() -> Recorder:
        raise PermissionError(13, "Permission denied", "/data/cache.sqlite3")

    worker: Worker[Recorder] = Worker("broken", broken)
    worker.start()
    seen = Outcomes()
    assert submit(worker, Op("x"), seen).wait(WAIT)
    worker.stop()
    assert [type(e) for e in seen.failed] == [DiskError]
    assert worker.startup_error is seen.failed[0]


def test_stopping_runs_what_is_queued_then_closes_on_the_worker_thread(
    context: Recorder,
) -> None:
    worker: Worker[Recorder] = Worker("closing", lambda: context)
    worker.start()
    for n in range(5):
        worker.submit(Op(f"op{n}"))
    worker.stop()
    assert context.ran == [f"op{n}" for n in range(5)]
    assert context.closed_on == "closing"
    assert not worker.thread.is_alive()


def test_observers_see_every_success_whoever_submitted_it(worker: Worker[Recorder]) -> None:
    observed: list[tuple[object, str]] = []
    forget = worker.observe(
        lambda done: observed.append((done.value, threading.current_thread().name))
    )

    def refuse(ctx: Recorder) -> None:
        raise NothingToSave()

    worker.submit(Op("one"))
    worker.submit(Op("failing", refuse))
    assert worker.submit(Op("two"), lambda done: None).wait(WAIT)
    assert observed == [("ONE", "test-writer"), ("TWO", "test-writer")]  # failures not seen
    forget()
    assert worker.submit(Op("three")).wait(WAIT)
    assert len(observed) == 2
