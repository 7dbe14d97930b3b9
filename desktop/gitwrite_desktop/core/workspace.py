"""The writer's workspace: which project folders they work on, and their sync accounts.

The record is one small JSON file, ``workspace.json`` in the app data folder, written
atomically on every change. It is the only thing the desktop keeps that cannot be
rebuilt from the repositories (the SQLite cache mirrors it and is rebuilt from it and
the projects; see `gitwrite_desktop.core.cache`). It holds:

* projects: an id that stays when the folder moves, the absolute path, the name shown,
  when it was added and last opened;
* accounts on sync servers: server address, email, display name (tokens are kept apart,
  in the keyring: `gitwrite_desktop.core.credentials`);
* shares: which project is shared through which account, under which repository name
  on that server, and the local name of the remote (its remote-tracking refs).

A project whose folder moved or vanished stays listed: `Workspace.locate` reports it,
and the writer relocates or forgets it. Nothing here opens a repository for writing
(that is the worker's job); creating a project makes its first save and closes it.

Not thread-safe: the desktop's worker thread owns the workspace.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit, urlunsplit

import msgspec

from gitwrite.errors import NotAProject
from gitwrite.project import Project
from gitwrite.remotes import check_remote_name
from gitwrite_desktop.core.errors import (
    InvalidAccount,
    ProjectMissing,
    UnknownAccount,
    UnknownProject,
    WorkspaceError,
)
from gitwrite_desktop.core.files import atomic_write, move_aside

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitwrite.model import Author

FILE_NAME = "workspace.json"
FORMAT = 1
"""Version of the file's layout; `_UPGRADES` turns each older layout into the next."""

Time = Annotated[datetime, msgspec.Meta(tz=True)]


class ProjectEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A project the writer added to the workspace."""

    id: str
    path: str
    name: str
    added_at: Time
    last_opened_at: Time | None = None


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """An account on a sync server (its tokens live in the credential store)."""

    id: str
    server_url: str
    email: str
    display_name: str


class Share(msgspec.Struct, frozen=True, kw_only=True):
    """A project shared through an account, as ``repository`` on that server."""

    project_id: str
    account_id: str
    repository: str
    remote: str = "origin"


class Record(msgspec.Struct, kw_only=True):
    format: int = FORMAT
    projects: list[ProjectEntry] = msgspec.field(default_factory=list)
    accounts: list[Account] = msgspec.field(default_factory=list)
    shares: list[Share] = msgspec.field(default_factory=list)


class ProjectState(enum.StrEnum):
    AVAILABLE = "available"
    MISSING = "missing"
    NOT_A_PROJECT = "not a project"


@dataclass(frozen=True, slots=True)
class ProjectLocation:
    """Where a project is, and whether it can be opened; ``reason`` says why not."""

    entry: ProjectEntry
    state: ProjectState
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.state is ProjectState.AVAILABLE


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def absolute(path: str | Path) -> Path:
    """The absolute, symlink-resolved form of ``path`` (never relative to the cwd later)."""
    return Path(path).expanduser().resolve()


def normalise_server_url(url: str) -> str:
    """``https://Sync.Example.org/`` → ``https://sync.example.org``, or `InvalidAccount`."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise InvalidAccount("server address", url, "use an address such as https://example.org")
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))


def locate(entry: ProjectEntry) -> ProjectLocation:
    """Whether the project's folder is still there and still holds a repository."""
    root = Path(entry.path)
    if not root.is_dir():
        return ProjectLocation(entry, ProjectState.MISSING, "the folder is gone or was moved")
    if not (root / ".git").exists():
        return ProjectLocation(entry, ProjectState.NOT_A_PROJECT, "the folder has no history")
    return ProjectLocation(entry, ProjectState.AVAILABLE)


def _upgrade(raw: dict[str, object]) -> dict[str, object]:
    """Bring an older file's layout up to `FORMAT` (no older layout exists yet)."""
    version = raw.get("format", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"unknown format {version!r}")
    for step in range(version, FORMAT):
        raw = _UPGRADES[step](raw)
    return raw


_UPGRADES: dict[int, Callable[[dict[str, object]], dict[str, object]]] = {}
"""Format N → the function turning a file of format N into format N + 1."""


