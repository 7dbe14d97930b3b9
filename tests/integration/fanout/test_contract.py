"""The fanout contract, run against every backend: notices reach the instances following
a repository (and only those), in order, once each; a failing listener hurts no one."""

from __future__ import annotations

import asyncio

import pytest

from gitwrite.protocol import Notice
from gitwrite_sync.fanout import Fanout, decode_notice, encode_notice
from tests.integration.fanout.conftest import MakeFanout

pytestmark = pytest.mark.anyio


def notice(repo: str, seq: int) -> Notice:
    return Notice(repo=repo, seq=seq, ref="refs/heads/main", old="a" * 40, new="b" * 40)


class Heard:
    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.arrived = asyncio.Event()

    def __call__(self, notice: Notice) -> None:
        self.notices.append(notice)
        self.arrived.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Notice]:
        async with asyncio.timeout(timeout):
            while len(self.notices) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.notices


async def settle(fanout: Fanout) -> None:
    """Give the backend time to deliver what it will (a sentinel on its own repository)."""
    heard = Heard()
    fanout.subscribe("__sentinel__", heard)
    await fanout.publish("__sentinel__", notice("__sentinel__", 1))
    await heard.wait_for(1)
    fanout.unsubscribe("__sentinel__", heard)


async def test_a_notice_reaches_every_instance_following_the_repository(
    make_fanout: MakeFanout,
) -> None:
    publisher, first, second = await make_fanout(), await make_fanout(), await make_fanout()
    heard = [Heard(), Heard(), Heard()]
    publisher.subscribe("novel", heard[0])
    first.subscribe("novel", heard[1])
    second.subscribe("novel", heard[2])
    await publisher.publish("novel", notice("novel", 7))
    for listener in heard:
        assert await listener.wait_for(1) == [notice("novel", 7)]


async def test_only_the_followed_repository_is_delivered(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    heard = Heard()
    follower.subscribe("novel", heard)
    await publisher.publish("poems", notice("poems", 1))
    await publisher.publish("novel", notice("novel", 2))
    assert await heard.wait_for(1) == [notice("novel", 2)]
    await settle(follower)
    assert heard.notices == [notice("novel", 2)]


async def test_notices_of_a_repository_arrive_in_publish_order(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    heard = Heard()
    follower.subscribe("novel", heard)
    for seq in range(1, 51):
        await publisher.publish("novel", notice("novel", seq))
    assert [n.seq for n in await heard.wait_for(50)] == list(range(1, 51))


async def test_many_listeners_in_one_process_share_one_subscription(
    make_fanout: MakeFanout,
) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    listeners = [Heard() for _ in range(20)]
    for listener in listeners:
        follower.subscribe("novel", listener)
    assert follower.following() == {"novel"}
    await publisher.publish("novel", notice("novel", 3))
    for listener in listeners:
        assert await listener.wait_for(1) == [notice("novel", 3)]
    assert follower.delivered == 1  # one arrival, fanned out in-process


async def test_after_unsubscribing_nothing_more_arrives(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    stays, leaves = Heard(), Heard()
    follower.subscribe("novel", stays)
    follower.subscribe("novel", leaves)
    follower.unsubscribe("novel", leaves)
    await publisher.publish("novel", notice("novel", 1))
    await stays.wait_for(1)
    follower.unsubscribe("novel", stays)
    assert follower.following() == set()
    await publisher.publish("novel", notice("novel", 2))
    await settle(follower)
    assert leaves.notices == [] and stays.notices == [notice("novel", 1)]


async def test_a_failing_listener_does_not_stop_the_others(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    heard = Heard()

    def broken(_: Notice) -> None:
        raise RuntimeError("a listener with a bug")

    follower.subscribe("novel", broken)
    follower.subscribe("novel", heard)
    await publisher.publish("novel", notice("novel", 1))
    await publisher.publish("novel", notice("novel", 2))
    assert [n.seq for n in await heard.wait_for(2)] == [1, 2]


async def test_a_closed_instance_hears_nothing(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    heard = Heard()
    follower.subscribe("novel", heard)
    await follower.close()
    await publisher.publish("novel", notice("novel", 1))
    await settle(publisher)
    assert heard.notices == []


async def test_stream_is_an_async_iterator_of_notices(make_fanout: MakeFanout) -> None:
    publisher, follower = await make_fanout(), await make_fanout()
    received: list[Notice] = []
    ready = asyncio.Event()

    async def read() -> None:
        stream = follower.stream(["novel", "poems"])
        ready.set()
        async for item in stream:
            received.append(item)
            if len(received) == 2:
                break

    reader = asyncio.create_task(read())
    await ready.wait()
    await asyncio.sleep(0)  # let the stream subscribe
    while follower.following() != {"novel", "poems"}:
        await asyncio.sleep(0.01)
    await publisher.publish("novel", notice("novel", 1))
    await publisher.publish("poems", notice("poems", 1))
    await asyncio.wait_for(reader, 5)
    assert received == [notice("novel", 1), notice("poems", 1)]
    assert follower.following() == set()  # leaving the loop unsubscribed


def test_notices_travel_as_messagepack_and_garbage_is_dropped() -> None:
    assert decode_notice(encode_notice(notice("novel", 9))) == notice("novel", 9)
    assert decode_notice(b"\x93\x01\x02\x03") is None
    assert decode_notice(b"not msgpack \xc1") is None
