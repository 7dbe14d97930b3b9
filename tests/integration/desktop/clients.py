"""Headless desktop clients for the end-to-end tests: each a real `Desktop` (writer and
reader threads, cache, workspace) with a real `SyncEngine` (its own thread and loop),
tokens in a private file, talking to the real server (or a proxy in front of it)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dulwich.refs import Ref

from gitwrite.model import Author
from gitwrite.rest import ServerApi
from gitwrite_desktop.core.credentials import FileStore, Sessions
from gitwrite_desktop.core.desktop import Desktop
from gitwrite_desktop.core.operations import (
    AddProject,
    OpenProject,
    Operation,
    ReadFile,
    Save,
    WriteFiles,
)
from gitwrite_desktop.core.sync import EngineOptions, SyncEngine, SyncReport
from gitwrite_desktop.core.sync.share import ShareStats
from gitwrite_desktop.core.workspace import Account
from tests.builders import make_project

PASSWORD = "correct horse battery staple"
FAST = EngineOptions(
    backoff_base=0.05,
    backoff_cap=0.5,
    stable=1.0,
    request_timeout=30.0,
    retry_after=0.3,
    stale_pause=0.02,
    max_rounds=200,
    stall_timeout=60.0,
)
"""Short waits: tests reconnect in fractions of a second, not in up to a minute."""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(base_url: str, name: str) -> str:
    """A new account on the server; its email."""
    email = f"{unique(name)}@example.com"

    async def run() -> None:
        async with ServerApi(base_url) as api:
            await api.register(email, PASSWORD, name.title())

    asyncio.run(run())
    return email


@dataclass
class Client:
    """One writer's GitWrite, signed in to a server."""

    root: Path
    server_url: str
    options: EngineOptions = FAST
    name: str = "writer"
    reports: list[SyncReport] = field(default_factory=list)
    account: Account | None = None

    def __post_init__(self) -> None:
        self.desktop = Desktop(self.root / "app-data", grace=0.05)
        assert self.desktop.start().wait(60)
        self.sessions = Sessions(FileStore(self.root / "app-data" / "credentials.json"))
        self._lock = threading.Lock()
        self.engine = SyncEngine(
            self.desktop, self.sessions, options=self.options, on_status=self._status
        )
        self.engine.start().result(60)

    def _status(self, report: SyncReport) -> None:
        with self._lock:
            self.reports.append(report)

    @property
    def account_id(self) -> str:
        assert self.account is not None
        return self.account.id

    def sign_in(self, email: str) -> Account:
        self.account = self.engine.sign_in(self.server_url, email, PASSWORD).result(60)
        return self.account

    def new_project(self, files: dict[str, str], folder: str = "novel") -> str:
        root = self.root / folder
        make_project(root, files, author=Author(self.name, f"{self.name}@example.com")).close()
        project_id = self.desktop.call(AddProject(root)).value.id
        self.desktop.call(OpenProject(project_id))
        return project_id

    def clone(self, repository: str, folder: str = "novel", **options: Any) -> str:
        entry = self.engine.clone(self.account_id, repository, self.root / folder, **options)
        project_id = entry.result(120).id
        self.desktop.call(OpenProject(project_id))
        return project_id

    def save(self, project_id: str, files: dict[str, str], message: str | None = None) -> str:
        self.desktop.call(WriteFiles(project_id, files))
        return self.desktop.call(Save(project_id, message)).value.id

    def edit_and_save(
        self, project_id: str, edit: Callable[[Callable[[str], str]], dict[str, str]], message: str
    ) -> str:
        """Read, change and save in ONE writer operation, as an editor whose buffer always
        shows the disk would: ``edit(read)`` returns the new texts; the save's id."""
        return str(self.desktop.call(EditAndSave(project_id, edit, message)).value)

    def read(self, project_id: str, path: str, at: str | None = None) -> str:
        return self.desktop.call(ReadFile(project_id, path, at)).value

    def head(self, project_id: str, ref: str = "refs/heads/main") -> str | None:
        head: str | None = self.call_project(project_id, lambda p: _ref(p, ref))
        return head

    def call_project(self, project_id: str, action: Callable[[Any], Any]) -> Any:
        """Run ``action(project)`` on the writer thread (a project belongs to it)."""

        class Peek(Operation[Any]):
            def run(self, ctx: Any, /) -> Any:
                return action(ctx.project(project_id))

        return self.desktop.call(Peek()).value

    def status(self) -> SyncReport:
        return self.engine.report()

    def share(self, project_id: str, repository: str) -> None:
        self.engine.share(project_id, self.account_id, repository).result(60)

    def invite(self, repository: str, email: str, role: str) -> None:
        self.engine.invite(self.account_id, repository, email, role).result(60)

    def sync_and_wait(self, timeout: float = 60) -> bool:
        """Sync every share now and wait until nothing is left to do; False on timeout."""
        self.engine.sync_now()
        return self.engine.wait_idle(timeout)

    def stats(self) -> dict[str, ShareStats]:
        return self.engine.stats()

    def refs(self, project_id: str) -> dict[str, str]:
        """The project's branches, milestones and annotations ref."""
        shared = (b"refs/heads/", b"refs/tags/", b"refs/gitwrite/annotations")
        return dict(
            self.call_project(
                project_id,
                lambda p: {
                    name.decode(): sha.decode()
                    for name, sha in p.repo.refs.as_dict().items()
                    if name.startswith(shared)
                },
            )
        )

    def wait_for(self, predicate: Callable[[SyncReport], bool], timeout: float = 60) -> SyncReport:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = self.engine.report()
            if predicate(report):
                return report
            time.sleep(0.02)
        raise AssertionError(f"{self.name}: status never matched; last: {self.engine.report()}")

    def close(self) -> None:
        self.engine.stop()
        self.desktop.stop()


@dataclass(frozen=True)
class EditAndSave(Operation[str]):
    project_id: str
    edit: Callable[[Callable[[str], str]], dict[str, str]]
    message: str

    def run(self, ctx: Any, /) -> str:
        with ctx.tracked(self.project_id, text=False) as project:
            texts = self.edit(project.read)
            project.write_files({p: t.encode() for p, t in texts.items()})
            return str(project.save(self.message).id)


def _ref(project: Any, ref: str) -> str | None:
    try:
        return str(project.repo.refs[Ref(ref.encode())].decode())
    except KeyError:
        return None
