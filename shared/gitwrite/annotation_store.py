"""Annotations as JSON files on their own ref, ``refs/gitwrite/annotations``.

The ref points at a commit whose tree holds one JSON file per record; every write is a
new commit on top of the last, so the ref keeps the history of every annotation::

    annotations/<id[:2]>/<id>.json                    an annotation, or a reply
    status/<id[:2]>/<id>/<change id>.json             one status change of annotation <id>

Records are never rewritten: creating, replying and changing a status each add a new
file. Two writers who annotate, reply or change statuses offline therefore touch
different paths, and merging their refs is a union of files that never conflicts. The
status of an annotation is that of its latest status change: each change lists the
changes it supersedes (those its author had seen), so a later decision wins whatever
the clocks say; between changes made without seeing each other, the later ``time``
wins, then the greater id, so every replica agrees.

Reading is forgiving: a file that is not valid JSON of the right shape, sits at a path
that does not match its id, or comes from a newer format is skipped with a logged
warning and reported by `Snapshot.problems`; listing never fails because of it.
Writing never touches the working folder or the index: objects are added, then the ref
moves by compare-and-swap, and a lost race raises `AnnotationsMoved`.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import msgspec
from dulwich.object_store import commit_tree_changes, iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref

# Range and Author are needed at run time: msgspec reads the Structs' annotations.
from gitwrite.anchoring import Range
from gitwrite.errors import AnnotationsMoved, GitWriteError, UnreadableAnnotation
from gitwrite.model import Author
from gitwrite.paths import check_path

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gitwrite.project import Project

log = logging.getLogger(__name__)

REF = Ref(b"refs/gitwrite/annotations")
FORMAT = 1
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
Id = Annotated[str, msgspec.Meta(pattern=f"^{UUID}$")]
SaveId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{40}$")]
Time = Annotated[datetime, msgspec.Meta(tz=True)]
_ANNOTATION_PATH = re.compile(rf"^annotations/(?P<fan>[0-9a-f]{{2}})/(?P<id>{UUID})\.json$")
_STATUS_PATH = re.compile(
    rf"^status/(?P<fan>[0-9a-f]{{2}})/(?P<annotation>{UUID})/(?P<id>{UUID})\.json$"
)


class AnnotationKind(enum.StrEnum):
    COMMENT = "comment"
    SUGGESTION = "suggestion"
    QUESTION = "question"
    CORRECTION = "correction"


class AnnotationStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RESOLVED = "resolved"


class Annotation(msgspec.Struct, tag="annotation", tag_field="type", frozen=True, kw_only=True):
    """One annotation, or one reply (``parent`` set) in an annotation's thread.

    ``save`` is the save the range and quote refer to. A reply carries its thread's
    path, save, range and quote so that every file can be indexed on its own. Read back
    through `gitwrite.annotations.Annotations`, ``status`` is the thread's current one.
    """

    id: Id
    path: str
    save: SaveId
    range: Range
    quote: str
    kind: AnnotationKind
    status: AnnotationStatus
    author: Author
    time: Time
    body: str
    parent: Id | None = None
    suggestion: str | None = None
    format: int = FORMAT

    def __post_init__(self) -> None:
        try:
            check_path(self.path)
        except GitWriteError as exc:
            raise ValueError(str(exc)) from exc
        if len(self.quote) != self.range.end - self.range.start:
            raise ValueError("the quote's length does not match the range")
        if (self.suggestion is None) == (self.kind is AnnotationKind.SUGGESTION):
            raise ValueError("a suggestion, and only a suggestion, has proposed text")
        if self.parent is not None and self.kind is not AnnotationKind.COMMENT:
            raise ValueError("a reply is a comment")


class StatusChange(msgspec.Struct, tag="status", tag_field="type", frozen=True, kw_only=True):
    """One change of an annotation's status; ``supersedes`` lists the changes seen."""

    id: Id
    annotation: Id
    status: AnnotationStatus
    author: Author
    time: Time
    supersedes: tuple[Id, ...] = ()
    format: int = FORMAT


Record = Annotation | StatusChange


def record_path(record: Record) -> str:
    if isinstance(record, Annotation):
        return f"annotations/{record.id[:2]}/{record.id}.json"
    return f"status/{record.annotation[:2]}/{record.annotation}/{record.id}.json"


def encode(record: Record) -> bytes:
    """A record's file: indented JSON (readable with ``git show``) and a final newline."""
    return msgspec.json.format(msgspec.json.encode(record), indent=2) + b"\n"


@dataclass(frozen=True, slots=True)
class Problem:
    """A file on the annotations ref that could not be read, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class Snapshot:
    """Every record on the ref at one commit (``head``; None before the first annotation)."""

    head: ObjectID | None
    annotations: dict[str, Annotation] = field(default_factory=dict)
    changes: dict[str, list[StatusChange]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def latest_changes(self, annotation_id: str) -> list[StatusChange]:
        """The status changes no other change supersedes (usually one; more after a merge)."""
        changes = self.changes.get(annotation_id, [])
        superseded = {s for change in changes for s in change.supersedes}
        return [c for c in changes if c.id not in superseded] or changes

    def status_of(self, annotation_id: str) -> AnnotationStatus:
        """An annotation's current status (a reply's is its thread's)."""
        record = self.annotations[annotation_id]
        if record.parent is not None and record.parent in self.annotations:
            return self.status_of(record.parent)
        latest = self.latest_changes(annotation_id)
        if not latest:
            return record.status
        return max(latest, key=lambda c: (c.time, c.id)).status

    def current(self, annotation_id: str) -> Annotation:
        """The annotation with its current status; KeyError when there is none."""
        record = self.annotations[annotation_id]
        status = self.status_of(annotation_id)
        return record if status is record.status else msgspec.structs.replace(record, status=status)


