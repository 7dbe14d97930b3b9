"""A minimal in-process server speaking the sync protocol, for the client's unit tests.

It keeps each repository as a bare git repository on disk and does what the protocol
says and no more: compare-and-swap pushes answered ``ok`` or ``stale``, fetches of the
difference as a thin pack, notices to subscribers, pongs. No roles, no database: the real
server (``gitwrite-server``) is what tests/integration drives. Knobs let tests make it
misbehave: answer requests in reverse order, stay silent, close, or say it is going away.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo
from websockets.asyncio.server import Server, ServerConnection, serve

from gitwrite.packs import apply_pack, build_push_pack
from gitwrite.protocol import (
    PROTOCOL_VERSION,
    ZERO_ID,
    Auth,
    Error,
    ErrorCode,
    Fetch,
    FetchResult,
    GoingAway,
    Hello,
    ListRefs,
    Notice,
    Ping,
    Pong,
    ProtocolError,
    Push,
    PushResult,
    Refs,
    ServerMessage,
    Subscribe,
    Welcome,
    decode_client,
    encode,
)

TOKEN = "good-token"


@dataclass
class MiniServer:
    root: Path
    heartbeat_seconds: int = 20
    silent: bool = False  # read requests, answer nothing
    reverse: int = 0  # hold this many requests, then answer them newest first
    pushes: int = 0
    server: Server | None = None
    events: dict[str, list[Notice]] = field(default_factory=dict)
    followers: dict[str, set[ServerConnection]] = field(default_factory=dict)
    _held: list[tuple[ServerConnection, ServerMessage]] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = next(iter(self.server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}/ws"

    def repo(self, name: str) -> Repo:
        path = self.root / name
        if not path.exists():
            Repo.init_bare(str(path), mkdir=True)
        return Repo(str(path))

    def refs(self, name: str) -> dict[str, str]:
        repo = self.repo(name)
        return {k.decode(): v.decode() for k, v in repo.get_refs().items() if k != b"HEAD" and v}

    async def send(self, ws: ServerConnection, message: ServerMessage) -> None:
        with contextlib.suppress(Exception):
            await ws.send(encode(message))

    async def answer(self, ws: ServerConnection, message: ServerMessage) -> None:
        if self.silent:
            return
        if self.reverse:
            self._held.append((ws, message))
            if len(self._held) == self.reverse:
                held, self._held = self._held, []
                for conn, msg in reversed(held):
                    await self.send(conn, msg)
            return
        await self.send(ws, message)

    async def going_away(self, retry_ms: int = 250) -> None:
        for conns in self.followers.values():
            for ws in conns:
                await self.send(ws, GoingAway(retry_ms=retry_ms))

    async def handler(self, ws: ServerConnection) -> None:
        try:
            auth = decode_client(await ws.recv())  # type: ignore[arg-type]
            hello = decode_client(await ws.recv())  # type: ignore[arg-type]
        except ProtocolError as exc:
            await self.send(ws, Error(code=exc.code, message=str(exc)))
            return
        if not isinstance(auth, Auth) or auth.token != TOKEN:
            await self.send(ws, Error(code=ErrorCode.UNAUTHENTICATED, message="bad token"))
            await ws.close(4401, "unauthenticated")
            return
        assert isinstance(hello, Hello)
        await self.send(ws, Welcome(PROTOCOL_VERSION, "ann@example.com", self.heartbeat_seconds))
        await self.follow(ws, hello.last_seq)
        async for frame in ws:
            try:
                message = decode_client(frame)  # type: ignore[arg-type]
            except ProtocolError as exc:
                await self.send(ws, Error(code=exc.code, message=str(exc)))
                continue
            await self.handle(ws, message)
        for conns in self.followers.values():
            conns.discard(ws)

    async def follow(self, ws: ServerConnection, repos: dict[str, int]) -> None:
        for name, last in repos.items():
            self.followers.setdefault(name, set()).add(ws)
            for notice in self.events.get(name, []):
                if notice.seq > last:
                    await self.send(ws, notice)

    async def handle(self, ws: ServerConnection, message: object) -> None:
        match message:
            case Ping(time=t):
                await self.send(ws, Pong(time=t))
            case Subscribe(repos=repos):
                await self.follow(ws, repos)
            case ListRefs(id=rid, repo=name):
                await self.answer(ws, Refs(rid, name, self.refs(name), self.seq(name)))
            case Fetch():
                await self.answer(ws, self.fetch(message))
            case Push():
                await self.answer(ws, await self.push(message))

    def seq(self, name: str) -> int:
        return len(self.events.get(name, []))

    def fetch(self, message: Fetch) -> FetchResult | Error:
        refs = self.refs(message.repo)
        if message.wants:
            unknown = [w for w in message.wants if w not in refs]
            if unknown:
                return Error(ErrorCode.NOT_FOUND, f"no ref named {unknown[0]!r}", message.id)
            refs = {k: v for k, v in refs.items() if k in message.wants}
        repo = self.repo(message.repo)
        haves = [ObjectID(h.encode()) for h in message.haves]
        news = [ObjectID(v.encode()) for v in refs.values()]
        pack = build_push_pack(repo, news, haves)
        return FetchResult(message.id, refs, self.seq(message.repo), pack)

    async def push(self, message: Push) -> ServerMessage:
        self.pushes += 1
        repo = self.repo(message.repo)
        current = self.refs(message.repo)
        stale = {u.ref: current.get(u.ref, ZERO_ID) for u in message.updates}
        if any(stale[u.ref] != u.old for u in message.updates):
            return PushResult(message.id, "stale", self.seq(message.repo), stale)
        try:
            apply_pack(repo, message.pack)
        except Exception as exc:
            return Error(code=ErrorCode.INVALID_PACK, message=str(exc), id=message.id)
        notices = self.events.setdefault(message.repo, [])
        for u in message.updates:
            repo.refs[Ref(u.ref.encode())] = ObjectID(u.new.encode())
            notices.append(Notice(message.repo, len(notices) + 1, u.ref, u.old, u.new))
        for ws in list(self.followers.get(message.repo, ())):
            await self.send(ws, notices[-1])
        return PushResult(message.id, "ok", self.seq(message.repo))


@contextlib.asynccontextmanager
async def running(root: Path, **knobs: object) -> AsyncIterator[MiniServer]:
    root.mkdir(parents=True, exist_ok=True)
    mini = MiniServer(root, **knobs)  # type: ignore[arg-type]
    async with serve(mini.handler, "127.0.0.1", 0, max_size=None) as server:
        mini.server = server
        yield mini
