"""A session's outbox: bounded in frames and bytes; answers wait, notices never do."""

from __future__ import annotations

import asyncio

import pytest

from gitwrite_sync.domain.sync.outbox import Outbox, OutboxClosed

pytestmark = pytest.mark.anyio


async def test_notices_are_refused_when_nearly_full_keeping_a_place_for_an_answer() -> None:
    box = Outbox(max_messages=4, max_bytes=1000)
    assert [box.offer(b"n") for _ in range(5)] == [True, True, True, False, False]
    await asyncio.wait_for(box.put(b"answer"), 1)  # the place kept for it
    assert len(box) == 4 and not box.offer(b"n")


async def test_an_answer_waits_for_room_then_goes_in_order() -> None:
    box = Outbox(max_messages=2, max_bytes=1000)
    await box.put(b"a")
    await box.put(b"b")
    waiting = asyncio.create_task(box.put(b"c"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    assert await box.get() == b"a"
    await asyncio.wait_for(waiting, 1)
    assert [await box.get(), await box.get()] == [b"b", b"c"]


async def test_bytes_are_bounded_but_one_large_frame_always_fits_alone() -> None:
    box = Outbox(max_messages=100, max_bytes=10)
    await box.put(b"x" * 50)  # alone, over the bound: it must still be sendable
    waiting = asyncio.create_task(box.put(b"y" * 5))
    await asyncio.sleep(0.01)
    assert not waiting.done() and box.bytes == 50
    assert await box.get() == b"x" * 50
    await asyncio.wait_for(waiting, 1)
    assert not box.offer(b"z" * 6)  # 5 + 6 > 10


async def test_closing_wakes_a_waiting_sender_and_ends_the_writer() -> None:
    box = Outbox(max_messages=2, max_bytes=1000)
    await box.put(b"a")
    await box.put(b"b")
    waiting = asyncio.create_task(box.put(b"c"))
    await asyncio.sleep(0.01)
    box.close()
    with pytest.raises(OutboxClosed):
        await asyncio.wait_for(waiting, 1)
    assert [await box.get(), await box.get(), await box.get()] == [b"a", b"b", None]
    box.abandon()
    assert box.bytes == 0 and len(box) == 0 and not box.offer(b"late")
