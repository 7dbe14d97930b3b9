"""The WebSocket under `gitwrite.client.SyncClient`: frames, answers, events, heartbeats.

One task reads every frame: answers are matched to requests by their ``id`` (several may
be in flight), `Welcome` completes the handshake, and notices, resync requests,
going-away and request-less errors become *events* (a queue and an optional callback).
A `Ping` goes out every ``heartbeat_seconds`` the server asked for; when nothing has
arrived for three of them the connection is closed. When the connection ends, everything
waiting fails with `Disconnected`, and the channel is `closed` from then on, however it
ended (the reader finished or was stopped, a send found the socket gone, `abandon`): a
channel never looks open while it cannot carry requests. websockets' exceptions stop here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from gitwrite.errors import GitWriteError
from gitwrite.protocol import (
    ClientMessage,
    Error,
    ErrorCode,
    Fetch,
    FetchResult,
    GoingAway,
    ListRefs,
    Notice,
    Ping,
    Pong,
    ProtocolError,
    Push,
    PushResult,
    Refs,
    ResyncRequired,
    ServerMessage,
    Welcome,
    decode_server,
    encode,
)

logger = logging.getLogger("gitwrite.client")

Event = Notice | ResyncRequired | GoingAway | Error
Request = ListRefs | Push | Fetch


class SyncError(GitWriteError):
    """The server refused a request, or the connection failed.

    Attributes:
        code: An `ErrorCode` value (``forbidden``, ``invalid_pack``...), or ``disconnected``,
            ``timeout`` or ``stale`` (a sync that kept losing races).
        message: The server's (or the client's) explanation.
        details: Structured details the server sent.
        request_id: The request it answers, when known.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Mapping[str, str] | None = None,
        request_id: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode | str = _code(code)
        self.message = message
        self.details = dict(details or {})
        self.request_id = request_id

    @classmethod
    def from_error(cls, error: Error) -> SyncError:
        return cls(error.code, error.message, details=error.details, request_id=error.id)


class Disconnected(SyncError):
    """The connection ended (or could not open); ``retry_ms`` is the server's hint, if any."""

    def __init__(self, message: str, *, retry_ms: int | None = None) -> None:
        super().__init__("disconnected", message)
        self.retry_ms = retry_ms


class RequestTimeout(SyncError):
    def __init__(self, message: str, request_id: int | None = None) -> None:
        super().__init__("timeout", message, request_id=request_id)


def _code(code: str) -> ErrorCode | str:
    try:
        return ErrorCode(code)
    except ValueError:
        return code


@dataclass(slots=True)
class SyncStats:
    """Frames and bytes moved (WebSocket payloads; the socket adds a few bytes per frame)."""

    frames_sent: int = 0
    frames_received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    last_push_pack: int = 0
    last_fetch_pack: int = 0


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


