"""The in-process fanout of the embedded default (and of tests).

Several `MemoryFanout` on one `MemoryBroker` behave like instances on one Redis: each
publish reaches every fanout following the repository. Notices still travel encoded, as
they would over a real backend.
"""

from __future__ import annotations

import asyncio
import weakref

from gitwrite_sync.fanout.base import Fanout


class MemoryBroker:
    """What the memory fanouts of one process share (the part Redis plays elsewhere)."""

    def __init__(self) -> None:
        self._members: weakref.WeakSet[MemoryFanout] = weakref.WeakSet()

    def attach(self, fanout: MemoryFanout) -> None:
        self._members.add(fanout)

    def detach(self, fanout: MemoryFanout) -> None:
        self._members.discard(fanout)

    def send(self, repo: str, payload: bytes) -> None:
        for member in list(self._members):
            # Delivered on a later turn of the loop, as a network backend would: the
            # publisher never runs its listeners in its own call.
            asyncio.get_running_loop().call_soon(member.deliver, repo, payload)


class MemoryFanout(Fanout):
    def __init__(self, broker: MemoryBroker | None = None) -> None:
        super().__init__()
        self.broker = broker or MemoryBroker()
        self.broker.attach(self)

    async def _send(self, repo: str, payload: bytes) -> None:
        self.broker.send(repo, payload)

    async def close(self) -> None:
        self.broker.detach(self)
        await super().close()
