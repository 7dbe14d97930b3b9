"""The sync client: one WebSocket to a GitWrite server, speaking `gitwrite.protocol`.

::

    client = await SyncClient.connect("ws://127.0.0.1:8765/ws", access_token)
    refs = await client.list_refs("novel")                    # Refs(refs, seq)
    result = await client.push("novel", repo, ["refs/heads/main"])   # ok, or stale
    fetched = await client.fetch("novel", repo)   # into refs/remotes/origin/... only
    outcome = await client.sync_branch(project, "novel")      # fetch, merge, push
    await client.subscribe({"novel": fetched.seq})
    async for event in client.events(): ...       # Notice, ResyncRequired, GoingAway

Pushes send a thin pack (`gitwrite.packs`) against the server's refs as last fetched (the
remote-tracking refs of `gitwrite.remotes`); fetches send those and the local branches as
haves, store the pack, check that every fetched ref's history is complete and only then
move the remote-tracking refs. The writer's branches move only in `sync_branch`. Packs
are built and stored in a worker thread, so heartbeats keep flowing meanwhile.

A connection is not re-opened automatically: when it ends, every waiting request fails
with `Disconnected`, and the caller connects again with ``last_seq`` (see
`SyncClient.last_seq`) so the server replays what was missed.

Errors::

    GitWriteError (gitwrite.errors)
    └── SyncError              code: an `ErrorCode` value from the server, or one below
        ├── Disconnected           "disconnected": the connection ended or never opened
        └── RequestTimeout         "timeout": no answer in time
        (and code "stale" when `sync_branch` lost every race it ran)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dulwich.objects import ObjectID

from gitwrite import remotes
from gitwrite._channel import (
    Channel,
    Disconnected,
    Event,
    RequestTimeout,
    SyncError,
    SyncStats,
)
from gitwrite.packs import (
    IncompleteHistory,
    MissingBases,
    PackError,
    apply_pack,
    build_push_pack,
)
from gitwrite.protocol import (
    PROTOCOL_VERSION,
    ZERO_ID,
    Auth,
    ErrorCode,
    Fetch,
    FetchResult,
    Hello,
    ListRefs,
    Notice,
    Push,
    PushResult,
    Refs,
    RefUpdate,
    ServerMessage,
    Subscribe,
    Unsubscribe,
    Welcome,
)

if TYPE_CHECKING:
    from dulwich.repo import Repo

    from gitwrite.project import Project
    from gitwrite.syncing import SyncOutcome

__all__ = [
    "Disconnected",
    "Event",
    "Fetched",
    "RequestTimeout",
    "SyncClient",
    "SyncError",
    "SyncStats",
]

DEFAULT_MAX_FRAME = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch brought.

    Attributes:
        refs: The server's refs (name → id), all of them unless ``wants`` named some.
        seq: The repository's event sequence they reflect.
        pack_bytes: Size of the pack received.
        objects: Ids of the objects stored.
    """

    refs: dict[str, str]
    seq: int
    pack_bytes: int
    objects: frozenset[str]


