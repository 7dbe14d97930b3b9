"""Operations on explorations (branches), merges and milestones (tags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite_desktop.core.operations._base import Operation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gitwrite.explorations import Exploration
    from gitwrite.mergestate import MergeState
    from gitwrite.merging import MergeOutcome
    from gitwrite.milestones import Milestone
    from gitwrite.model import SaveInfo
    from gitwrite_desktop.core.context import WriterContext


@dataclass(frozen=True, slots=True)
class ListExplorations(Operation["list[Exploration]"]):
    project_id: str

    def run(self, ctx: WriterContext, /) -> list[Exploration]:
        return ctx.project(self.project_id).explorations.list()


@dataclass(frozen=True, slots=True)
class CreateExploration(Operation["Exploration"]):
    """Start an exploration at ``at`` (default: the last save), switching to it if asked."""

    project_id: str
    name: str
    at: str | None = None
    switch: bool = False

    def run(self, ctx: WriterContext, /) -> Exploration:
        with ctx.tracked(self.project_id) as project:
            return project.explorations.create(self.name, self.at, switch=self.switch)


@dataclass(frozen=True, slots=True)
class Switch(Operation["Exploration"]):
    """Make the working folder hold another exploration (refused with unsaved changes)."""

    project_id: str
    name: str

    def run(self, ctx: WriterContext, /) -> Exploration:
        with ctx.tracked(self.project_id) as project:
            return project.explorations.switch(self.name)


@dataclass(frozen=True, slots=True)
class Merge(Operation["MergeOutcome"]):
    """Merge an exploration into the current one: a merge save, or conflicts to resolve."""

    project_id: str
    name: str
    message: str | None = None

    def run(self, ctx: WriterContext, /) -> MergeOutcome:
        with ctx.tracked(self.project_id) as project:
            return project.explorations.merge(self.name, self.message)


@dataclass(frozen=True, slots=True)
class GetMergeState(Operation["MergeState | None"]):
    """The merge in progress with its conflicts, or None."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> MergeState | None:
        return ctx.project(self.project_id).explorations.merge_state()


@dataclass(frozen=True, slots=True)
class CompleteMerge(Operation["SaveInfo"]):
    """Write the writer's resolutions (path → text to keep) and make the merge save."""

    project_id: str
    resolutions: Mapping[str, str | bytes | None] | None = None
    message: str | None = None

    def run(self, ctx: WriterContext, /) -> SaveInfo:
        with ctx.tracked(self.project_id) as project:
            return project.explorations.complete_merge(self.resolutions, self.message)


@dataclass(frozen=True, slots=True)
class AbortMerge(Operation[None]):
    """Give up the merge in progress; the working folder goes back to the last save."""

    project_id: str

    def run(self, ctx: WriterContext, /) -> None:
        with ctx.tracked(self.project_id) as project:
            project.explorations.abort_merge()


@dataclass(frozen=True, slots=True)
class ListMilestones(Operation["list[Milestone]"]):
    project_id: str

    def run(self, ctx: WriterContext, /) -> list[Milestone]:
        return ctx.project(self.project_id).milestones.list()


@dataclass(frozen=True, slots=True)
class CreateMilestone(Operation["Milestone"]):
    """Mark a save (default: the last) as a milestone such as "sent to editor"."""

    project_id: str
    name: str
    message: str = ""
    at: str | None = None

    def run(self, ctx: WriterContext, /) -> Milestone:
        with ctx.tracked(self.project_id, text=False) as project:
            return project.milestones.create(self.name, self.message, self.at)
