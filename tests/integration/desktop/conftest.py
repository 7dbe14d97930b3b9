"""Fixtures of the desktop sync tests: the real server process on each database (the
end-to-end sync tests' ``server`` fixture: SQLite, then a fresh PostgreSQL database), and a
proxy in front of it that can take the network away."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.desktop.proxy import Proxy
from tests.integration.sync.conftest import server
from tests.serverproc import ServerProcess

__all__ = ["proxy", "server"]


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[Proxy]:
    made = Proxy(server.port).start()
    yield made
    made.stop()
