"""Keeping the cache in step with the repositories: refresh one project, rebuild all.

`Indexer.refresh` brings one project's rows up to date cheaply (files whose stat
changed, the annotations when their ref moved, saves not walked yet) and says what
changed. `Indexer.rebuild` empties every derived table and refreshes every project the
workspace can open, which is also how a new or replaced cache file is filled.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gitwrite.errors import GitWriteError
from gitwrite_desktop.core.annotation_index import AnnotationIndex
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.syncstate import SyncStates
from gitwrite_desktop.core.textindex import TextIndex
from gitwrite_desktop.core.words import SaveLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gitwrite.project import Project
    from gitwrite_desktop.core.cache import Cache
    from gitwrite_desktop.core.workspace import Workspace

log = logging.getLogger(__name__)


class Indexer:
    """Refreshes the cache from projects (worker thread)."""

    def __init__(self, cache: Cache, workspace: Workspace) -> None:
        self.cache = cache
        self.workspace = workspace

    def refresh(
        self,
        project_id: str,
        project: Project,
        *,
        paths: Iterable[str] | None = None,
        text: bool = True,
        annotations: bool = True,
        saves: bool = True,
        sync: bool = False,
    ) -> Changes:
        """Refresh what is asked for one open project; returns what changed in it."""
        db = self.cache.db
        files: set[str] = set()
        annotated: set[str] = set()
        new_saves = 0
        synced = False
        if text:
            files = TextIndex(db, project_id).refresh(project, paths)
        if annotations:
            annotated = AnnotationIndex(db, project_id).refresh(project)
        if saves:
            new_saves = SaveLog(db, project_id).refresh(project)
        if sync:
            states = SyncStates(db)
            for share in self.workspace.shares(project_id):
                states.rebuild(project, share)
                synced = True
        return Changes(
            files=frozenset((project_id, p) for p in files),
            annotations=frozenset((project_id, a) for a in annotated),
            index=frozenset({project_id}) if files or annotated or new_saves else frozenset(),
            sync=frozenset({project_id}) if synced else frozenset(),
        )

    def rebuild(
        self,
        open_project: Callable[[str], Project],
        *,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Changes:
        """Refill the cache from the workspace and every project that can be opened.

        Projects that cannot be opened (moved, vanished, in use elsewhere) are skipped
        and logged; they are indexed when next opened. ``progress(done, total)`` is called
        after each project; ``cancelled()`` is checked between projects (a cancelled
        rebuild leaves a consistent, partly filled cache that refreshes fill in later).
        """
        self.cache.mirror_workspace(self.workspace.snapshot())
        self.cache.clear_derived()
        changes = Changes(workspace=True)
        entries = self.workspace.projects()
        for done, entry in enumerate(entries, 1):
            if cancelled():
                break
            try:
                project = open_project(entry.id)
                changes |= self.refresh(entry.id, project, sync=True)
            except GitWriteError as exc:
                log.info("not indexing %s now: %s", entry.path, exc)
            changes |= Changes(index=frozenset({entry.id}))
            if progress is not None:
                progress(done, len(entries))
        return changes
