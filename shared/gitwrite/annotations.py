"""Annotations: comments, suggestions, questions and corrections on a file's text.

An annotation is made on a range of a file as it is in a save (by default the last
save), quoting the text it covers; replies form a thread under it; the thread has a
status (open, accepted, rejected, resolved). Each is stored as its own JSON file on the
ref ``refs/gitwrite/annotations`` (see `gitwrite.annotation_store` for the layout and
why it merges without conflicts) and never touches the working folder or the index.

As the writer edits, `Annotations.anchor` finds the quoted text again in the current
text on disk (see `gitwrite.anchoring`); a file renamed since the annotation was made
is followed when exactly one new file holds the quote. `Annotations.apply_suggestion`
puts a suggestion's proposed text in place of the quote and saves it as a normal save.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import msgspec

from gitwrite.anchoring import Anchor, find_quote, text_range
from gitwrite.annotation_store import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    AnnotationStore,
    Problem,
    Snapshot,
    StatusChange,
)
from gitwrite.errors import (
    AnnotationError,
    InvalidAnnotation,
    InvalidRange,
    QuoteNotFound,
    UnknownAnnotation,
    UnreadableAnnotation,
)
from gitwrite.paths import check_path
from gitwrite.texts import decode_text

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterable

    from gitwrite.model import SaveInfo
    from gitwrite.project import Project

__all__ = [
    "Anchor",
    "Annotation",
    "AnnotationKind",
    "AnnotationStatus",
    "Annotations",
    "Problem",
    "Thread",
]

E = TypeVar("E", bound=enum.StrEnum)


class Thread(msgspec.Struct, frozen=True, kw_only=True):
    """A top-level annotation and its replies, oldest first."""

    annotation: Annotation
    replies: tuple[Annotation, ...] = ()

    @property
    def id(self) -> str:
        return self.annotation.id

    @property
    def status(self) -> AnnotationStatus:
        return self.annotation.status


class Annotations:
    """The annotations of one project (``project.annotations``)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.store = AnnotationStore(project)

    # -- writing --------------------------------------------------------------------

    def create(
        self,
        path: str,
        start: int,
        end: int,
        *,
        kind: AnnotationKind | str,
        body: str,
        suggestion: str | None = None,
        at: str | None = None,
    ) -> Annotation:
        """Annotate ``[start, end)`` of ``path`` as it is in the save ``at`` (default: last).

        ``suggestion`` is the proposed text, required for (and only for) a suggestion; it
        may be empty to propose deleting the quote. The body may be empty only for a
        suggestion. Raises `InvalidRange`, `InvalidAnnotation`, `UnknownFile` or
        `UnknownRevision`; nothing is written then.
        """
        kind = _choice(AnnotationKind, kind, "kind")
        path = check_path(path)
        commit = self.project.commit(at)
        text = decode_text(self.project.read_bytes(path, commit.id.decode()))
        if text is None:
            raise InvalidAnnotation("path", path, "is not a text file")
        _check_range(path, start, end, len(text))
        if kind is AnnotationKind.SUGGESTION:
            if not isinstance(suggestion, str):
                raise InvalidAnnotation("suggestion", suggestion, "a suggestion needs its text")
            if suggestion == text[start:end]:
                raise InvalidAnnotation("suggestion", suggestion, "it is the text already there")
        elif suggestion is not None:
            raise InvalidAnnotation("suggestion", suggestion, f"a {kind} proposes no text")
        _check_body(body, required=kind is not AnnotationKind.SUGGESTION)
        snapshot = self.store.snapshot()
        record = Annotation(
            id=_new_id(),
            path=path,
            save=commit.id.decode(),
            range=text_range(text, start, end),
            quote=text[start:end],
            kind=kind,
            status=AnnotationStatus.OPEN,
            author=self.project.author,
            time=_now(),
            body=body,
            suggestion=suggestion,
        )
        lines = f"{record.range.start_line}-{record.range.end_line}"
        self.store.write(snapshot.head, [record], f"Add a {kind} on {path} (lines {lines})")
        return record

    def reply(self, parent_id: str, body: str) -> Annotation:
        """Reply in a thread; replying to a reply adds to the same thread."""
        snapshot = self.store.snapshot()
        root = self._current(snapshot, parent_id)
        if root.parent is not None:
            root = self._current(snapshot, root.parent)
        _check_body(body, required=True)
        record = Annotation(
            id=_new_id(),
            path=root.path,
            save=root.save,
            range=root.range,
            quote=root.quote,
            kind=AnnotationKind.COMMENT,
            status=AnnotationStatus.OPEN,
            author=self.project.author,
            time=_now(),
            body=body,
            parent=root.id,
        )
        self.store.write(snapshot.head, [record], f"Reply to {root.id[:8]} on {root.path}")
        return msgspec.structs.replace(record, status=root.status)

    def set_status(self, annotation_id: str, status: AnnotationStatus | str) -> Annotation:
        """Set a thread's status; setting the status it already has writes nothing."""
        status = _choice(AnnotationStatus, status, "status")
        snapshot = self.store.snapshot()
        record = self._current(snapshot, annotation_id)
        if record.parent is not None:
            raise AnnotationError(
                "a reply has no status of its own: change the status of its thread"
            )
        if record.status is status:
            return record
        change = StatusChange(
            id=_new_id(),
            annotation=record.id,
            status=status,
            author=self.project.author,
            time=_now(),
            supersedes=tuple(sorted(c.id for c in snapshot.latest_changes(record.id))),
        )
        self.store.write(snapshot.head, [change], f"Mark {record.id[:8]} as {status}")
        return msgspec.structs.replace(record, status=status)

    # -- reading --------------------------------------------------------------------

    def get(self, annotation_id: str) -> Annotation:
        """One annotation or reply, with its thread's current status."""
        return self._current(self.store.snapshot(), annotation_id)

    def thread(self, annotation_id: str) -> Thread:
        """The thread an annotation or reply belongs to."""
        snapshot = self.store.snapshot()
        record = self._current(snapshot, annotation_id)
        root = self._current(snapshot, record.parent) if record.parent else record
        replies = [snapshot.current(r.id) for r in snapshot.annotations.values() if r.parent]
        return Thread(
            annotation=root, replies=tuple(_by_time(r for r in replies if r.parent == root.id))
        )

    def list(
        self, path: str | None = None, status: AnnotationStatus | str | None = None
    ) -> list[Thread]:
        """Threads (top-level annotations with their replies), by file and position.

        Files on the ref that cannot be read are skipped (logged; see `problems`).
        """
        wanted = _choice(AnnotationStatus, status, "status") if status is not None else None
        where = check_path(path) if path is not None else None
        snapshot = self.store.snapshot()
        replies: dict[str, list[Annotation]] = {}
        roots = []
        for record in snapshot.annotations.values():
            if record.parent is None:
                roots.append(snapshot.current(record.id))
            else:
                replies.setdefault(record.parent, []).append(snapshot.current(record.id))
        roots.sort(key=lambda a: (a.path, a.range.start, a.time, a.id))
        return [
            Thread(annotation=root, replies=tuple(_by_time(replies.get(root.id, []))))
            for root in roots
            if (where is None or root.path == where) and (wanted is None or root.status is wanted)
        ]

    def problems(self) -> builtins.list[Problem]:
        """Files on the annotations ref that could not be read, and why."""
        return list(self.store.snapshot().problems)

    def _current(self, snapshot: Snapshot, annotation_id: str) -> Annotation:
        try:
            return snapshot.current(annotation_id)
        except KeyError:
            for problem in snapshot.problems:
                if problem.path.startswith("annotations/") and problem.path.endswith(
                    f"/{annotation_id}.json"
                ):
                    raise UnreadableAnnotation(problem.path, problem.reason) from None
            raise UnknownAnnotation(str(annotation_id)) from None

    # -- anchoring and applying -----------------------------------------------------

    def anchor(self, annotation: Annotation | str) -> Anchor:
        """Where the annotation's quoted text is now in the text on disk."""
        record = annotation if isinstance(annotation, Annotation) else self.get(annotation)
        return find_quote(self.project, record)

    def apply_suggestion(self, annotation_id: str) -> SaveInfo:
        """Replace the quoted text with the suggestion, save, and mark it accepted.

        Refused (nothing changed) when the annotation is not an open suggestion, when
        its file has unsaved changes (`UnsavedChanges`), or when the quote cannot be
        found (`QuoteNotFound`).
        """
        record = self.get(annotation_id)
        if record.kind is not AnnotationKind.SUGGESTION or record.suggestion is None:
            raise AnnotationError(f"only a suggestion can be applied; this is a {record.kind}")
        if record.status is not AnnotationStatus.OPEN:
            raise AnnotationError(f"this suggestion is {record.status}, not open")
        if (self.project.root / record.path).is_file():
            self.project.require_saved("apply this suggestion", [record.path])
        anchor = self.anchor(record)
        if not anchor.found or anchor.range is None:
            raise QuoteNotFound(record.id, record.path, record.quote)
        if anchor.path != record.path:
            self.project.require_saved("apply this suggestion", [anchor.path])
        original = self.project.read_bytes(anchor.path)
        try:
            text = original.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnnotationError(f"{anchor.path} is not UTF-8 text") from exc
        start, end = anchor.range.start, anchor.range.end
        if text[start:end] != record.quote:  # the file changed while anchoring
            raise QuoteNotFound(record.id, anchor.path, record.quote)
        changed = text[:start] + record.suggestion + text[end:]
        self.project.write_files({anchor.path: changed.encode("utf-8")})
        try:
            saved = self.project.save(_apply_message(record, anchor.path), paths=[anchor.path])
        except BaseException:
            self.project.write_files({anchor.path: original})
            raise
        self.set_status(record.id, AnnotationStatus.ACCEPTED)
        return saved


