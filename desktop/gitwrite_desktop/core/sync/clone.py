"""Making a project from a server's repository (the writer-thread half of a clone).

The engine fetches everything (one request); `CloneInto` then, on the writer thread,
makes the repository, stores the pack, mirrors the server's refs, creates every branch,
milestone and the annotations ref, checks out the main story (or the first exploration)
file by file with progress, adds the project to the workspace with its share, and
records the sync state. A repository with no saves yet becomes a new project whose
first save the engine then pushes. On any failure the folder is left as it was (made
and removed again, or emptied if it was an empty folder).
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.objects import Blob, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite.model import Author
from gitwrite.project import Project
from gitwrite.protocol import ZERO_ID
from gitwrite_desktop.core.operations import Operation
from gitwrite_desktop.core.sync.errors import FolderNotEmpty
from gitwrite_desktop.core.sync.operations import (
    FetchedPack,
    Internal,
    record_state,
    store_fetched,
)
from gitwrite_desktop.core.sync.workfolder import index_paths
from gitwrite_desktop.core.workspace import absolute

if TYPE_CHECKING:
    from pathlib import Path

    from gitwrite_desktop.core.context import WriterContext
    from gitwrite_desktop.core.workspace import Account, ProjectEntry


class ClonePhase(enum.StrEnum):
    CONNECTING = "connecting"
    RECEIVING = "receiving"
    WRITING = "writing files"
    INDEXING = "indexing"
    DONE = "done"


Progress = Callable[[ClonePhase, int, int], None]
"""``progress(phase, done, total)``: called on the engine's thread or the writer's."""


def _kept(ref: str) -> bool:
    return ref.startswith(("refs/heads/", "refs/tags/")) or ref == "refs/gitwrite/annotations"


@dataclass(frozen=True, slots=True)
class CloneInto(Operation["ProjectEntry"], Internal):
    folder: str | Path
    name: str | None
    account: Account
    repository: str
    fetched: FetchedPack
    default_branch: str = "main"
    remote: str = "origin"
    progress: Progress | None = field(default=None, compare=False)

    def _report(self, phase: ClonePhase, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def run(self, ctx: WriterContext, /) -> ProjectEntry:
        root = absolute(self.folder)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise FolderNotEmpty(str(root))
        made = not root.exists()
        try:
            self._make(root)
        except BaseException:
            if made:
                shutil.rmtree(root, ignore_errors=True)
            elif root.is_dir():
                for child in root.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
            raise
        entry = ctx.workspace.add_project(root, self.name)
        share = ctx.workspace.share(entry.id, self.account.id, self.repository, self.remote)
        ctx.workspace_changed()
        self._report(ClonePhase.INDEXING, 0, 1)
        try:
            project = ctx.project(entry.id)
            ctx.refresh(entry.id)
            record_state(ctx, project, share, self.fetched.seq)
        finally:
            ctx.close_project(entry.id)
        self._report(ClonePhase.DONE, 1, 1)
        return entry

    def _make(self, root: Path) -> None:
        author = Author(self.account.display_name, self.account.email)
        refs = {r: s for r, s in self.fetched.refs.items() if s != ZERO_ID and _kept(r)}
        branches = sorted(r for r in refs if r.startswith("refs/heads/"))
        if not branches:  # nothing saved there yet: a new project, pushed by the engine
            Project.create(root, author=author).close()
            return
        wanted = f"refs/heads/{self.default_branch}"
        head = wanted if wanted in refs else branches[0]
        root.mkdir(parents=True, exist_ok=True)
        repo = Repo.init(str(root), default_branch=head.removeprefix("refs/heads/").encode())
        config = repo.get_config()
        config.set((b"core",), b"autocrlf", b"false")
        config.write_to_path()
        with Project(repo) as project:
            project.set_author(author)
            store_fetched(project, self.remote, self.repository, self.fetched)
            for ref, sha in refs.items():
                repo.refs.add_if_new(Ref(ref.encode()), ObjectID(sha.encode()))
            self._checkout(project)

    def _checkout(self, project: Project) -> None:
        entries = project.head_entries()
        total = len(entries)
        store = project.repo.object_store
        self._report(ClonePhase.WRITING, 0, total)
        for done, (path, (_, sha)) in enumerate(sorted(entries.items()), 1):
            blob = store[sha]
            assert isinstance(blob, Blob)
            project.write_files({path: blob.data})
            self._report(ClonePhase.WRITING, done, total)
        index_paths(project, entries, sorted(entries))