class Workspace:
    """The workspace record in ``folder/workspace.json``.

    A file that is not valid is moved aside (``workspace.json.corrupt-<time>``) and an
    empty workspace starts (``recovered_from`` names the moved file, so the caller can
    refill it from the cache's mirror). A file written by a newer GitWrite is never
    overwritten: `WorkspaceError`.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = absolute(folder)
        self.path = self.folder / FILE_NAME
        self.recovered_from: Path | None = None
        self._record = self._load()

    # -- the file -------------------------------------------------------------------

    def _load(self) -> Record:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Record()
        except OSError as exc:
            raise WorkspaceError(str(self.path), exc.strerror or str(exc)) from exc
        try:
            raw = msgspec.json.decode(data)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            version = raw.get("format")
            if isinstance(version, int) and version > FORMAT:
                raise WorkspaceError(
                    str(self.path), f"it was written by a newer GitWrite (format {version})"
                )
            return msgspec.convert(_upgrade(raw), Record)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            self.recovered_from = move_aside(self.path, "corrupt")
            return Record()

    def _write(self) -> None:
        data = msgspec.json.format(msgspec.json.encode(self._record), indent=2) + b"\n"
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise WorkspaceError(str(self.path), exc.strerror or str(exc)) from exc

    def snapshot(self) -> Record:
        """A copy of the whole record (to mirror it in the cache)."""
        return msgspec.structs.replace(
            self._record,
            projects=list(self._record.projects),
            accounts=list(self._record.accounts),
            shares=list(self._record.shares),
        )

    def restore(self, record: Record) -> None:
        """Replace the whole record (refilling a lost file from the cache's mirror)."""
        self._record = msgspec.structs.replace(record, format=FORMAT)
        self._write()

    # -- projects -------------------------------------------------------------------

    def projects(self) -> list[ProjectEntry]:
        """Every project, the most recently opened first, then by name."""
        never = datetime.min.replace(tzinfo=UTC)
        return sorted(
            self._record.projects,
            key=lambda p: (-(p.last_opened_at or never).timestamp(), p.name.casefold()),
        )

    def project(self, project_id: str) -> ProjectEntry:
        for entry in self._record.projects:
            if entry.id == project_id:
                return entry
        raise UnknownProject(project_id)

    def find(self, path: str | Path) -> ProjectEntry | None:
        """The project whose folder is ``path``, if it was added."""
        wanted = str(absolute(path))
        return next((p for p in self._record.projects if p.path == wanted), None)

    def locate(self, project_id: str) -> ProjectLocation:
        return locate(self.project(project_id))

    def locations(self) -> list[ProjectLocation]:
        """Every project with whether it can be opened, in the order of `projects`."""
        return [locate(entry) for entry in self.projects()]

    def require_available(self, project_id: str) -> ProjectEntry:
        """The project's entry, or `ProjectMissing` when its folder cannot be opened."""
        where = self.locate(project_id)
        if not where.available:
            raise ProjectMissing(project_id, where.entry.path, where.reason)
        return where.entry

    def add_project(self, path: str | Path, name: str | None = None) -> ProjectEntry:
        """Add an existing project folder (any git repository with a working folder).

        Adding a folder already in the workspace returns its entry. Raises `NotAProject`.
        """
        root = absolute(path)
        existing = self.find(root)
        if existing is not None:
            return existing
        Project.open(root).close()  # raises NotAProject
        entry = ProjectEntry(id=_new_id(), path=str(root), name=name or root.name, added_at=_now())
        self._record.projects.append(entry)
        self._write()
        return entry

    def create_project(
        self, path: str | Path, name: str | None = None, *, author: Author | None = None
    ) -> ProjectEntry:
        """Make a new project (folder, repository, starter chapter, first save) and add it."""
        root = absolute(path)
        Project.create(root, author=author).close()  # raises ProjectExists
        return self.add_project(root, name)

    def opened(self, project_id: str) -> ProjectEntry:
        """Note that the project was just opened (it becomes `last_opened`)."""
        return self._replace(self.project(project_id), last_opened_at=_now())

    def last_opened(self) -> ProjectEntry | None:
        opened = [p for p in self._record.projects if p.last_opened_at is not None]
        return max(opened, key=lambda p: p.last_opened_at or _now(), default=None)

    def rename_project(self, project_id: str, name: str) -> ProjectEntry:
        clean = " ".join(name.split())
        if not clean:
            raise WorkspaceError(str(self.path), "a project needs a name")
        return self._replace(self.project(project_id), name=clean)

    def relocate(self, project_id: str, path: str | Path) -> ProjectEntry:
        """Point a project (that moved) at its new folder; its id, name and shares stay."""
        entry = self.project(project_id)
        root = absolute(path)
        other = self.find(root)
        if other is not None and other.id != project_id:
            raise WorkspaceError(str(self.path), f"{root} is already the project {other.name!r}")
        if not (root / ".git").exists():
            raise NotAProject(str(root))
        return self._replace(entry, path=str(root))

    def forget_project(self, project_id: str) -> ProjectEntry:
        """Remove a project from the workspace; its folder and history are left untouched."""
        entry = self.project(project_id)
        self._record.projects = [p for p in self._record.projects if p.id != project_id]
        self._record.shares = [s for s in self._record.shares if s.project_id != project_id]
        self._write()
        return entry

    def _replace(self, entry: ProjectEntry, **changes: object) -> ProjectEntry:
        new = msgspec.structs.replace(entry, **changes)
        self._record.projects = [new if p.id == entry.id else p for p in self._record.projects]
        self._write()
        return new

    # -- accounts and shares --------------------------------------------------------

    def accounts(self) -> list[Account]:
        return sorted(self._record.accounts, key=lambda a: (a.server_url, a.email))

    def account(self, account_id: str) -> Account:
        for account in self._record.accounts:
            if account.id == account_id:
                return account
        raise UnknownAccount(account_id)

    def add_account(self, server_url: str, email: str, display_name: str = "") -> Account:
        """Add an account, or update the display name of the one with that server and email."""
        url = normalise_server_url(server_url)
        address = email.strip()
        if "@" not in address or any(c.isspace() for c in address):
            raise InvalidAccount("email", email, "use an address such as writer@example.org")
        shown = " ".join(display_name.split()) or address
        for i, account in enumerate(self._record.accounts):
            if account.server_url == url and account.email.casefold() == address.casefold():
                updated = msgspec.structs.replace(account, display_name=shown)
                self._record.accounts[i] = updated
                self._write()
                return updated
        account = Account(id=_new_id(), server_url=url, email=address, display_name=shown)
        self._record.accounts.append(account)
        self._write()
        return account

    def remove_account(self, account_id: str) -> Account:
        """Remove an account and every share through it (the caller signs it out)."""
        account = self.account(account_id)
        self._record.accounts = [a for a in self._record.accounts if a.id != account_id]
        self._record.shares = [s for s in self._record.shares if s.account_id != account_id]
        self._write()
        return account

    def share(
        self, project_id: str, account_id: str, repository: str, remote: str = "origin"
    ) -> Share:
        """Record that a project is shared through an account as ``repository``."""
        self.project(project_id)
        self.account(account_id)
        name = repository.strip()
        if not name:
            raise InvalidAccount("repository name", repository, "a name is needed")
        check_remote_name(remote)
        for other in self._record.shares:
            if (other.project_id, other.remote) == (project_id, remote) and (
                other.account_id != account_id
            ):
                raise WorkspaceError(
                    str(self.path), f"the remote {remote!r} already names another server"
                )
        share = Share(project_id=project_id, account_id=account_id, repository=name, remote=remote)
        self._record.shares = [
            s
            for s in self._record.shares
            if not (s.project_id == project_id and s.account_id == account_id)
        ] + [share]
        self._write()
        return share

    def unshare(self, project_id: str, account_id: str) -> None:
        self._record.shares = [
            s
            for s in self._record.shares
            if not (s.project_id == project_id and s.account_id == account_id)
        ]
        self._write()

    def shares(self, project_id: str | None = None) -> list[Share]:
        return [s for s in self._record.shares if project_id is None or s.project_id == project_id]
