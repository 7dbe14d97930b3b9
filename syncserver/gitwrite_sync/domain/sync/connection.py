"""One client's WebSocket session: the protocol's state machine, its queue and its follows.

States: the first frame must be `Auth` with a valid token (anything else: ``Error
unauthenticated`` and the socket closes), the second `Hello` with our protocol version
(else ``unsupported_version`` and close), both within three heartbeats; `Welcome`
answers with the limits. Then any
request, in order: `ListRefs`, `Push`, `Fetch` (answered with `Refs`, `PushResult`,
`FetchResult`, or an `Error` carrying the request id and a stable code, having changed
nothing), `Subscribe` / `Unsubscribe` (replay from the event log, then live notices) and
`Ping` (`Pong`). A frame that is not a message (or too large) gets an `Error` and the
session goes on.

Everything sent goes through one `Outbox` drained by a writer task, bounded in frames
(``client_queue_messages``) and bytes. Answers wait for room (a slow client slows only
itself); live notices never wait: when the outbox is full they are dropped, and once it
has drained the client gets a `ResyncRequired` per repository it missed notices of, so it
compares heads instead. Memory per connection is bounded by the outbox and the largest
answer; a client that leaves releases everything. A heartbeat (`Pong`) goes out every
``heartbeat_seconds``, and each beat re-checks that the user may still read what they
follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from gitwrite.protocol import (
    PROTOCOL_VERSION,
    Auth,
    ClientMessage,
    Error,
    ErrorCode,
    Fetch,
    FetchResult,
    Hello,
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
    Subscribe,
    Unsubscribe,
    Welcome,
    decode_client,
    encode,
)
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.sync.outbox import Outbox, OutboxClosed
from gitwrite_sync.domain.sync.service import SyncService
from gitwrite_sync.errors import ServerError, TooLarge
from gitwrite_sync.settings import Settings
from gitwrite_sync.storage import RefChange

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # authentication failed, or the handshake was not followed
CLOSE_NORMAL = 1000


class Socket(Protocol):
    """What a session needs of a WebSocket (Litestar's, or a test double)."""

    receive: Callable[..., Awaitable[Any]]

    async def send_bytes(self, data: bytes) -> None: ...
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


Authenticator = Callable[[str], Awaitable[User]]


class _Closed(Exception):
    """The client went away."""


@dataclass(slots=True)
class _Missed:
    first: int
    last: int


def error_message(exc: BaseException, request_id: int | None = None) -> Error:
    """The protocol `Error` for an exception: the ONE mapping for the socket."""
    if isinstance(exc, ServerError):
        details = {k: str(v) for k, v in exc.details.items()}
        return Error(code=exc.code, message=exc.message, id=request_id, details=details)
    if isinstance(exc, ProtocolError):
        return Error(code=exc.code.value, message=str(exc), id=request_id)
    log.error("sync: unexpected error", exc_info=exc)
    return Error(code=ErrorCode.INTERNAL.value, message="internal server error", id=request_id)


class SyncConnection:
    """Serves one accepted WebSocket until the client leaves (see the module docstring)."""

    def __init__(
        self,
        socket: Socket,
        service: SyncService,
        settings: Settings,
        authenticate: Authenticator,
    ) -> None:
        self.socket = socket
        self.service = service
        self.settings = settings
        self.authenticate = authenticate
        self.user: User | None = None
        self.outbox = Outbox(
            settings.client_queue_messages, max(settings.max_frame_bytes, 8 * 1024 * 1024)
        )
        self.followed: dict[str, Callable[[Notice], None]] = {}
        self.last_seq: dict[str, int] = {}
        self.missed: dict[str, _Missed] = {}
        self.replaying: dict[str, list[Notice]] = {}
        self.dropped = 0
        self._writer: asyncio.Task[None] | None = None

    # -- running -------------------------------------------------------------------

    async def run(self) -> None:
        writer = self._writer = asyncio.create_task(self._write_loop(), name="sync-writer")
        beats: asyncio.Task[None] | None = None
        try:
            if await self._handshake():
                beats = asyncio.create_task(self._heartbeat(), name="sync-heartbeat")
                while True:
                    await self._handle(await self._frame())
        except (_Closed, OutboxClosed):
            pass
        finally:
            for repo, listener in self.followed.items():
                self.service.fanout.unsubscribe(repo, listener)
            self.followed.clear()
            if beats is not None:
                beats.cancel()
            await self._finish_writing(writer)

    async def _finish_writing(self, writer: asyncio.Task[None]) -> None:
        """Let the writer send what is queued (briefly), then stop it."""
        self.outbox.close()
        try:
            await asyncio.wait_for(asyncio.shield(writer), timeout=5)
        except (TimeoutError, Exception):
            writer.cancel()

    async def _frame(self) -> bytes | str:
        event = await self.socket.receive()
        kind = event.get("type")
        if kind == "websocket.receive":
            data = event.get("bytes")
            return data if data is not None else event.get("text") or ""
        self.outbox.abandon()
        raise _Closed

    # -- sending -------------------------------------------------------------------

    async def send(self, message: ServerMessage) -> None:
        """Queue an answer (waits for room: backpressure on this client only)."""
        await self.outbox.put(encode(message))

    async def _close(self, code: int, reason: str) -> NoReturn:
        """Send what is queued, then close the socket and end the session."""
        if self._writer is not None:
            await self._finish_writing(self._writer)
        with contextlib.suppress(Exception):
            await self.socket.close(code, reason)
        raise _Closed

    async def _write_loop(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None:
                return
            try:
                await self.socket.send_bytes(frame)
            except Exception:  # the client is gone: nothing queued will ever be read
                self.outbox.abandon()
                return
            if self.missed and len(self.outbox) <= self.outbox.max_messages // 2:
                self._send_resync_hints()

    def _send_resync_hints(self) -> None:
        for repo, missed in list(self.missed.items()):
            hint = ResyncRequired(repo=repo, oldest_seq=missed.first, current_seq=missed.last)
            if not self.outbox.offer(encode(hint)):
                return
            del self.missed[repo]

    def _on_notice(self, notice: Notice) -> None:
        """A live notice from the fanout: queue it, or drop it and remember the gap."""
        pending = self.replaying.get(notice.repo)
        if pending is not None:
            pending.append(notice)  # sent after the replay, in order
            return
        if notice.seq <= self.last_seq.get(notice.repo, 0):
            return  # already replayed or seen
        self.last_seq[notice.repo] = notice.seq
        missed = self.missed.get(notice.repo)
        if missed is not None:
            missed.last = notice.seq
            self.dropped += 1
            return
        if not self.outbox.offer(encode(notice)):
            self.missed[notice.repo] = _Missed(notice.seq, notice.seq)
            self.dropped += 1

    async def _heartbeat(self) -> None:
        every = max(0.05, float(self.settings.heartbeat_seconds))
        while True:
            await asyncio.sleep(every)
            self.outbox.offer(encode(Pong(time=time.time())))
            await self._recheck_access()

    async def _recheck_access(self) -> None:
        assert self.user is not None
        for repo in list(self.followed):
            try:
                await self.service.readable(self.user, repo)
            except ServerError as exc:
                self._unfollow(repo)
                self.outbox.offer(encode(error_message(exc)))
            except Exception:  # the database is briefly away: check again next beat
                log.warning("sync: could not re-check access to %s", repo, exc_info=True)

    # -- handshake -----------------------------------------------------------------

    async def _handshake_frame(self) -> bytes | str:
        """The next frame of the handshake, which must come within three heartbeats."""
        try:
            return await asyncio.wait_for(self._frame(), 3 * self.settings.heartbeat_seconds)
        except TimeoutError:
            await self.send(_error(ErrorCode.UNAUTHENTICATED, "no auth and hello in time"))
            await self._close(CLOSE_POLICY, "handshake timed out")

    async def _handshake(self) -> bool:
        first = await self._handshake_frame()
        try:
            message = self._decode(first)
        except (ProtocolError, TooLarge):
            message = None
        if not isinstance(message, Auth):
            await self.send(_error(ErrorCode.UNAUTHENTICATED, "send auth with a token first"))
            await self._close(CLOSE_POLICY, "authenticate first")
        try:
            self.user = await self.authenticate(message.token)
        except ServerError as exc:
            await self.send(error_message(exc))
            await self._close(CLOSE_POLICY, "authentication failed")
        try:
            hello = self._decode(await self._handshake_frame())
        except (ProtocolError, TooLarge) as exc:
            await self.send(error_message(exc))
            await self._close(CLOSE_POLICY, "expected hello")
        if not isinstance(hello, Hello):
            await self.send(_error(ErrorCode.MALFORMED, "say hello after auth"))
            await self._close(CLOSE_POLICY, "expected hello")
        if hello.version != PROTOCOL_VERSION:
            await self.send(
                _error(
                    ErrorCode.UNSUPPORTED_VERSION,
                    f"this server speaks protocol version {PROTOCOL_VERSION}, not {hello.version}",
                    supported=str(PROTOCOL_VERSION),
                )
            )
            await self._close(CLOSE_POLICY, "unsupported protocol version")
        await self.send(
            Welcome(
                version=PROTOCOL_VERSION,
                user=self.user.email,
                heartbeat_seconds=self.settings.heartbeat_seconds,
                limits=self.limits(),
            )
        )
        if hello.last_seq:
            await self._subscribe(hello.last_seq)
        return True

    def limits(self) -> dict[str, int]:
        s = self.settings
        return {
            "max_frame_bytes": s.max_frame_bytes,
            "max_pack_bytes": s.max_pack_bytes,
            "max_objects_per_push": s.max_objects_per_push,
            "max_object_bytes": s.max_object_bytes,
            "client_queue_messages": s.client_queue_messages,
        }

    def _decode(self, frame: bytes | str) -> ClientMessage:
        if isinstance(frame, str):
            raise ProtocolError(ErrorCode.MALFORMED, "frames must be binary MessagePack")
        if len(frame) > self.settings.max_frame_bytes:
            raise TooLarge(
                f"the frame is {len(frame)} bytes, over the limit of "
                f"{self.settings.max_frame_bytes}",
                limit=str(self.settings.max_frame_bytes),
            )
        return decode_client(frame)

    # -- requests ------------------------------------------------------------------

    async def _handle(self, frame: bytes | str) -> None:
        try:
            message = self._decode(frame)
        except (ProtocolError, TooLarge) as exc:
            await self.send(error_message(exc))
            return
        request_id = getattr(message, "id", None)
        try:
            answer = await self._answer(message)
        except OutboxClosed:
            raise  # the client left mid-request: nothing to answer
        except Exception as exc:
            answer = error_message(exc, request_id)
        if answer is not None:
            await self.send(answer)

    async def _answer(self, message: ClientMessage) -> ServerMessage | None:
        user = self.user
        assert user is not None
        service = self.service
        match message:
            case Ping(time=sent):
                return Pong(time=sent)
            case ListRefs(id=request_id, repo=repo):
                refs, seq = await service.list_refs(user, repo)
                return Refs(id=request_id, repo=repo, refs=refs, seq=seq)
            case Push(id=request_id, repo=repo, updates=updates, pack=pack, force=force):
                changes = [RefChange(u.ref, u.old, u.new) for u in updates]
                pushed = await service.push(user, repo, changes, pack, force=force)
                return PushResult(request_id, pushed.status, pushed.seq, pushed.refs)
            case Fetch(id=request_id, repo=repo, wants=wants, haves=haves):
                fetched = await service.fetch(user, repo, wants, haves)
                return FetchResult(
                    id=request_id, refs=fetched.refs, seq=fetched.seq, pack=fetched.pack.data
                )
            case Subscribe(repos=repos):
                await self._subscribe(repos)
                return None
            case Unsubscribe(repos=repos):
                for repo in repos:
                    self._unfollow(repo)
                return None
            case Auth() | Hello():
                return _error(ErrorCode.MALFORMED, "already authenticated and greeted")
        return _error(ErrorCode.MALFORMED, f"unexpected message {type(message).__name__}")

    async def _subscribe(self, repos: dict[str, int]) -> None:
        """Follow each repository: listen first, then replay the log after its sequence,
        so no event falls between the two (one seen twice is skipped by sequence)."""
        assert self.user is not None
        limit = max(1, self.outbox.max_messages // 2)
        for repo, after in repos.items():
            try:
                await self.service.readable(self.user, repo)
            except ServerError as exc:
                await self.send(error_message(exc))
                continue
            self.replaying[repo] = []
            try:
                if repo not in self.followed:
                    listener = self._on_notice
                    self.followed[repo] = listener
                    self.service.fanout.subscribe(repo, listener)
                replayed = await self.service.replay(self.user, repo, max(0, after), limit)
            finally:
                pending = self.replaying.pop(repo)
            self.last_seq[repo] = max(0, after)
            if replayed.resync:
                self.last_seq[repo] = replayed.current_seq
                hint = ResyncRequired(repo, replayed.oldest_seq, replayed.current_seq)
                await self.send(hint)
            for event in replayed.events:
                self.last_seq[repo] = event.seq
                await self.send(Notice(repo, event.seq, event.ref, event.old, event.new))
            self.last_seq[repo] = max(self.last_seq[repo], replayed.current_seq)
            for notice in pending:
                self._on_notice(notice)

    def _unfollow(self, repo: str) -> None:
        listener = self.followed.pop(repo, None)
        if listener is not None:
            self.service.fanout.unsubscribe(repo, listener)
        self.missed.pop(repo, None)


def _error(code: ErrorCode, message: str, **details: str) -> Error:
    return Error(code=code.value, message=message, details=details)
