"""Fanout backends for the contract suite: each test gets a factory of instances that
share one backend (several server processes on one Redis, or one MemoryBroker)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gitwrite_sync.fanout import Fanout, MemoryBroker, MemoryFanout

# The Redis and Redis Cluster backends join this list when they exist.
BACKENDS = ["memory"]

MakeFanout = Callable[[], Awaitable[Fanout]]


@pytest.fixture(params=BACKENDS)
async def make_fanout(request: pytest.FixtureRequest) -> AsyncIterator[MakeFanout]:
    made: list[Fanout] = []
    broker = MemoryBroker()

    async def make() -> Fanout:
        fanout: Fanout = MemoryFanout(broker)
        await fanout.start()
        made.append(fanout)
        return fanout

    yield make
    for fanout in made:
        await fanout.close()