def _apply_message(record: Annotation, path: str) -> str:
    def short(text: str) -> str:
        flat = " ".join(text.split())
        return flat if len(flat) <= 40 else flat[:37] + "..."

    assert record.suggestion is not None
    return (
        f'{path}: apply the suggestion of {record.author.name}: "{short(record.quote)}" → '
        f'"{short(record.suggestion)}"\n\nAnnotation: {record.id}'
    )


def _choice(enum_type: type[E], value: object, field: str) -> E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise InvalidAnnotation(field, value, f"must be one of {allowed}") from None


def _check_range(path: str, start: int, end: int, length: int) -> None:
    if not all(type(v) is int for v in (start, end)):
        raise InvalidAnnotation("range", (start, end), "offsets must be whole numbers")
    if start < 0 or end > length:
        raise InvalidRange(path, start, end, length, f"the text has {length} characters")
    if end <= start:
        raise InvalidRange(path, start, end, length, "select some text (the range is empty)")


def _check_body(body: object, *, required: bool) -> None:
    if not isinstance(body, str):
        raise InvalidAnnotation("body", body, "must be text")
    if required and not body.strip():
        raise InvalidAnnotation("body", body, "write something")


def _by_time(records: Iterable[Annotation]) -> list[Annotation]:
    return sorted(records, key=lambda a: (a.time, a.id))


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now().astimezone()
