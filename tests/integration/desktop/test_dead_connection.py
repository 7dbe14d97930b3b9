"""A connection that can no longer carry requests while it still looks open is dropped,
and syncing goes on over a new one: never a loop of empty rounds on the dead one.

Seen once in the twenty-desktop test: one desktop ran 2.5 million rounds in six minutes,
each failing at once as "disconnected" on a connection the link still held as open, and
none of its saves reached the server. These tests put a live desktop's connection in
the two states that can do that (the server said it is going away; nothing reads the
socket any more) and check that its next save still reaches the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitwrite.client import SyncClient
from gitwrite.protocol import GoingAway
from gitwrite.rest import ServerApi
from gitwrite_desktop.core.sync import State
from tests.integration.desktop.clients import PASSWORD, Client, register, unique
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def ann(tmp_path: Path, server: ServerProcess) -> Iterator[Client]:
    client = Client(tmp_path / "ann", server.base_url, name="ann")
    try:
        client.sign_in(register(server.base_url, "ann"))
        client.project = client.new_project({"chapter-01.md": "# One\n\nIt was dark.\n"})  # type: ignore[attr-defined]
        client.repository = unique("novel")  # type: ignore[attr-defined]
        client.share(client.project, client.repository)  # type: ignore[attr-defined]
        assert client.engine.wait_idle(30)
        yield client
    finally:
        client.close()


def on_live_connection(client: Client, action: Callable[[SyncClient], object]) -> SyncClient:
    """Run ``action`` on the desktop's open connection, in its sync loop; that connection."""
    engine = client.engine

    async def run() -> SyncClient:
        link = engine.link(client.account_id)
        live = await link.client()
        action(live)
        return live

    assert engine._loop is not None
    return asyncio.run_coroutine_threadsafe(run(), engine._loop).result(10)


def save_reaches_the_server(client: Client, server: ServerProcess, text: str) -> None:
    project = client.project  # type: ignore[attr-defined]
    head = client.save(project, {"chapter-01.md": text})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server_head(server, client) == head:
            return
        time.sleep(0.05)
    raise AssertionError(f"the save never reached the server: {client.status()}")


def server_head(server: ServerProcess, client: Client) -> str | None:
    async def ask() -> str | None:
        email = client.account.email if client.account is not None else ""
        async with ServerApi(server.base_url) as api:
            tokens = await api.login(email, PASSWORD)
        async with await SyncClient.connect(server.ws_url, tokens.access_token) as other:
            refs = await other.list_refs(client.repository)  # type: ignore[attr-defined]
            return refs.refs.get("refs/heads/main")

    return asyncio.run(ask())


def test_a_server_going_away_is_left_for_a_new_connection(
    ann: Client, server: ServerProcess
) -> None:
    before = ann.stats()[ann.project].rounds  # type: ignore[attr-defined]
    # What a `GoingAway` frame does when it arrives: no new requests on this connection.
    old = on_live_connection(ann, lambda c: c._channel._dispatch(GoingAway(retry_ms=50)))
    assert not old.closed
    save_reaches_the_server(ann, server, "# One\n\nIt was dark and cold.\n")
    stats = ann.stats()[ann.project]  # type: ignore[attr-defined]
    assert stats.dropped == 1
    assert stats.rounds - before < 10, stats
    assert old.closed
    assert on_live_connection(ann, lambda c: None) is not old
    ann.wait_for(lambda r: r.state is State.ONLINE)


def test_a_connection_nobody_reads_any_more_is_replaced(ann: Client, server: ServerProcess) -> None:
    before = ann.stats()[ann.project].rounds  # type: ignore[attr-defined]
    old = on_live_connection(ann, lambda c: c._channel._reader.cancel())
    save_reaches_the_server(ann, server, "# One\n\nIt was dark and wet.\n")
    stats = ann.stats()[ann.project]  # type: ignore[attr-defined]
    assert stats.rounds - before < 10, stats
    assert old.closed
    assert "reader cancelled" in old.describe()
    assert on_live_connection(ann, lambda c: None) is not old
    ann.wait_for(lambda r: r.state is State.ONLINE)
