"""What operations run with: the writer's context and the readers'.

`WriterContext` lives on the one writer thread. It owns the workspace record, the cache's
write connection, the indexer and every open `Project` (each with its lease, see
`gitwrite_desktop.core.recovery`). `WriterContext.tracked` wraps an operation's work on
a project and notes what it changed: refs that moved (compared before and after),
whether a merge began or ended, and what the index refresh found (files whose text
changed, annotations, new saves).

`ReaderContext` lives on a reader thread with its own read-only connection to the
cache, for queries (search as the writer types) that must not wait behind a save.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import TYPE_CHECKING

from gitwrite.project import Project
from gitwrite_desktop.core.cache import Cache, open_reader
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.indexer import Indexer
from gitwrite_desktop.core.recovery import GRACE_SECONDS, Lease, recover
from gitwrite_desktop.core.worker import Context
from gitwrite_desktop.core.workspace import Workspace

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlite_utils import Database

log = logging.getLogger(__name__)


def ref_values(project: Project) -> dict[str, str]:
    """Every ref with its id, and ``HEAD`` as ``<branch> <id>`` (switching moves it)."""
    values = {
        name.decode("utf-8", "surrogateescape"): sha.decode()
        for name, sha in project.repo.refs.as_dict().items()
        if name != b"HEAD" and sha is not None
    }
    head = project.head_id()
    values["HEAD"] = f"{project.head_ref.decode('utf-8', 'surrogateescape')} {head!r}"
    return values


def merging(project: Project) -> bool:
    return os.path.exists(os.path.join(project.repo.controldir(), "MERGE_HEAD"))


class WriterContext(Context):
    """The writer thread's context (see the module doc). Made on that thread."""

    def __init__(self, data_dir: Path, *, grace: float = GRACE_SECONDS) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.grace = grace
        self._open: dict[str, tuple[Project, Lease]] = {}
        self.recovered: dict[str, list[Path]] = {}
        """Project id → leftover files removed when it was opened (for a notice)."""
        self._lease = Lease.for_workspace(data_dir).acquire()  # or WorkspaceInUse
        try:
            self.workspace = Workspace(data_dir)
            self.cache = Cache.open(data_dir)
        except BaseException:
            self._lease.release()
            raise
        self.indexer = Indexer(self.cache, self.workspace)
        try:
            self._refill_workspace()
            self.cache.mirror_workspace(self.workspace.snapshot())
        except BaseException:
            self.close()
            raise

    def _refill_workspace(self) -> None:
        """After an unreadable workspace file was moved aside, take the cache's mirror."""
        if self.workspace.recovered_from is None or self.workspace.projects():
            return
        mirrored = self.cache.mirrored_record()
        if mirrored.projects or mirrored.accounts:
            log.warning("the workspace file was unreadable; refilled from the cache")
            self.workspace.restore(mirrored)

    @property
    def db(self) -> Database:
        return self.cache.db

    # -- projects -------------------------------------------------------------------

    def project(self, project_id: str) -> Project:
        """The open project (opened now if needed: lease, recovery, then the repository).

        Raises `UnknownProject`, `ProjectMissing`, `ProjectInUse` or `NotAProject`.
        """
        opened = self._open.get(project_id)
        if opened is not None:
            return opened[0]
        entry = self.workspace.require_available(project_id)
        root = Project.open(entry.path).root  # NotAProject before taking a lease
        lease = Lease(root).acquire()
        try:
            removed = recover(lease, grace=self.grace)
            if removed:
                self.recovered[project_id] = removed
            project = Project.open(root)
        except BaseException:
            lease.release()
            raise
        self._open[project_id] = (project, lease)
        return project

    def is_open(self, project_id: str) -> bool:
        return project_id in self._open

    def open_ids(self) -> set[str]:
        return set(self._open)

    def close_project(self, project_id: str) -> None:
        opened = self._open.pop(project_id, None)
        if opened is not None:
            project, lease = opened
            project.close()
            lease.release()

    @contextlib.contextmanager
    def tracked(
        self, project_id: str, *, text: bool = True, saves: bool = True
    ) -> Iterator[Project]:
        """Work on a project and note what changed in it (refs, merge, index).

        ``saves=False`` leaves the words-per-day rows of new saves to the next refresh
        that walks them (the sync engine's operations: walking history after each of the
        server's saves cost most of a busy sync's time).
        """
        project = self.project(project_id)
        refs_before, merging_before = ref_values(project), merging(project)
        yield project
        self.refresh(
            project_id,
            text=text,
            saves=saves,
            refs_before=refs_before,
            merging_before=merging_before,
        )

    def refresh(
        self,
        project_id: str,
        *,
        text: bool = True,
        saves: bool = True,
        paths: list[str] | None = None,
        refs_before: dict[str, str] | None = None,
        merging_before: bool | None = None,
    ) -> None:
        """Refresh a project's rows in the cache and note what changed."""
        project = self.project(project_id)
        changes = self.indexer.refresh(project_id, project, text=text, paths=paths, saves=saves)
        if refs_before is not None:
            after = ref_values(project)
            moved = {r for r in set(refs_before) | set(after) if refs_before.get(r) != after.get(r)}
            changes |= Changes(refs=frozenset((project_id, r) for r in moved))
        if merging_before is not None and merging_before != merging(project):
            changes |= Changes(merge=frozenset({project_id}))
        self.note(changes)

    # -- the workspace --------------------------------------------------------------

    def workspace_changed(self) -> None:
        """Mirror the workspace record in the cache and note the change."""
        for project_id in list(self._open):
            if project_id not in {p.id for p in self.workspace.projects()}:
                self.close_project(project_id)
        self.cache.mirror_workspace(self.workspace.snapshot())
        self.note(Changes(workspace=True))

    def close(self) -> None:
        try:
            for project_id in list(self._open):
                self.close_project(project_id)
            self.cache.close()
        finally:
            self._lease.release()


class ReaderContext(Context):
    """A reader thread's context: one read-only connection to the cache, opened once the
    writer has made (or upgraded) the file."""

    def __init__(self, cache_path: Path, writer_ready: threading.Event) -> None:
        super().__init__()
        self.cache_path = cache_path
        self._writer_ready = writer_ready
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._writer_ready.wait(60)
            self._db = open_reader(self.cache_path)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
