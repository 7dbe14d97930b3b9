"""Waking a worker in this process as soon as a job is committed.

Polling alone leaves a new job waiting up to a poll interval; on the embedded default the
worker shares the process with the code that enqueues (a push's ``index_push``), so
`enqueue` arranges for `notify_on_commit` to signal the engine's `JobSignal` when its
transaction commits (never on rollback), and the worker waits on that signal between
polls. Workers in other processes (a cluster) still poll.

Signals are per database engine (the `Database` a worker and the request handlers
share), kept in a weak mapping so a disposed engine's signal goes with it.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_SIGNALS: weakref.WeakKeyDictionary[Engine, JobSignal] = weakref.WeakKeyDictionary()
_ARMED = "gitwrite.jobs.notify_on_commit"


class JobSignal:
    """Set when a job was committed; `wait` returns then (or after a timeout)."""

    def __init__(self) -> None:
        self._events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}

    def notify(self) -> None:
        """Wake every waiter (safe from any thread)."""
        for loop, waiting in list(self._events.items()):
            if loop.is_closed():
                self._events.pop(loop, None)
            else:
                loop.call_soon_threadsafe(waiting.set)

    async def wait(self, timeout: float) -> bool:
        """Until notified or ``timeout`` seconds; True when notified. A notification that
        came while nobody waited is not lost: the next `wait` returns at once."""
        loop = asyncio.get_running_loop()
        waiting = self._events.setdefault(loop, asyncio.Event())
        try:
            await asyncio.wait_for(waiting.wait(), timeout)
        except TimeoutError:
            return False
        waiting.clear()
        return True


def signal_for(engine: Engine) -> JobSignal:
    """The signal of ``engine`` (a sync engine: ``AsyncEngine.sync_engine``)."""
    signal = _SIGNALS.get(engine)
    if signal is None:
        signal = _SIGNALS[engine] = JobSignal()
    return signal


def notify_on_commit(session: AsyncSession) -> None:
    """Signal the session's engine once its transaction commits."""
    sync = session.sync_session
    if sync.info.get(_ARMED):
        return
    sync.info[_ARMED] = True
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine

    def committed(done: Session, *_: Any) -> None:
        done.info.pop(_ARMED, None)
        signal_for(engine).notify()

    def rolled_back(done: Session, *_: Any) -> None:
        done.info.pop(_ARMED, None)

    event.listen(sync, "after_commit", committed, once=True)
    event.listen(sync, "after_rollback", rolled_back, once=True)
