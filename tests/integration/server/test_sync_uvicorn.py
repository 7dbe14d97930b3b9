"""The app under a real uvicorn on a loopback port, as ``gitwrite-server`` runs it: the
sync client pushes and fetches through it, and frames over the limit are refused the way
the ASGI server's WebSocket limit (`websocket_max_size`) is set up for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import uvicorn
import websockets
from dulwich.repo import Repo

from gitwrite.client import SyncClient
from gitwrite.protocol import Auth, Error, Hello, Ping, Welcome, decode_server, encode
from gitwrite.rest import ServerApi
from gitwrite_sync.app import create_app
from gitwrite_sync.domain.sync.websocket import websocket_max_size
from gitwrite_sync.settings import Settings
from tests.compat.gitcli import fsck, git
from tests.integration.postgres import free_port
from tests.integration.storage.conftest import head, novel_project

pytestmark = [pytest.mark.anyio, pytest.mark.compat]
LIMIT = 256 * 1024


@dataclass
class Running:
    base_url: str
    ws_url: str
    settings: Settings


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Running]:
    settings = replace(settings, max_frame_bytes=LIMIT)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        ws_max_size=websocket_max_size(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:
            await asyncio.sleep(0.05)
    yield Running(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", settings)
    server.should_exit = True
    await asyncio.wait_for(task, 20)


async def account(server: Running, name: str) -> str:
    async with ServerApi(server.base_url) as api:
        await api.register(f"{name}@example.com", "correct horse battery", name)
        tokens = await api.login(f"{name}@example.com", "correct horse battery")
        await api.create_repository(tokens.access_token, "novel")
    return tokens.access_token


async def test_the_sync_client_pushes_and_fetches_through_uvicorn(
    server: Running, tmp_path: Path
) -> None:
    token = await account(server, "owner")
    project = novel_project(tmp_path / "writer", saves=5, chapter_count=2)
    async with await SyncClient.connect(server.ws_url, token) as client:
        assert (await client.push("novel", project.repo, ["refs/heads/main"])).status == "ok"
        clone = Repo.init(str(tmp_path / "clone"), mkdir=True)
        fetched = await client.fetch("novel", clone)
        assert fetched.refs == {"refs/heads/main": head(project).decode()}
    fsck(tmp_path / "clone")
    log = git(tmp_path / "clone", "log", "--format=%H %s", "refs/remotes/origin/main")
    assert log == git(project.root, "log", "--format=%H %s", "refs/heads/main")


async def test_frames_over_the_limit_are_too_large_or_closed_with_1009(server: Running) -> None:
    token = await account(server, "owner")
    async with websockets.connect(server.ws_url, max_size=None) as ws:
        await ws.send(encode(Auth(token=token)))
        await ws.send(encode(Hello(version=1)))
        assert isinstance(decode_server(await ws.recv()), Welcome)  # type: ignore[arg-type]
        # Just over the limit: the server reads it and says why.
        await ws.send(encode(Ping(time=1.0)) + b"\x00" * LIMIT)
        answer = decode_server(await ws.recv())  # type: ignore[arg-type]
        assert isinstance(answer, Error) and answer.code == "too_large"
        # Far over: uvicorn closes the socket before buffering it.
        await ws.send(b"\x00" * (websocket_max_size(server.settings) + 1))
        with pytest.raises(websockets.ConnectionClosed) as caught:
            await ws.recv()
        assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009
