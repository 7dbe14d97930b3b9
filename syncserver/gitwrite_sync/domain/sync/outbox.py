"""A session's outgoing frames: bounded in count and in bytes, never blocking forever.

Answers (`put`) wait for room: fewer than ``max_messages`` frames queued, and either
nothing queued or room for this frame within ``max_bytes`` (so a client that stops
reading holds at most one large answer in memory, however many requests it sent).
Notices and heartbeats (`offer`) never wait: they are refused when the queue is nearly
full (one place is kept for an answer). Once closed (the client went away), waiting
senders get `OutboxClosed` instead of waiting forever.
"""

from __future__ import annotations

import asyncio
from collections import deque


class OutboxClosed(Exception):
    """The session is over; nothing more will be sent."""


class Outbox:
    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max(2, max_messages)
        self.max_bytes = max_bytes
        self.frames: deque[bytes] = deque()
        self.bytes = 0
        self.closed = False
        self._items = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def nearly_full(self) -> bool:
        return len(self.frames) >= self.max_messages - 1

    def _fits(self, size: int) -> bool:
        if len(self.frames) >= self.max_messages:
            return False
        return not self.frames or self.bytes + size <= self.max_bytes

    def _add(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.bytes += len(frame)
        self._items.set()

    def offer(self, frame: bytes) -> bool:
        """Queue ``frame`` if there is room now (keeping one place for an answer)."""
        if self.closed or self.nearly_full or not self._fits(len(frame)):
            return False
        self._add(frame)
        return True

    async def put(self, frame: bytes) -> None:
        """Queue ``frame``, waiting for room. Raises `OutboxClosed` once closed."""
        while not self.closed and not self._fits(len(frame)):
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise OutboxClosed
        self._add(frame)

    async def get(self) -> bytes | None:
        """The next frame to send; None once closed and empty."""
        while not self.frames:
            if self.closed:
                return None
            self._items.clear()
            await self._items.wait()
        frame = self.frames.popleft()
        self.bytes -= len(frame)
        self._room.set()
        return frame

    def close(self) -> None:
        """No more frames: the writer sends what is queued and stops; senders stop waiting."""
        self.closed = True
        self._items.set()
        self._room.set()

    def abandon(self) -> None:
        """The client is gone: drop what is queued too."""
        self.frames.clear()
        self.bytes = 0
        self.close()
