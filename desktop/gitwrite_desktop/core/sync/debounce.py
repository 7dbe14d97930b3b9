"""Folding bursts of requests into few runs of one action (pushes after saves, fetches
after notices).

A `Coalescer` runs its action at most once at a time. A request while the action is idle
starts it after ``settle`` seconds without further requests (a trailing debounce, but
never later than ``max_wait`` after the first request); every request that comes while
the action runs is folded into ONE next run. So a writer who saves fifty times in a
second causes a push, maybe two, never fifty; and a save after a quiet spell is pushed
as soon as ``settle`` allows (0 by default: at once, since autosave is already debounced
by the editor).

Requests carry reasons (``"local"``, ``"remote"``...), handed to the action as a set, so
one run can do what every folded request needed. Everything runs on one event loop;
`Coalescer.request` must be called on that loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Action = Callable[[frozenset[str]], Awaitable[None]]


class Coalescer:
    """Runs ``action(reasons)`` for requests, one run at a time (see the module doc)."""

    def __init__(
        self, action: Action, *, settle: float = 0.0, max_wait: float = 2.0, name: str = ""
    ) -> None:
        self.action = action
        self.settle = settle
        self.max_wait = max(max_wait, settle)
        self.name = name
        self.runs = 0
        self._reasons: set[str] = set()
        self._first: float | None = None
        self._last = 0.0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = False

    @property
    def pending(self) -> bool:
        """Whether a request waits for a run."""
        return bool(self._reasons)

    @property
    def busy(self) -> bool:
        return self._busy

    def request(self, reason: str = "") -> None:
        """Ask for a run (folded with other requests into the next one)."""
        now = time.monotonic()
        if not self._reasons:
            self._first = now
        self._reasons.add(reason)
        self._last = now
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Wait until nothing is pending or running."""
        await self._idle.wait()

    async def _settled(self) -> None:
        while self.settle > 0:
            now = time.monotonic()
            first = self._first if self._first is not None else now
            quiet = self._last + self.settle - now
            limit = first + self.max_wait - now
            wait = min(quiet, limit)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def run(self) -> None:
        """Serve requests until cancelled."""
        while True:
            await self._wake.wait()
            await self._settled()
            self._wake.clear()
            reasons = frozenset(self._reasons)
            self._reasons.clear()
            self._first = None
            if not reasons:
                continue
            self._busy = True
            try:
                self.runs += 1
                await self.action(reasons)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sync: %s failed", self.name or "a coalesced action")
            finally:
                self._busy = False
                if not self._reasons:
                    self._idle.set()