class SyncClient:
    """One authenticated connection to a server. Make it with `SyncClient.connect`.

    Attributes:
        welcome: The server's `Welcome` (user, heartbeat, limits).
        remote: The name remote-tracking refs are kept under (``origin``).
        last_seq: Repository → newest event sequence heard of (notices, pushes, fetches):
            what to pass as ``last_seq`` when connecting again.
        stats: Frames and bytes moved.
    """

    def __init__(self, channel: Channel, welcome: Welcome, remote: str) -> None:
        self._channel = channel
        self.welcome = welcome
        self.remote = remote
        self.last_seq: dict[str, int] = {}

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str,
        *,
        client_name: str = "gitwrite",
        last_seq: Mapping[str, int] | None = None,
        timeout: float = 60.0,
        on_event: Callable[[Event], object] | None = None,
        remote: str = remotes.DEFAULT_REMOTE,
        max_frame_bytes: int = DEFAULT_MAX_FRAME,
        heartbeat_seconds: float | None = None,
    ) -> SyncClient:
        """Open the socket, authenticate and say hello.

        Args:
            url: The server's WebSocket endpoint (``ws://host:port/ws``).
            token: An access token from ``POST /auth/login``.
            last_seq: Repository → last event seen: the server replays newer ones.
            timeout: Seconds to wait for any one answer.
            on_event: Called in the event loop with every `Notice`, `ResyncRequired`,
                `GoingAway` and request-less `Error` (they also go to `events`).
            remote: The name remote-tracking refs are kept under.
            max_frame_bytes: The largest frame accepted from the server.
            heartbeat_seconds: Ping this often (default: as the server's `Welcome` asks).

        Raises:
            Disconnected: the server could not be reached.
            SyncError: the server refused the token (``unauthenticated``) or the version.
        """
        remotes.check_remote_name(remote)
        heard: dict[str, int] = dict(last_seq or {})

        def handle(event: Event) -> object:
            if isinstance(event, Notice):
                heard[event.repo] = max(event.seq, heard.get(event.repo, 0))
            return on_event(event) if on_event is not None else None

        channel = await Channel.open(
            url, timeout=timeout, max_frame_bytes=max_frame_bytes, on_event=handle
        )
        try:
            await channel.send(Auth(token=token))
            hello = Hello(
                version=PROTOCOL_VERSION, client=client_name, last_seq=dict(last_seq or {})
            )
            await channel.send(hello)
            welcome: Welcome = await channel.wait(channel.welcome, None)
        except BaseException:
            await channel.close()
            raise
        client = cls(channel, welcome, remote)
        client.last_seq = heard
        channel.start_heartbeat(heartbeat_seconds or float(welcome.heartbeat_seconds))
        return client

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._channel.closed

    def abandon(self, reason: str) -> None:
        """Drop the connection at once (no closing handshake): requests waiting fail
        with `Disconnected`, `events` ends. For a connection that cannot be used any more
        but has not noticed (`close` is the polite way)."""
        self._channel.abandon(reason)

    def describe(self) -> str:
        """The connection's state in a few words (websocket state, reader, closed or
        going away), for logs and diagnostics."""
        return self._channel.describe()

    @property
    def stats(self) -> SyncStats:
        return self._channel.stats

    # -- low level ------------------------------------------------------------------

    def next_id(self) -> int:
        return self._channel.next_id()

    async def request(self, message: ListRefs | Push | Fetch) -> ServerMessage:
        """Send any request (its ``id`` from `next_id`) and return the answer.

        Raises:
            SyncError: the server answered with an `Error`.
        """
        return await self._channel.request(message)

    async def send_frame(self, frame: bytes | str) -> None:
        """Send one raw frame, whatever it holds (for tests of the server)."""
        await self._channel.send_frame(frame)

    async def ping(self) -> float:
        """Seconds a `Ping` took to come back."""
        return await self._channel.ping()

    def _heard(self, repo: str, seq: int) -> None:
        self.last_seq[repo] = max(seq, self.last_seq.get(repo, 0))

    # -- refs, push, fetch ----------------------------------------------------------

    async def list_refs(self, repo: str) -> Refs:
        """Every ref of ``repo`` on the server, with its current event sequence."""
        answer = await self.request(ListRefs(id=self.next_id(), repo=repo))
        assert isinstance(answer, Refs)
        return answer

    async def push(
        self,
        repo: str,
        local: Repo,
        refs: Sequence[str] | Mapping[str, str],
        *,
        force: bool = False,
        old: Mapping[str, str] | None = None,
    ) -> PushResult:
        """Push local refs to the server with a thin pack of what it lacks.

        Args:
            repo: The repository's name on the server.
            local: The local repository.
            refs: Full ref names, each pushed to the same name (``["refs/heads/main"]``),
                or local name → server name.
            force: Move refs even when it is not a fast-forward (owners and editors).
            old: Server ref → the id it must still have (default: as last fetched, or
                "must not exist" when never fetched). A mismatch answers ``stale``.

        Returns:
            ``ok`` (the remote-tracking refs now match), or ``stale`` with the server's
            current ids in ``refs``: fetch, merge and push again.

        Raises:
            SyncError: refused (``forbidden``, ``not_fast_forward``, ``invalid_pack``...),
                or a local ref that does not exist (``invalid_ref``).
        """
        mapping = dict(refs) if isinstance(refs, Mapping) else {r: r for r in refs}
        known = remotes.tracked(local, self.remote)
        news = remotes.local_ids(local, mapping)
        if set(mapping) - set(news):
            absent = ", ".join(sorted(set(mapping) - set(news)))
            raise SyncError(ErrorCode.INVALID_REF, f"no such local ref: {absent}")
        expected = {name: sha.decode() for name, sha in known.items()} | dict(old or {})
        updates = [
            RefUpdate(server, expected.get(server, ZERO_ID), news[name].decode())
            for name, server in mapping.items()
        ]
        bases = [*known.values(), *(ObjectID(u.old.encode()) for u in updates if u.old != ZERO_ID)]
        pack = await asyncio.to_thread(
            build_push_pack, local, list(news.values()), list(dict.fromkeys(bases))
        )
        self.stats.last_push_pack = len(pack)
        message = Push(id=self.next_id(), repo=repo, updates=updates, pack=pack, force=force)
        result = await self.request(message)
        assert isinstance(result, PushResult)
        if result.status == "ok":
            self._heard(repo, result.seq)
            pushed = {u.ref: u.new for u in updates}
            remotes.record(local, self.remote, pushed, complete=False, source=f"push to {repo}")
        return result

    async def fetch(self, repo: str, local: Repo, *, wants: Iterable[str] = ()) -> Fetched:
        """Bring the server's new objects into ``local`` and mirror its refs there.

        Args:
            repo: The repository's name on the server.
            local: The local repository.
            wants: Ref names to fetch (default: every ref; then mirrors of refs the
                server no longer has are deleted).

        Raises:
            SyncError: refused by the server, or ``invalid_pack`` / ``missing_objects``
                when what arrived cannot be stored or leaves a history incomplete (no
                remote-tracking ref moves then).
        """
        wanted = list(wants)
        haves = remotes.haves(local, self.remote)
        answer = await self.request(Fetch(id=self.next_id(), repo=repo, wants=wanted, haves=haves))
        assert isinstance(answer, FetchResult)
        self.stats.last_fetch_pack = len(answer.pack)
        try:
            stored = await asyncio.to_thread(apply_pack, local, answer.pack, complete=True)
        except (MissingBases, IncompleteHistory) as exc:
            raise SyncError(ErrorCode.MISSING_OBJECTS, str(exc)) from exc
        except PackError as exc:
            raise SyncError(ErrorCode.INVALID_PACK, str(exc)) from exc
        store = local.object_store
        absent = [
            t for t in answer.refs.values() if t != ZERO_ID and ObjectID(t.encode()) not in store
        ]
        if absent:
            shown = ", ".join(sorted(absent)[:3])
            raise SyncError(ErrorCode.MISSING_OBJECTS, f"the server's refs point at {shown}")
        remotes.record(local, self.remote, answer.refs, complete=not wanted, source=repo)
        self._heard(repo, answer.seq)
        return Fetched(
            refs=dict(answer.refs),
            seq=answer.seq,
            pack_bytes=len(answer.pack),
            objects=frozenset(s.decode() for s in stored),
        )

    # -- live updates ---------------------------------------------------------------

    async def subscribe(self, repos: Mapping[str, int] | Iterable[str]) -> None:
        """Follow repositories: the server replays events after each last sequence (for a
        plain list, the newest this client heard of) and then sends new ones."""
        wanted = (
            dict(repos)
            if isinstance(repos, Mapping)
            else {r: self.last_seq.get(r, 0) for r in repos}
        )
        await self._channel.send(Subscribe(repos=wanted))

    async def unsubscribe(self, repos: Iterable[str]) -> None:
        await self._channel.send(Unsubscribe(repos=list(repos)))

    async def events(self) -> AsyncIterator[Event]:
        """Notices, resync requests, going-away and request-less errors, in the order they
        came; ends when the connection does."""
        async for event in self._channel.events():
            yield event

    async def sync_branch(self, project: Project, repo: str, **options: Any) -> SyncOutcome:
        """Fetch, merge where diverged, push, retrying lost races: see
        `gitwrite.syncing.sync_branch`."""
        from gitwrite.syncing import sync_branch

        return await sync_branch(self, project, repo, **options)
