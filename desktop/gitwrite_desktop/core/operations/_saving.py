"""Operations on a project's text and history: write, save, autosave, history, compare,
restore and undo."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite.errors import MergeInProgress, NothingToSave
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.operations._base import Operation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitwrite.model import FileComparison, SaveInfo, Status
    from gitwrite_desktop.core.context import WriterContext


@dataclass(frozen=True, slots=True)
class ReadFile(Operation[str]):
    """A file's text on disk (``at`` None) or at a save, exploration or milestone."""

    project_id: str
    path: str
    at: str | None = None

    def run(self, ctx: WriterContext, /) -> str:
        return ctx.project(self.project_id).read(self.path, self.at)


@dataclass(frozen=True, slots=True)
class WriteFiles(Operation[None]):
    """Write the editor's text to disk (atomically per file; None deletes) and index it."""

    project_id: str
    texts: Mapping[str, str | None]

    def run(self, ctx: WriterContext, /) -> None:
        project = ctx.project(self.project_id)
        project.write_files(
            {p: (t.encode("utf-8") if t is not None else None) for p, t in self.texts.items()}
        )
        ctx.refresh(self.project_id, paths=list(self.texts))
        # The editor already shows this text: say the files changed even when the index
        # saw no difference (written twice), so every other view of them refreshes.
        ctx.note(Changes(files=frozenset((self.project_id, p) for p in self.texts)))


@dataclass(frozen=True, slots=True)
class GetStatus(Operation["Status"]):
    """What changed on disk since the last save, with words added and removed."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> Status:
        return ctx.project(self.project_id).status()


@dataclass(frozen=True, slots=True)
class Save(Operation["SaveInfo"]):
    """Save every change (or only ``paths``). Raises `NothingToSave`, `MergeInProgress`."""

    project_id: str
    message: str | None = None
    paths: tuple[str, ...] | None = None

    def run(self, ctx: WriterContext, /) -> SaveInfo:
        with ctx.tracked(self.project_id, text=False) as project:
            save = project.save(self.message or None, self.paths)
        return save


class Skipped(enum.StrEnum):
    NOTHING_CHANGED = "nothing changed"
    MERGE_IN_PROGRESS = "merge in progress"


@dataclass(frozen=True, slots=True)
class AutosaveResult:
    """An autosave's outcome: the save made, or why none was (never an error)."""

    save: SaveInfo | None
    skipped: Skipped | None = None


@dataclass(frozen=True, slots=True)
class Autosave(Operation[AutosaveResult]):
    """Save if anything changed; skip quietly when nothing did or while a merge waits
    (a plain save is refused then). The caller debounces (a timer after typing stops)."""

    project_id: str
    message: str | None = None

    def run(self, ctx: WriterContext, /) -> AutosaveResult:
        with ctx.tracked(self.project_id, text=False) as project:
            try:
                save = project.save(self.message or None)
            except NothingToSave:
                return AutosaveResult(None, Skipped.NOTHING_CHANGED)
            except MergeInProgress:
                return AutosaveResult(None, Skipped.MERGE_IN_PROGRESS)
        return AutosaveResult(save)


@dataclass(frozen=True, slots=True)
class History(Operation["list[SaveInfo]"]):
    """One page of saves, newest first (``page`` from 0), optionally of one file."""

    project_id: str
    page: int = 0
    page_size: int = 50
    path: str | None = None
    start: str | None = None

    def run(self, ctx: WriterContext, /) -> list[SaveInfo]:
        return ctx.project(self.project_id).history(
            self.page_size, skip=self.page * self.page_size, start=self.start, path=self.path
        )


@dataclass(frozen=True, slots=True)
class Compare(Operation["list[FileComparison]"]):
    """Word-level changes from ``old`` (default: last save) to ``new`` (default: disk)."""

    project_id: str
    old: str | None = None
    new: str | None = None
    paths: tuple[str, ...] | None = None

    def run(self, ctx: WriterContext, /) -> list[FileComparison]:
        return ctx.project(self.project_id).compare(self.old, self.new, self.paths)


@dataclass(frozen=True, slots=True)
class Restore(Operation["SaveInfo"]):
    """Bring back files (or everything) as they were at a save, as a new save."""

    project_id: str
    at: str
    paths: tuple[str, ...] | None = None
    message: str | None = None

    def run(self, ctx: WriterContext, /) -> SaveInfo:
        with ctx.tracked(self.project_id) as project:
            save = project.restore(self.at, self.paths, self.message)
        return save


@dataclass(frozen=True, slots=True)
class UndoSave(Operation["SaveInfo"]):
    """Take back one save's changes with a new save (never rewrites history)."""

    project_id: str
    save: str
    message: str | None = None

    def run(self, ctx: WriterContext, /) -> SaveInfo:
        with ctx.tracked(self.project_id) as project:
            save = project.revert(self.save, self.message)
        return save
