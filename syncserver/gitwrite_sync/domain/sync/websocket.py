"""The ``/ws`` endpoint: one sync session (`SyncConnection`) per WebSocket.

The handler is thin: it accepts the socket and hands it, with the process's
`SyncService` and the token check of `gitwrite_sync.domain.auth`, to a `SyncConnection`,
which speaks `gitwrite.protocol` until the client leaves.

Frame size: a frame over ``max_frame_bytes`` is answered with ``Error too_large``. The ASGI
server is told to accept frames a little larger (`websocket_max_size`) so that the
client hears why; anything beyond that the server closes with 1009 ("message too big")
before buffering it.
"""

from __future__ import annotations

from typing import Any

from litestar import WebSocket, websocket
from litestar.handlers import WebsocketRouteHandler

from gitwrite_sync.db.models import User
from gitwrite_sync.domain.auth import authenticate
from gitwrite_sync.domain.sync.connection import SyncConnection
from gitwrite_sync.settings import Settings
from gitwrite_sync.web.deps import ServicesDep

WS_PATH = "/ws"
_SLACK = 1024 * 1024


def websocket_max_size(settings: Settings) -> int:
    """The ASGI server's WebSocket message limit (uvicorn's ``ws_max_size``)."""
    return settings.max_frame_bytes + _SLACK


@websocket(WS_PATH)
async def sync_socket(socket: WebSocket[Any, Any, Any], services: ServicesDep) -> None:
    """The sync protocol over one WebSocket (binary MessagePack frames)."""
    await socket.accept()

    async def check(token: str) -> User:
        return await authenticate(services.db, services.settings, token)

    await SyncConnection(socket, services.sync, services.settings, check).run()


def sync_routes() -> list[WebsocketRouteHandler]:
    """The route handlers of sync, for the app factory."""
    return [sync_socket]
