"""One session's outgoing queue with a client that stops reading: notices are dropped,
memory stays bounded, and once it drains the client is told to compare heads."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gitwrite.protocol import (
    Auth,
    ClientMessage,
    Hello,
    ListRefs,
    Notice,
    ResyncRequired,
    ServerMessage,
    Subscribe,
    Welcome,
    decode_server,
    encode,
)
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.sync.connection import SyncConnection
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings

pytestmark = pytest.mark.anyio


class SlowSocket:
    """A socket whose client reads only when told to."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[ServerMessage] = []
        self.reading = asyncio.Event()
        self.reading.set()

    def feed(self, message: ClientMessage) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "bytes": encode(message)})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_bytes(self, data: bytes) -> None:
        await self.reading.wait()
        self.sent.append(decode_server(data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def small_queue(settings: Settings) -> Any:
    small = replace(settings, client_queue_messages=8, heartbeat_seconds=3600)
    db = Database(small.database_url)
    services = Services.build(small, db)
    user = await services.users.create("owner@example.com", "correct horse battery", "owner")
    await services.repositories.create(user, "novel")
    yield services, user
    await db.dispose()


async def test_a_client_that_stops_reading_loses_notices_not_memory(
    small_queue: tuple[Services, User],
) -> None:
    services, user = small_queue
    socket = SlowSocket()

    async def check(token: str) -> User:
        assert token == "t"
        return user

    connection = SyncConnection(socket, services.sync, services.settings, check)
    running = asyncio.create_task(connection.run())
    socket.feed(Auth(token="t"))
    socket.feed(Hello(version=1))
    socket.feed(Subscribe(repos={"novel": 0}))
    await until(lambda: "novel" in connection.followed)
    assert isinstance(socket.sent[0], Welcome)

    socket.reading.clear()  # the client stops reading
    for seq in range(1, 101):
        notice = Notice("novel", seq, "refs/heads/main", "a" * 40, "b" * 40)
        await services.fanout.publish("novel", notice)
        await asyncio.sleep(0)
        assert len(connection.outbox) <= connection.outbox.max_messages
    await asyncio.sleep(0.05)
    assert connection.dropped > 80

    socket.reading.set()  # it reads again
    await until(lambda: any(isinstance(m, ResyncRequired) for m in socket.sent))
    notices = [m.seq for m in socket.sent if isinstance(m, Notice)]
    assert notices == list(range(1, len(notices) + 1))  # the first ones, in order
    [hint] = [m for m in socket.sent if isinstance(m, ResyncRequired)]
    assert (hint.repo, hint.oldest_seq, hint.current_seq) == ("novel", len(notices) + 1, 100)

    socket.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(running, 5)
    assert services.fanout.following() == set()  # the session's listeners are gone


async def test_a_client_that_leaves_while_answers_wait_ends_the_session(
    small_queue: tuple[Services, User],
) -> None:
    services, user = small_queue
    socket = SlowSocket()

    async def check(token: str) -> User:
        return user

    connection = SyncConnection(socket, services.sync, services.settings, check)
    running = asyncio.create_task(connection.run())
    socket.feed(Auth(token="t"))
    socket.feed(Hello(version=1))
    await until(lambda: len(socket.sent) == 1)
    socket.reading.clear()
    for n in range(40):  # far more answers than the outbox holds
        socket.feed(ListRefs(id=n, repo="novel"))
    await until(lambda: len(connection.outbox) == connection.outbox.max_messages)
    assert socket.incoming.qsize() > 0  # the reader waits for room, reading no further

    async def gone(data: bytes) -> None:
        raise ConnectionResetError("the client went away")

    socket.send_bytes = gone  # type: ignore[method-assign]
    socket.reading.set()
    await asyncio.wait_for(running, 5)  # no task is left waiting for room
    assert len(connection.outbox) == 0
