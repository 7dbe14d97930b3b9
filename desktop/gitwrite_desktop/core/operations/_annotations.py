"""Operations on annotations: annotate, reply, set a thread's status, apply a suggestion,
and find where an annotation's quote is now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite_desktop.core.operations._base import Operation

if TYPE_CHECKING:
    from gitwrite.annotations import Anchor, Annotation, AnnotationKind, AnnotationStatus
    from gitwrite.model import SaveInfo
    from gitwrite_desktop.core.context import WriterContext


@dataclass(frozen=True, slots=True)
class Annotate(Operation["Annotation"]):
    """Annotate ``[start, end)`` of a file as it is in the save ``at`` (default: last)."""

    project_id: str
    path: str
    start: int
    end: int
    kind: AnnotationKind | str
    body: str
    suggestion: str | None = None
    at: str | None = None

    def run(self, ctx: WriterContext, /) -> Annotation:
        with ctx.tracked(self.project_id, text=False) as project:
            return project.annotations.create(
                self.path,
                self.start,
                self.end,
                kind=self.kind,
                body=self.body,
                suggestion=self.suggestion,
                at=self.at,
            )


@dataclass(frozen=True, slots=True)
class Reply(Operation["Annotation"]):
    project_id: str
    parent_id: str
    body: str

    def run(self, ctx: WriterContext, /) -> Annotation:
        with ctx.tracked(self.project_id, text=False) as project:
            return project.annotations.reply(self.parent_id, self.body)


@dataclass(frozen=True, slots=True)
class SetStatus(Operation["Annotation"]):
    """Open, accept, reject or resolve a thread."""

    project_id: str
    annotation_id: str
    status: AnnotationStatus | str

    def run(self, ctx: WriterContext, /) -> Annotation:
        with ctx.tracked(self.project_id, text=False) as project:
            return project.annotations.set_status(self.annotation_id, self.status)


@dataclass(frozen=True, slots=True)
class ApplySuggestion(Operation["SaveInfo"]):
    """Put a suggestion's text in place of its quote, save, and mark it accepted."""

    project_id: str
    annotation_id: str

    def run(self, ctx: WriterContext, /) -> SaveInfo:
        with ctx.tracked(self.project_id) as project:
            return project.annotations.apply_suggestion(self.annotation_id)


@dataclass(frozen=True, slots=True)
class AnchorAnnotations(Operation["list[Anchor]"]):
    """Where the quotes of a file's annotations are now in the text on disk (for the
    editor's margin); threads only, in the order of the index."""

    project_id: str
    path: str

    def run(self, ctx: WriterContext, /) -> list[Anchor]:
        project = ctx.project(self.project_id)
        anchors = []
        for thread in project.annotations.list(self.path):
            ctx.check_cancelled()
            anchors.append(project.annotations.anchor(thread.annotation))
        return anchors
