"""gitwrite.client against a minimal in-process server (tests/minisync.py): handshake,
requests matched to answers, pushes and fetches with remote-tracking refs, events,
disconnects, timeouts and heartbeats. The real server is driven in tests/integration."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite.client import Disconnected, RequestTimeout, SyncClient, SyncError
from gitwrite.project import Project
from gitwrite.protocol import ZERO_ID, ErrorCode, GoingAway, Notice
from gitwrite.remotes import tracked, tracking_ref
from tests.builders import make_project, write
from tests.corpus import novel, paragraphs
from tests.minisync import TOKEN, MiniServer, running

pytestmark = pytest.mark.anyio

MAIN = "refs/heads/main"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "writer", {"chapter-01.md": "# One\n\nIt begins.\n"})


async def connect(server: MiniServer, **options: object) -> SyncClient:
    return await SyncClient.connect(server.url, TOKEN, timeout=5, **options)  # type: ignore[arg-type]


async def test_connect_says_hello_and_a_bad_token_is_refused(tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server:
        async with await connect(server) as client:
            assert client.welcome.user == "ann@example.com"
            assert await client.ping() < 1
        with pytest.raises(SyncError) as info:
            await SyncClient.connect(server.url, "wrong", timeout=5)
        assert info.value.code == ErrorCode.UNAUTHENTICATED


async def test_an_unreachable_server_is_disconnected() -> None:
    with pytest.raises(Disconnected):
        await SyncClient.connect("ws://127.0.0.1:9/ws", TOKEN, timeout=2)


async def test_push_then_fetch_into_an_empty_repository(project: Project, tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server, await connect(server) as client:
        result = await client.push("novel", project.repo, [MAIN])
        head = project.head_id()
        assert head is not None
        assert result.status == "ok" and result.seq == 1
        assert server.refs("novel") == {MAIN: head.decode()}
        assert tracked(project.repo, "origin") == {MAIN: head}
        empty = Repo.init(str(tmp_path / "empty"), mkdir=True)
        fetched = await client.fetch("novel", empty)
        assert fetched.refs == {MAIN: head.decode()} and fetched.seq == 1
        assert empty.refs[Ref(tracking_ref("origin", MAIN).encode())] == head
        assert Ref(b"refs/heads/main") not in empty.refs  # the writer's branches never move
        assert head.decode() in fetched.objects


async def test_a_second_push_sends_only_a_thin_pack(tmp_path: Path) -> None:
    text = novel("pride_and_prejudice")[:600_000]
    project = make_project(tmp_path / "writer", {"chapter-01.md": text})
    async with running(tmp_path / "server") as server, await connect(server) as client:
        await client.push("novel", project.repo, [MAIN])
        para = [p for p in paragraphs(text) if len(p) > 300][10]
        write(project, {"chapter-01.md": text.replace(para, para + " And then, nothing.")})
        project.save()
        sent = client.stats.bytes_sent
        assert (await client.push("novel", project.repo, [MAIN])).status == "ok"
        assert client.stats.last_push_pack < 1024
        assert client.stats.bytes_sent - sent < 2048


async def test_a_push_behind_the_server_is_stale_and_moves_nothing(
    project: Project, tmp_path: Path
) -> None:
    async with running(tmp_path / "server") as server, await connect(server) as client:
        await client.push("novel", project.repo, [MAIN])
        first = server.refs("novel")[MAIN]
        write(project, {"chapter-01.md": "# One\n\nIt begins again.\n"})
        project.save()
        result = await client.push("novel", project.repo, [MAIN], old={MAIN: ZERO_ID})
        assert result.status == "stale"
        assert result.refs == {MAIN: first}
        assert server.refs("novel")[MAIN] == first
        assert tracked(project.repo, "origin")[MAIN] == ObjectID(first.encode())


async def test_pushing_a_ref_that_does_not_exist_locally(project: Project, tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server, await connect(server) as client:
        with pytest.raises(SyncError) as info:
            await client.push("novel", project.repo, ["refs/heads/nowhere"])
        assert info.value.code == ErrorCode.INVALID_REF
        assert server.pushes == 0


async def test_answers_are_matched_to_requests_by_id(project: Project, tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server, await connect(server) as client:
        await client.push("a", project.repo, [MAIN])
        server.reverse = 3  # hold three answers, then send them newest first
        answers = await asyncio.gather(*(client.list_refs(r) for r in ("a", "b", "c")))
        assert [a.repo for a in answers] == ["a", "b", "c"]
        assert MAIN in answers[0].refs and answers[1].refs == {}


async def test_notices_reach_the_callback_and_the_event_stream(
    project: Project, tmp_path: Path
) -> None:
    seen: list[object] = []
    async with running(tmp_path / "server") as server:
        watcher = await connect(server, on_event=seen.append)
        writer = await connect(server)
        await watcher.subscribe({"novel": 0})
        await writer.push("novel", project.repo, [MAIN])
        events = watcher.events()
        notice = await asyncio.wait_for(anext(events), 5)
        assert isinstance(notice, Notice) and notice.seq == 1 and notice.ref == MAIN
        assert seen == [notice]
        assert watcher.last_seq == {"novel": 1}
        await writer.close()
        await watcher.close()
        # Reconnecting with last_seq replays only what came after it.
        write(project, {"chapter-01.md": "# One\n\nMore.\n"})
        project.save()
        async with await connect(server) as other:
            await other.push("novel", project.repo, [MAIN])
        replayed: list[object] = []
        async with await connect(server, last_seq={"novel": 1}, on_event=replayed.append):
            for _ in range(50):
                if replayed:
                    break
                await asyncio.sleep(0.02)
        assert [n.seq for n in replayed] == [2]  # type: ignore[attr-defined]


async def test_an_abandoned_connection_fails_what_waits_and_ends_its_events(
    tmp_path: Path,
) -> None:
    async with running(tmp_path / "server") as server:
        client = await connect(server)
        assert client.describe() == "websocket OPEN, reader running"
        server.silent = True
        waiting = asyncio.ensure_future(client.list_refs("novel"))
        await asyncio.sleep(0.1)
        client.abandon("given up")
        with pytest.raises(Disconnected, match="given up"):
            await asyncio.wait_for(waiting, 5)
        assert client.closed
        assert [e async for e in client.events()] == []
        with pytest.raises(Disconnected, match="given up"):
            await client.list_refs("novel")
        assert "closed (given up)" in client.describe()
        await client.close()


async def test_a_connection_whose_reader_stops_is_closed(tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server:
        client = await connect(server)
        server.silent = True
        waiting = asyncio.ensure_future(client.list_refs("novel"))
        await asyncio.sleep(0.1)
        client._channel._reader.cancel()
        with pytest.raises(Disconnected, match="reader was stopped"):
            await asyncio.wait_for(waiting, 5)
        assert client.closed
        assert "reader cancelled" in client.describe()
        await client.close()


async def test_waiting_requests_fail_when_the_server_goes_away(tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server:
        client = await connect(server)
        await client.subscribe({"novel": 0})
        server.silent = True
        waiting = asyncio.ensure_future(client.list_refs("novel"))
        await asyncio.sleep(0.1)
        await server.going_away(retry_ms=300)
        event = await asyncio.wait_for(anext(client.events()), 5)
        assert isinstance(event, GoingAway)
        with pytest.raises(Disconnected) as new_request:
            await client.list_refs("novel")
        assert new_request.value.retry_ms == 300
        assert server.server is not None
        server.server.close()
        with pytest.raises(Disconnected):
            await asyncio.wait_for(waiting, 5)
        assert client.closed
        await client.close()


async def test_an_unanswered_request_times_out(tmp_path: Path) -> None:
    async with running(tmp_path / "server", silent=True) as server:
        client = await SyncClient.connect(server.url, TOKEN, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            await client.list_refs("novel")
        assert time.monotonic() - started < 2
        await client.close()


async def test_a_silent_connection_is_closed_by_the_heartbeat(tmp_path: Path) -> None:
    async with running(tmp_path / "server") as server:
        client = await connect(server, heartbeat_seconds=0.2)
        assert await client.ping() < 1
        server.silent = True
        # pongs still come back while the server lives: the connection stays open
        await asyncio.sleep(0.8)
        assert not client.closed
        # a server that stops answering at all (its pongs too) gets closed within 3 beats
        assert server.server is not None
        connections = list(server.server.connections)
        for ws in connections:
            ws.transport.pause_reading()
        with pytest.raises(Disconnected, match="nothing heard"):
            await asyncio.wait_for(client.list_refs("novel"), 3)
        assert client.closed
        await client.close()
        for ws in connections:
            ws.transport.abort()
