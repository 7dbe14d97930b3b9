"""The ``/ws`` endpoint of the real app (Litestar's test client), with raw frames, on
SQLite and PostgreSQL: the handshake, bad frames, requests, subscriptions and replay."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
import pytest
from dulwich.repo import Repo
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from gitwrite.packs import apply_pack, build_push_pack
from gitwrite.protocol import (
    ZERO_ID,
    Auth,
    ClientMessage,
    Error,
    Fetch,
    FetchResult,
    Hello,
    ListRefs,
    Notice,
    Ping,
    Pong,
    Push,
    PushResult,
    Refs,
    RefUpdate,
    ResyncRequired,
    ServerMessage,
    Subscribe,
    Unsubscribe,
    Welcome,
    decode_server,
    encode,
)
from gitwrite_sync.settings import Settings
from tests.integration.server.conftest import Account, Api, client_for
from tests.integration.storage.conftest import first_parent_line, head, novel_project

MAIN = "refs/heads/main"


class Session:
    """One raw WebSocket session."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws

    def send(self, message: ClientMessage) -> None:
        self.ws.send_bytes(encode(message))

    def receive(self, timeout: float = 10) -> ServerMessage:
        return decode_server(self.ws.receive_bytes(timeout=timeout))

    def request(self, message: ClientMessage) -> ServerMessage:
        self.send(message)
        return self.receive()

    def closed(self, timeout: float = 10) -> int:
        """The close code, once the server hangs up (what it sent before is skipped)."""
        with pytest.raises(WebSocketDisconnect) as caught:
            while True:
                self.ws.receive(timeout=timeout)
        return caught.value.code


@contextlib.contextmanager
def raw(client: TestClient[Any]) -> Iterator[Session]:
    with client.websocket_connect("/ws") as ws:
        yield Session(ws)


@contextlib.contextmanager
def signed_in(client: TestClient[Any], who: Account, **hello: Any) -> Iterator[Session]:
    with raw(client) as session:
        session.send(Auth(token=who.access_token))
        session.send(Hello(version=1, client="tests", **hello))
        welcome = session.receive()
        assert isinstance(welcome, Welcome) and welcome.user == who.email
        yield session


def error_of(message: ServerMessage) -> tuple[str, int | None]:
    assert isinstance(message, Error), message
    assert message.message.strip()
    return message.code, message.id


@pytest.fixture
def owner(api: Api) -> Account:
    person = api.account("owner")
    api.repository(person, "novel")
    return person


# -- the handshake -------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        encode(Hello(version=1)),
        encode(Ping(time=1.0)),
        b"\xc1 not msgpack",
        msgspec.msgpack.encode({"type": "explode"}),
    ],
)
def test_anything_but_auth_first_is_refused_and_closed(api: Api, first: bytes) -> None:
    with raw(api.client) as session:
        session.ws.send_bytes(first)
        assert error_of(session.receive()) == ("unauthenticated", None)
        assert session.closed() == 1008


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.forged"])
def test_a_bad_token_is_refused_and_closed(api: Api, token: str) -> None:
    with raw(api.client) as session:
        session.send(Auth(token=token))
        assert error_of(session.receive())[0] == "unauthenticated"
        assert session.closed() == 1008


def test_another_protocol_version_is_refused(api: Api, owner: Account) -> None:
    with raw(api.client) as session:
        session.send(Auth(token=owner.access_token))
        session.send(Hello(version=99))
        assert error_of(session.receive())[0] == "unsupported_version"
        assert session.closed() == 1008


def test_welcome_tells_the_limits(api: Api, owner: Account, settings: Settings) -> None:
    with raw(api.client) as session:
        session.send(Auth(token=owner.access_token))
        session.send(Hello(version=1))
        welcome = session.receive()
        assert isinstance(welcome, Welcome)
        assert welcome.heartbeat_seconds == settings.heartbeat_seconds
        assert welcome.limits["max_pack_bytes"] == settings.max_pack_bytes
        assert welcome.limits["max_frame_bytes"] == settings.max_frame_bytes


# -- bad frames after the handshake: an error, and the session goes on ----------------


@pytest.mark.parametrize(
    ("frame", "code", "request_id"),
    [
        (b"\xc1\xc1\xc1", "malformed", None),
        ("a text frame", "malformed", None),
        (msgspec.msgpack.encode({"type": "explode", "id": 3}), "malformed", None),
        (msgspec.msgpack.encode({"type": "list_refs", "id": "x", "repo": 5}), "malformed", None),
        (encode(ListRefs(id=4, repo="no-such-novel")), "not_found", 4),
        (encode(Auth(token="again")), "malformed", None),
        (
            encode(Push(id=5, repo="novel", updates=[RefUpdate(MAIN, ZERO_ID, "ab" * 20)])),
            "missing_objects",
            5,
        ),
        (
            encode(Push(id=6, repo="novel", updates=[RefUpdate("HEAD", ZERO_ID, "ab" * 20)])),
            "invalid_ref",
            6,
        ),
        (
            encode(
                Push(
                    id=7,
                    repo="novel",
                    updates=[RefUpdate(MAIN, ZERO_ID, "ab" * 20)],
                    pack=b"PACKxx",
                )
            ),
            "invalid_pack",
            7,
        ),
        (encode(Fetch(id=8, repo="novel", wants=["refs/heads/none"])), "not_found", 8),
        (
            encode(
                Push(id=9, repo="novel", updates=[RefUpdate("refs/heads/XXXX", ZERO_ID, "ab" * 20)])
            ).replace(b"XXXX", b"\xff\xfe\xfd\xfc"),
            "malformed",
            None,
        ),
    ],
)
def test_a_bad_frame_gets_an_error_and_changes_nothing(
    api: Api, owner: Account, frame: bytes | str, code: str, request_id: int | None
) -> None:
    with signed_in(api.client, owner) as session:
        if isinstance(frame, str):
            session.ws.send_text(frame)
        else:
            session.ws.send_bytes(frame)
        assert error_of(session.receive()) == (code, request_id)
        assert session.request(Ping(time=2.5)) == Pong(time=2.5)  # still served
        assert session.request(ListRefs(id=9, repo="novel")) == Refs(9, "novel", {}, 0)