class Channel:
    """One open WebSocket. Make it with `Channel.open`."""

    def __init__(
        self, ws: ClientConnection, timeout: float, on_event: Callable[[Event], object] | None
    ) -> None:
        self._ws = ws
        self.timeout = timeout
        self.on_event = on_event
        self.stats = SyncStats()
        self.welcome: asyncio.Future[Welcome] = asyncio.get_running_loop().create_future()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[ServerMessage]] = {}
        self._pings: dict[float, asyncio.Future[float]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._last_frame = time.monotonic()
        self._closed: Disconnected | None = None
        self._retry_ms: int | None = None  # from GoingAway
        self._reader = asyncio.create_task(self._read_loop())
        self._heartbeat: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        timeout: float,
        max_frame_bytes: int,
        on_event: Callable[[Event], object] | None = None,
    ) -> Channel:
        try:
            ws = await ws_connect(
                url,
                max_size=max_frame_bytes,
                open_timeout=timeout,
                ping_interval=None,  # the protocol's own Ping/Pong keeps the connection alive
                compression=None,  # packs are compressed already
                close_timeout=2,
                proxy=None if _loopback(url) else True,
            )
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            raise Disconnected(f"cannot connect to {url}: {exc}") from exc
        return cls(ws, timeout, on_event)

    def start_heartbeat(self, every: float) -> None:
        self._heartbeat = asyncio.create_task(self._heartbeat_loop(max(0.05, every)))

    async def close(self) -> None:
        """Close the connection; whatever waits fails with `Disconnected`."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        with contextlib.suppress(Exception):
            await self._ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        self._fail_all(Disconnected("the connection was closed"))
        if not self.welcome.cancelled():
            self.welcome.exception()  # a handshake cut short is the opener's error, not a leak

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def abandon(self, reason: str) -> None:
        """Give up on this connection at once, without a closing handshake: whatever
        waits fails with `Disconnected` (``reason``), the events end, the socket is cut."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._fail_all(Disconnected(reason))
        self._ws.transport.abort()

    def describe(self) -> str:
        """The connection's state in a few words, for logs and diagnostics."""
        if self._reader.done():
            reader = "cancelled" if self._reader.cancelled() else "ended"
        else:
            reader = "running"
        parts = [f"websocket {self._ws.protocol.state.name}", f"reader {reader}"]
        if self._closed is not None:
            parts.append(f"closed ({self._closed.message})")
        if self._retry_ms is not None:
            parts.append(f"going away (retry in {self._retry_ms} ms)")
        return ", ".join(parts)

    # -- sending --------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    async def send(self, message: ClientMessage) -> None:
        await self.send_frame(encode(message))

    async def send_frame(self, frame: bytes | str) -> None:
        """Send one raw frame (tests use it to send what no client should)."""
        if self._closed is not None:
            raise self._closed
        if self._retry_ms is not None:
            raise Disconnected("the server is going away", retry_ms=self._retry_ms)
        async with self._send_lock:
            try:
                await self._ws.send(frame)
            except websockets.exceptions.ConnectionClosed as exc:
                # websockets raises this only once the connection is gone for good: say so
                # at once rather than when the reader notices.
                error = self._closing(exc)
                self._fail_all(error)
                raise error from exc
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(frame)

    async def request(self, message: Request) -> ServerMessage:
        """Send a request and return its answer; an `Error` answer is raised as `SyncError`."""
        future: asyncio.Future[ServerMessage] = asyncio.get_running_loop().create_future()
        self._pending[message.id] = future
        try:
            await self.send(message)
        except BaseException:
            self._pending.pop(message.id, None)
            if future.done() and not future.cancelled():
                future.exception()  # failed by the reader too: retrieved, so never logged
            raise
        answer = await self.wait(future, message.id)
        if isinstance(answer, Error):
            raise SyncError.from_error(answer)
        return answer  # type: ignore[no-any-return]

    async def ping(self) -> float:
        sent = time.monotonic()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pings[sent] = future
        await self.send(Ping(time=sent))
        return await self.wait(future, None)  # type: ignore[no-any-return]

    async def wait(self, future: asyncio.Future[Any], request_id: int | None) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError as exc:
            if request_id is not None:
                self._pending.pop(request_id, None)
            raise RequestTimeout(f"no answer within {self.timeout:.0f} s", request_id) from exc

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)  # let other readers end too
                return
            yield event

    # -- receiving ------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            async for frame in self._ws:
                self._last_frame = time.monotonic()
                self.stats.frames_received += 1
                self.stats.bytes_received += len(frame)
                data = frame if isinstance(frame, bytes) else frame.encode()
                try:
                    message = decode_server(data)
                except ProtocolError as exc:
                    logger.warning("sync: ignoring a frame the client cannot read: %s", exc)
                    continue
                self._dispatch(message)
        except websockets.exceptions.ConnectionClosed as exc:
            self._fail_all(self._closing(exc))
        except Exception as exc:  # the reader must always fail the waiters on its way out
            logger.exception("sync: the reader stopped")
            self._fail_all(Disconnected(f"the connection failed: {exc}"))
        except BaseException:
            # Cancelled: nothing will read this connection again, so it is over.
            self._fail_all(Disconnected("the connection's reader was stopped"))
            raise
        else:
            self._fail_all(self._closing(None))

    def _closing(self, exc: websockets.exceptions.ConnectionClosed | None) -> Disconnected:
        if self._closed is not None:
            return self._closed
        reason = ""
        if exc is not None and exc.rcvd is not None:
            reason = f" ({exc.rcvd.code} {exc.rcvd.reason})".replace(" )", ")")
        return Disconnected(f"the server closed the connection{reason}", retry_ms=self._retry_ms)

    def _dispatch(self, message: ServerMessage) -> None:
        match message:
            case Welcome():
                if not self.welcome.done():
                    self.welcome.set_result(message)
            case Refs() | PushResult() | FetchResult():
                self._resolve(message.id, message)
            case Error(id=request_id) if request_id is not None and request_id in self._pending:
                self._resolve(request_id, message)
            case Error() if not self.welcome.done():
                self.welcome.set_exception(SyncError.from_error(message))
            case Pong(time=sent):
                future = self._pings.pop(sent, None)
                if future is not None and not future.done():
                    future.set_result(time.monotonic() - sent)
            case GoingAway(retry_ms=retry_ms):
                # Answers to requests in flight still come; new requests belong elsewhere.
                self._retry_ms = retry_ms
                self._event(message)
            case Notice() | ResyncRequired() | Error():
                self._event(message)

    def _resolve(self, request_id: int, message: ServerMessage) -> None:
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(message)

    def _event(self, event: Event) -> None:
        self._events.put_nowait(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                logger.exception("sync: the event callback failed")

    def _fail_all(self, error: Disconnected) -> None:
        if self._closed is None:
            self._closed = error
        waiting: list[asyncio.Future[Any]] = [*self._pending.values(), *self._pings.values()]
        waiting.append(self.welcome)
        self._pending.clear()
        self._pings.clear()
        for future in waiting:
            if not future.done():
                future.set_exception(self._closed)
        self._events.put_nowait(None)

    async def _heartbeat_loop(self, every: float) -> None:
        while self._closed is None:
            await asyncio.sleep(every)
            if time.monotonic() - self._last_frame > 3 * every:
                logger.warning("sync: nothing heard for %.1f s; dropping the connection", 3 * every)
                self._closed = Disconnected(f"nothing heard from the server for {3 * every:.1f} s")
                self._ws.transport.abort()  # a polite close would wait for the silent server
                return
            with contextlib.suppress(SyncError):
                await self.send(Ping(time=time.monotonic()))