def decode_record(data: bytes, kind: type[Record]) -> Record | str:
    """A record file's content decoded as ``kind``, or the reason it cannot be."""
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.DecodeError as exc:
        return str(exc)


def add_file(snapshot: Snapshot, path: str, decode: Callable[[type[Record]], Record | str]) -> None:
    """Add the record in the file at ``path`` to ``snapshot`` (or a `Problem` saying why
    it cannot be read). ``decode(kind)`` reads the file as that kind (`decode_record`).

    Used for every file of the ref, here and by the server, so both read the same format.
    """
    match = _ANNOTATION_PATH.match(path) or _STATUS_PATH.match(path)
    if match is None:
        log.debug("ignoring %s on the annotations ref: not a path this format uses", path)
        return
    record = decode(Annotation if path.startswith("annotations/") else StatusChange)
    if isinstance(record, str):
        snapshot.problems.append(Problem(path, record))
    elif record.format > FORMAT:
        snapshot.problems.append(Problem(path, "written by a newer version of GitWrite"))
    elif record.id != match["id"]:
        snapshot.problems.append(Problem(path, "the file's name does not match its id"))
    elif isinstance(record, Annotation):
        if match["fan"] != record.id[:2]:
            snapshot.problems.append(Problem(path, "the folder does not match its id"))
        else:
            snapshot.annotations[record.id] = record
    elif record.annotation != match["annotation"] or match["fan"] != record.annotation[:2]:
        snapshot.problems.append(Problem(path, "the folder does not match its annotation"))
    else:
        snapshot.changes.setdefault(record.annotation, []).append(record)


class AnnotationStore:
    """Reads and writes the annotations ref of one project."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._decoded: dict[ObjectID, Record | str] = {}
        self._snapshot: Snapshot | None = None

    def head(self) -> ObjectID | None:
        try:
            return self.project.repo.refs[REF]
        except KeyError:
            return None

    def snapshot(self) -> Snapshot:
        """The records at the ref's current commit (cached while the ref does not move)."""
        head = self.head()
        if self._snapshot is not None and self._snapshot.head == head:
            return self._snapshot
        snapshot = Snapshot(head)
        if head is not None:
            for path, sha in self._files(head):
                self._read(snapshot, path, sha)
        for problem in snapshot.problems:
            log.warning("skipping annotation file %s: %s", problem.path, problem.reason)
        self._snapshot = snapshot
        return snapshot

    def _files(self, head: ObjectID) -> list[tuple[str, ObjectID]]:
        store = self.project.repo.object_store
        commit = store[head]
        if not isinstance(commit, Commit):
            raise UnreadableAnnotation(REF.decode(), "the ref does not point at a commit")
        return [
            (entry.path.decode("utf-8", "replace"), entry.sha)
            for entry in iter_tree_contents(store, commit.tree)
            if entry.path is not None and entry.sha is not None and entry.mode == 0o100644
        ]

    def _read(self, snapshot: Snapshot, path: str, sha: ObjectID) -> None:
        add_file(snapshot, path, lambda kind: self._decode(sha, kind))

    def _decode(self, sha: ObjectID, kind: type[Record]) -> Record | str:
        """A blob decoded as ``kind``, or the reason it cannot be (cached: blobs never change)."""
        cached = self._decoded.get(sha)
        if cached is None or (not isinstance(cached, str) and not isinstance(cached, kind)):
            blob = self.project.repo.object_store[sha]
            assert isinstance(blob, Blob)
            cached = decode_record(blob.data, kind)
            if len(self._decoded) > 100_000:
                self._decoded.clear()
            self._decoded[sha] = cached
        return cached

    def write(self, expected: ObjectID | None, records: Sequence[Record], message: str) -> None:
        """Add ``records`` as new files in one commit on top of ``expected``.

        Raises `AnnotationsMoved` when the ref no longer points at ``expected`` (someone
        else wrote since it was read): nothing is then changed but unreferenced objects.
        """
        store = self.project.repo.object_store
        if expected is None:
            base = Tree()
        else:
            parent = store[expected]
            assert isinstance(parent, Commit)
            tree = store[parent.tree]
            assert isinstance(tree, Tree)
            base = Tree.from_string(tree.as_raw_string())
        changes: list[tuple[bytes, int | None, ObjectID | None]] = []
        for record in records:
            blob = Blob.from_string(encode(record))
            store.add_object(blob)
            changes.append((record_path(record).encode(), 0o100644, blob.id))
        commit = Commit()
        commit.tree = commit_tree_changes(store, base, changes)
        commit.parents = [expected] if expected is not None else []
        commit.author = commit.committer = self.project.author.identity()
        now = int(time.time())
        commit.author_time = commit.commit_time = now
        commit.author_timezone = commit.commit_timezone = time.localtime(now).tm_gmtoff
        commit.encoding = b"UTF-8"
        commit.message = message.encode("utf-8") + b"\n"
        store.add_object(commit)
        refs = self.project.repo.refs
        moved = (
            refs.add_if_new(REF, commit.id)
            if expected is None
            else refs.set_if_equals(REF, expected, commit.id)
        )
        if not moved:
            actual = self.head()
            raise AnnotationsMoved(
                expected.decode() if expected else None, actual.decode() if actual else None
            )
