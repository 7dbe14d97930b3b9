"""Desktop clients in processes of their own, as on writers' computers.

A `Client` (a whole desktop core with its sync engine) runs in a child process started
with ``spawn``; the test drives it through a pipe. Twenty clients in one test process
would share one interpreter lock: their writer threads (storing fetched objects, merging,
indexing) would wait on each other, and the test would measure that instead of the sync.

::

    crowd = [ClientProcess(root / f"c{n}", url, f"writer{n}") for n in range(20)]
    crowd[0].sign_in(email)
    crowd[0].call(module_level_function, arg)   # runs function(client, arg) in the child
    ...
    crowd[0].close()

Values and errors cross the pipe pickled; an error in the child is raised in the test
as `ChildFailed` with the child's traceback. ``call`` takes a function defined at the top
of an importable module (the child imports it by name).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from tests.integration.desktop.clients import Client

_CONTEXT = multiprocessing.get_context("spawn")

progress: Synchronized[int] | None = None
"""In a child: the counter shared by every `ClientProcess` made with the same one."""


def counter() -> Synchronized[int]:
    """A counter children can add to (`progress`), readable from the test."""
    return _CONTEXT.Value("i", 0)


class ChildFailed(Exception):
    """An error in a client's process (its traceback is the message)."""


def _serve(conn: Connection, root: str, server_url: str, name: str, shared: Any) -> None:
    global progress
    progress = shared
    try:
        client = Client(Path(root), server_url, name=name)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ok", None))
    while True:
        try:
            method, args = conn.recv()
        except EOFError:  # the test went away
            client.close()
            return
        if method == "close":
            client.close()
            conn.send(("ok", None))
            return
        try:
            if method == "call":
                function, *rest = args
                value = function(client, *rest)
            else:
                value = getattr(client, method)(*args)
            conn.send(("ok", value))
        except BaseException:
            conn.send(("error", traceback.format_exc()))


class ClientProcess:
    """A `Client` in a child process (see the module doc)."""

    def __init__(
        self, root: Path, server_url: str, name: str, shared: Synchronized[int] | None = None
    ) -> None:
        self.name = name
        self._conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=_serve,
            args=(child, str(root), server_url, name, shared),
            name=f"client-{name}",
            daemon=True,
        )
        self.process.start()
        child.close()
        self._lock = threading.Lock()
        self._closed = False
        self._answer(120)

    def _answer(self, timeout: float) -> Any:
        if not self._conn.poll(timeout):
            raise TimeoutError(f"{self.name} did not answer in {timeout} s")
        status, value = self._conn.recv()
        if status == "error":
            raise ChildFailed(f"{self.name}:\n{value}")
        return value

    def request(self, method: str, *args: Any, timeout: float = 600) -> Any:
        with self._lock:
            self._conn.send((method, args))
            return self._answer(timeout)

    def call(self, function: Callable[..., Any], *args: Any, timeout: float = 600) -> Any:
        """``function(client, *args)`` in the child; its value."""
        return self.request("call", function, *args, timeout=timeout)

    def sign_in(self, email: str) -> Any:
        return self.request("sign_in", email)

    def new_project(self, files: dict[str, str]) -> str:
        return str(self.request("new_project", files))

    def clone(self, repository: str) -> str:
        return str(self.request("clone", repository))

    def head(self, project_id: str, ref: str = "refs/heads/main") -> str | None:
        value = self.request("head", project_id, ref)
        return None if value is None else str(value)

    def read(self, project_id: str, path: str) -> str:
        return str(self.request("read", project_id, path))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ChildFailed, TimeoutError, OSError, EOFError):
            self.request("close", timeout=60)
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
        self._conn.close()
