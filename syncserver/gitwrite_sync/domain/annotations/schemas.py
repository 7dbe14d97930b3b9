"""Request and response bodies of annotations.

Annotations are answered in the very format of the files on ``refs/gitwrite/annotations``
(`gitwrite.annotation_store.Annotation`), with the thread's current status.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from gitwrite.annotation_store import Annotation, AnnotationKind, AnnotationStatus

Body = Annotated[str, msgspec.Meta(max_length=20_000)]


class Thread(msgspec.Struct, frozen=True):
    """An annotation and its replies, oldest first."""

    annotation: Annotation
    replies: list[Annotation]


class ThreadPage(msgspec.Struct, frozen=True):
    items: list[Thread]
    total: int
    """Threads matching the filters, on every page."""
    page: int
    next: str | None
    """The URL of the next page; None on the last page."""


class CreateAnnotation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    path: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    start: Annotated[int, msgspec.Meta(ge=0)]
    """Offset of the first character, in Unicode code points of the file's text."""
    end: Annotated[int, msgspec.Meta(ge=0)]
    """Offset just after the last character."""
    kind: AnnotationKind
    body: Body = ""
    """Required, except for a suggestion."""
    suggestion: Annotated[str, msgspec.Meta(max_length=100_000)] | None = None
    """The proposed text: required for a suggestion (may be empty: delete), else absent."""
    at: Annotated[str, msgspec.Meta(max_length=400)] | None = None
    """The save whose text the offsets refer to (default: the main story's last save)."""


class CreateReply(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    body: Body


class ChangeStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    status: AnnotationStatus


__all__ = [
    "Annotation",
    "ChangeStatus",
    "CreateAnnotation",
    "CreateReply",
    "Thread",
    "ThreadPage",
]