def test_a_frame_over_the_limit_is_too_large(tmp_path: Path, settings: Settings) -> None:
    small = replace(settings, max_frame_bytes=64 * 1024)
    with client_for(small) as client:
        who = Api(client).account("owner")
        with signed_in(client, who) as session:
            session.ws.send_bytes(encode(Ping(time=1.0)) + b"\x00" * (64 * 1024))
            assert error_of(session.receive()) == ("too_large", None)
            assert session.request(Ping(time=3.0)) == Pong(time=3.0)


# -- requests --------------------------------------------------------------------------


def test_push_fetch_and_notices_between_two_writers(api: Api, tmp_path: Path) -> None:
    owner = api.account("owner")
    reader = api.account("reader")
    api.repository(owner, "novel", **{reader.email: "beta_reader"})
    project = novel_project(tmp_path / "writer", saves=3, chapter_count=1)
    line = first_parent_line(project)
    with signed_in(api.client, owner) as pusher, signed_in(api.client, reader) as follower:
        follower.send(Subscribe(repos={"novel": 0}))
        pack = build_push_pack(project.repo, [line[-2]], [])
        answer = pusher.request(
            Push(
                id=1, repo="novel", updates=[RefUpdate(MAIN, ZERO_ID, line[-2].decode())], pack=pack
            )
        )
        assert answer == PushResult(1, "ok", 1, {MAIN: line[-2].decode()})
        assert follower.receive() == Notice("novel", 1, MAIN, ZERO_ID, line[-2].decode())
        fetched = follower.request(Fetch(id=2, repo="novel"))
        assert isinstance(fetched, FetchResult) and fetched.refs == {MAIN: line[-2].decode()}
        clone = Repo.init(str(tmp_path / "clone"), mkdir=True)
        apply_pack(clone, fetched.pack)
        # The next save goes as a thin pack; the follower hears of it and fetches just it.
        thin = build_push_pack(project.repo, [line[-1]], [line[-2]])
        update = RefUpdate(MAIN, line[-2].decode(), line[-1].decode())
        assert pusher.request(Push(id=3, repo="novel", updates=[update], pack=thin)).status == "ok"  # type: ignore[union-attr]
        assert follower.receive() == Notice("novel", 2, MAIN, line[-2].decode(), line[-1].decode())
        more = follower.request(Fetch(id=4, repo="novel", haves=[line[-2].decode()]))
        assert isinstance(more, FetchResult) and 0 < len(more.pack) < 2000
        apply_pack(clone, more.pack)
        # A stale push is an answer, not an error.
        stale = pusher.request(Push(id=5, repo="novel", updates=[update], pack=b""))
        assert stale == PushResult(5, "stale", 2, {MAIN: line[-1].decode()})
        follower.send(Unsubscribe(repos=["novel"]))
        assert follower.request(Ping(time=1.0)) == Pong(time=1.0)


def test_replay_on_hello_and_subscribe_and_resync_when_too_old(
    api: Api, owner: Account, tmp_path: Path
) -> None:
    project = novel_project(tmp_path / "writer", saves=2, chapter_count=1)
    line = first_parent_line(project)
    ids = [s.decode() for s in line]
    with signed_in(api.client, owner) as pusher:
        old = ZERO_ID
        for n, save in enumerate(line, 1):
            pack = build_push_pack(project.repo, [save], [line[n - 2]] if n > 1 else [])
            assert (
                pusher.request(
                    Push(
                        id=n, repo="novel", updates=[RefUpdate(MAIN, old, save.decode())], pack=pack
                    )
                ).status
                == "ok"
            )  # type: ignore[union-attr]
            old = save.decode()
    with signed_in(api.client, owner, last_seq={"novel": 2}) as session:
        assert [session.receive(), session.receive()] == [
            Notice("novel", 3, MAIN, ids[1], ids[2]),
            Notice("novel", 4, MAIN, ids[2], ids[3]),
        ]
        session.send(Subscribe(repos={"novel": 99}))  # ahead of the server: compare heads
        assert session.receive() == ResyncRequired("novel", 1, 4)
        session.send(Subscribe(repos={"novel": 4, "no-such-novel": 0}))
        assert error_of(session.receive())[0] == "not_found"
        assert session.request(Ping(time=4.0)) == Pong(time=4.0)  # nothing to replay at 4
        assert head(project).decode() == ids[-1]


def test_the_server_sends_heartbeats(settings: Settings) -> None:
    with client_for(replace(settings, heartbeat_seconds=1)) as client:
        who = Api(client).account("owner")
        with signed_in(client, who) as session:
            started = time.monotonic()
            beat = session.receive(timeout=5)
            assert isinstance(beat, Pong) and time.monotonic() - started < 3


def test_a_client_that_never_authenticates_is_closed(settings: Settings) -> None:
    with client_for(replace(settings, heartbeat_seconds=1)) as client, raw(client) as session:
        assert error_of(session.receive(timeout=10))[0] == "unauthenticated"
        assert session.closed() == 1008
