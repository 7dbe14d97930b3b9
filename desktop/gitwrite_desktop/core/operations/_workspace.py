"""Operations on the workspace: projects and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitwrite_desktop.core.operations._base import Operation

if TYPE_CHECKING:
    from gitwrite.model import Author
    from gitwrite_desktop.core.context import WriterContext
    from gitwrite_desktop.core.workspace import Account, ProjectEntry, ProjectLocation, Share


@dataclass(frozen=True, slots=True)
class ListProjects(Operation["list[ProjectLocation]"]):
    """Every project with whether it can be opened (moved or vanished ones included)."""

    def run(self, ctx: WriterContext, /) -> list[ProjectLocation]:
        return ctx.workspace.locations()


@dataclass(frozen=True, slots=True)
class AddProject(Operation["ProjectEntry"]):
    path: str | Path
    name: str | None = None

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        entry = ctx.workspace.add_project(self.path, self.name)
        ctx.workspace_changed()
        return entry


@dataclass(frozen=True, slots=True)
class CreateProject(Operation["ProjectEntry"]):
    path: str | Path
    name: str | None = None
    author: Author | None = None

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        entry = ctx.workspace.create_project(self.path, self.name, author=self.author)
        ctx.workspace_changed()
        return entry


@dataclass(frozen=True, slots=True)
class OpenProject(Operation["ProjectEntry"]):
    """Open a project for work: take its lease, recover from a crash, index what changed
    since last time, and make it the last opened."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        ctx.project(self.project_id)
        entry = ctx.workspace.opened(self.project_id)
        ctx.workspace_changed()
        ctx.refresh(self.project_id)
        return entry


@dataclass(frozen=True, slots=True)
class CloseProject(Operation[None]):
    """Close a project (its lease is released: another window may open it)."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> None:
        ctx.close_project(self.project_id)


@dataclass(frozen=True, slots=True)
class ForgetProject(Operation["ProjectEntry"]):
    """Remove a project from the workspace (its folder is left alone)."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        ctx.close_project(self.project_id)
        entry = ctx.workspace.forget_project(self.project_id)
        ctx.workspace_changed()
        return entry


@dataclass(frozen=True, slots=True)
class RelocateProject(Operation["ProjectEntry"]):
    """Point a project that moved at its new folder."""

    project_id: str
    path: str | Path

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        ctx.close_project(self.project_id)
        entry = ctx.workspace.relocate(self.project_id, self.path)
        ctx.workspace_changed()
        ctx.refresh(self.project_id)
        return entry


@dataclass(frozen=True, slots=True)
class RenameProject(Operation["ProjectEntry"]):
    project_id: str
    name: str

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        entry = ctx.workspace.rename_project(self.project_id, self.name)
        ctx.workspace_changed()
        return entry


@dataclass(frozen=True, slots=True)
class AddAccount(Operation["Account"]):
    server_url: str
    email: str
    display_name: str = ""

    def run(self, ctx: WriterContext, /) -> Account:
        account = ctx.workspace.add_account(self.server_url, self.email, self.display_name)
        ctx.workspace_changed()
        return account


@dataclass(frozen=True, slots=True)
class RemoveAccount(Operation["Account"]):
    """Remove an account and its shares (signing out, i.e. dropping its tokens, is the
    credential store's: `gitwrite_desktop.core.credentials.Sessions.sign_out`)."""

    account_id: str

    def run(self, ctx: WriterContext, /) -> Account:
        account = ctx.workspace.remove_account(self.account_id)
        ctx.workspace_changed()
        return account


@dataclass(frozen=True, slots=True)
class ShareProject(Operation["Share"]):
    """Record that a project is shared through an account as ``repository``."""

    project_id: str
    account_id: str
    repository: str
    remote: str = "origin"

    def run(self, ctx: WriterContext, /) -> Share:
        share = ctx.workspace.share(self.project_id, self.account_id, self.repository, self.remote)
        ctx.workspace_changed()
        return share


@dataclass(frozen=True, slots=True)
class UnshareProject(Operation[None]):
    project_id: str
    account_id: str

    def run(self, ctx: WriterContext, /) -> None:
        ctx.workspace.unshare(self.project_id, self.account_id)
        ctx.workspace_changed()
