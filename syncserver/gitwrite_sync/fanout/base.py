"""The fanout interface: "repository R is now at sequence N", relayed between instances.

Each server process holds ONE `Fanout`. Its connections register listeners per
repository (`subscribe`); the fanout follows a repository on its backend while at least
one local listener wants it, and hands every notice that arrives to those listeners
(in-process fan-out: one backend subscription per process, however many clients).
`publish` sends a notice to every instance, this one included.

The fanout is a hint, never the record: a notice may be lost (a backend restart, a slow
client), and clients recover from the event log by sequence. So delivery is at most
once, in publish order per repository and instance, and a listener must not block: it
is called in the event loop, and one that raises is logged and skipped.

Backends implement `_send`, and `_follow` / `_unfollow` when they subscribe per
repository (the memory backend needs neither); they call `deliver` for what arrives.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable

import msgspec

from gitwrite.protocol import Notice

log = logging.getLogger(__name__)

Listener = Callable[[Notice], None]

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Notice)


def encode_notice(notice: Notice) -> bytes:
    """A notice as the backends carry it (MessagePack; never pickle)."""
    return _encoder.encode(notice)


def decode_notice(payload: bytes) -> Notice | None:
    """The notice in ``payload``, or None (logged) when it is not one."""
    try:
        return _decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("fanout: dropping a payload that is not a notice: %s", exc)
        return None


class Fanout(ABC):
    """One process's link to the other instances; see the module docstring."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self.delivered = 0

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect to the backend (a no-op for backends that need no connection)."""

    async def close(self) -> None:
        """Disconnect; no listener is called afterwards."""
        self._listeners.clear()

    async def publish(self, repo: str, notice: Notice) -> None:
        """Tell every instance (this one too) that ``repo`` moved."""
        await self._send(repo, encode_notice(notice))

    @abstractmethod
    async def _send(self, repo: str, payload: bytes) -> None:
        """Put ``payload`` on the backend's channel for ``repo``."""

    def _follow(self, repo: str) -> None:  # noqa: B027 - optional hook
        """The first local listener of ``repo`` arrived: subscribe on the backend."""

    def _unfollow(self, repo: str) -> None:  # noqa: B027 - optional hook
        """The last local listener of ``repo`` left: unsubscribe on the backend."""

    def subscribe(self, repo: str, listener: Listener) -> None:
        """Call ``listener`` with every notice of ``repo`` from now on."""
        listeners = self._listeners.setdefault(repo, set())
        first = not listeners
        listeners.add(listener)
        if first:
            self._follow(repo)

    def unsubscribe(self, repo: str, listener: Listener) -> None:
        listeners = self._listeners.get(repo)
        if listeners is None or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[repo]
            self._unfollow(repo)

    def following(self) -> set[str]:
        """The repositories some local listener wants."""
        return set(self._listeners)

    def deliver(self, repo: str, payload: bytes) -> None:
        """Hand a payload from the backend to the local listeners of ``repo``."""
        listeners = self._listeners.get(repo)
        if not listeners:
            return
        notice = decode_notice(payload)
        if notice is None:
            return
        for listener in list(listeners):
            try:
                listener(notice)
            except Exception:
                log.exception("fanout: a listener of %s failed", repo)
        self.delivered += 1

    async def stream(self, repos: Iterable[str], *, maxsize: int = 256) -> AsyncIterator[Notice]:
        """The notices of ``repos`` as an async iterator, until the caller stops.

        At most ``maxsize`` notices wait; newer ones are dropped when the reader lags (a
        hint may be lost; the event log is the record).
        """
        queue: asyncio.Queue[Notice] = asyncio.Queue(maxsize)

        def put(notice: Notice) -> None:
            if not queue.full():
                queue.put_nowait(notice)

        names = list(dict.fromkeys(repos))
        for repo in names:
            self.subscribe(repo, put)
        try:
            while True:
                yield await queue.get()
        finally:
            for repo in names:
                self.unsubscribe(repo, put)
