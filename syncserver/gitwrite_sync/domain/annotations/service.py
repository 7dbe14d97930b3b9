"""Annotations over REST: list by file and status, one thread, create, reply, status.

The records are the desktop's (`gitwrite.annotation_store`): one JSON file per
annotation, reply and status change on ``refs/gitwrite/annotations``, read with the same
function (`add_file`), so what a desktop writes the server lists and the other way
round. Every write is one new commit on that ref through the sync service's push, with
the account as author; everyone on the project may annotate (beta readers too). Records
never conflict (each is a new file), so when the ref moves meanwhile the write is made
again on its new head.

What the ref holds at a commit never changes: the parsed records are remembered by
(repository, commit).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import msgspec
from dulwich.objects import ShaFile

from gitwrite.anchoring import text_range
from gitwrite.annotation_store import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Record,
    Snapshot,
    StatusChange,
    add_file,
    decode_record,
    encode,
    record_path,
)
from gitwrite.texts import decode_text
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import ANNOTATIONS_REF, Action, require
from gitwrite_sync.domain.annotations.schemas import CreateAnnotation, Thread
from gitwrite_sync.domain.content import (
    FILE_MODE,
    RepoReader,
    TreeWriter,
    apply,
    author_of,
    checked_path,
    make_commit,
)
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import InvalidInput, NotFound, StaleRef
from gitwrite_sync.storage import ByteLRU

ATTEMPTS = 5
Build = Callable[[Snapshot, RepoReader], Awaitable[tuple[list[Record], str]]]


async def read_snapshot(
    reader: RepoReader, cache: ByteLRU[tuple[int, str], Snapshot]
) -> tuple[str | None, Snapshot]:
    """The records on the annotations ref (and the commit it is at)."""
    head = await reader.head(ANNOTATIONS_REF)
    if head is None:
        return None, Snapshot(None)
    found = cache.get((reader.repo.id, head))
    if found is not None:
        return head, found
    commit = await reader.commit(head)
    files = await reader.files(commit.tree.decode())
    contents = await reader.objects.read_many(
        reader.session, reader.repo.id, {sha for _, sha in files.values()}
    )
    snapshot = Snapshot(None)
    for path, (_, sha) in files.items():
        add_file(snapshot, path, functools.partial(_decode, contents[sha][1]))
    cache.put((reader.repo.id, head), snapshot, 512 * (len(files) + 1))
    return head, snapshot


def _decode(data: bytes, kind: type[Record]) -> Record | str:
    return decode_record(data, kind)


def threads(snapshot: Snapshot) -> list[Thread]:
    """Top-level annotations with their replies, by file and position (as the desktop)."""
    replies: dict[str, list[Annotation]] = {}
    roots = []
    for record in snapshot.annotations.values():
        if record.parent is None:
            roots.append(snapshot.current(record.id))
        else:
            replies.setdefault(record.parent, []).append(snapshot.current(record.id))
    roots.sort(key=lambda a: (a.path, a.range.start, a.time, a.id))
    return [Thread(root, sorted(replies.get(root.id, []), key=_when)) for root in roots]


def _when(record: Annotation) -> tuple[datetime, str]:
    return record.time, record.id


def _current(snapshot: Snapshot, annotation_id: str) -> Annotation:
    try:
        return snapshot.current(annotation_id)
    except KeyError:
        raise NotFound(f"no annotation {annotation_id}", annotation=annotation_id) from None


def _new_id() -> str:
    return str(uuid.uuid4())


class AnnotationService:
    def __init__(self, db: Database, sync: SyncService) -> None:
        self.db = db
        self.sync = sync
        self.snapshots: ByteLRU[tuple[int, str], Snapshot] = ByteLRU(64 * 1024 * 1024)

    # -- reading ---------------------------------------------------------------------

    async def list_threads(
        self,
        user: User,
        repo_name: str,
        *,
        path: str | None = None,
        status: AnnotationStatus | None = None,
    ) -> list[Thread]:
        """Threads, by file and position; only on ``path`` and of ``status`` if given."""
        where = checked_path(path) if path is not None else None
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            _, snapshot = await read_snapshot(reader, self.snapshots)
        return [
            t
            for t in threads(snapshot)
            if (where is None or t.annotation.path == where)
            and (status is None or t.annotation.status is status)
        ]

    async def thread(self, user: User, repo_name: str, annotation_id: str) -> Thread:
        """The thread an annotation or reply belongs to."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            reader = RepoReader(session, self.sync.objects, repo)
            _, snapshot = await read_snapshot(reader, self.snapshots)
        record = _current(snapshot, annotation_id)
        root = _current(snapshot, record.parent) if record.parent else record
        for thread in threads(snapshot):
            if thread.annotation.id == root.id:
                return thread
        raise NotFound(f"no annotation {annotation_id}", annotation=annotation_id)

    # -- writing ---------------------------------------------------------------------

    async def create(self, user: User, repo_name: str, request: CreateAnnotation) -> Annotation:
        """Annotate ``[start, end)`` of a file as it is at a save.

        Raises:
            InvalidInput: a bad path, range, body or suggestion; a file that is not text.
            NotFound: no such save or file.
        """
        path = checked_path(request.path)

        async def build(snapshot: Snapshot, reader: RepoReader) -> tuple[list[Record], str]:
            at = await reader.resolve(request.at)
            _, data = await reader.file(at.tree, path)
            text = decode_text(data)
            if text is None:
                raise InvalidInput(f"{path} is not a text file", field="path")
            start, end = request.start, request.end
            if end > len(text) or end <= start:
                raise InvalidInput(
                    f"the range must select some of the {len(text)} characters of {path}",
                    field="range",
                )
            _check_suggestion(request, text[start:end])
            record = _record(
                Annotation,
                id=_new_id(),
                path=path,
                save=at.id,
                range=text_range(text, start, end),
                quote=text[start:end],
                kind=request.kind,
                status=AnnotationStatus.OPEN,
                author=author_of(user),
                time=datetime.now(UTC),
                body=request.body,
                suggestion=request.suggestion,
            )
            lines = f"{record.range.start_line}-{record.range.end_line}"
            return [record], f"Add a {request.kind} on {path} (lines {lines})"

        records = await self._write(user, repo_name, build)
        assert isinstance(records[0], Annotation)
        return records[0]

    async def reply(self, user: User, repo_name: str, parent_id: str, body: str) -> Annotation:
        """Reply in a thread (replying to a reply adds to the same thread)."""
        if not body.strip():
            raise InvalidInput("write something", field="body")
        thread_status: list[AnnotationStatus] = []

        async def build(snapshot: Snapshot, reader: RepoReader) -> tuple[list[Record], str]:
            root = _current(snapshot, parent_id)
            if root.parent is not None:
                root = _current(snapshot, root.parent)
            record = _record(
                Annotation,
                id=_new_id(),
                path=root.path,
                save=root.save,
                range=root.range,
                quote=root.quote,
                kind=AnnotationKind.COMMENT,
                status=AnnotationStatus.OPEN,
                author=author_of(user),
                time=datetime.now(UTC),
                body=body,
                parent=root.id,
            )
            thread_status.append(root.status)
            return [record], f"Reply to {root.id[:8]} on {root.path}"

        records = await self._write(user, repo_name, build)
        assert isinstance(records[0], Annotation)
        return msgspec.structs.replace(records[0], status=thread_status[-1])

    async def set_status(
        self, user: User, repo_name: str, annotation_id: str, status: AnnotationStatus
    ) -> Annotation:
        """Set a thread's status; setting the status it has writes nothing."""
        unchanged: list[Annotation] = []

        async def build(snapshot: Snapshot, reader: RepoReader) -> tuple[list[Record], str]:
            record = _current(snapshot, annotation_id)
            if record.parent is not None:
                raise InvalidInput(
                    "a reply has no status of its own: change the status of its thread",
                    field="annotation",
                )
            if record.status is status:
                unchanged.append(record)
                return [], ""
            change = StatusChange(
                id=_new_id(),
                annotation=record.id,
                status=status,
                author=author_of(user),
                time=datetime.now(UTC),
                supersedes=tuple(sorted(c.id for c in snapshot.latest_changes(record.id))),
            )
            unchanged.append(msgspec.structs.replace(record, status=status))
            return [change], f"Mark {record.id[:8]} as {status}"

        await self._write(user, repo_name, build)
        return unchanged[-1]

    async def _write(self, user: User, repo_name: str, build: Build) -> list[Record]:
        """Build records on the ref's current records and commit them on top; again on
        the new head when the ref moved meanwhile."""
        for attempt in range(ATTEMPTS):
            async with self.db.read() as session:
                repo, _ = await require(session, user, repo_name, Action.ANNOTATE)
                reader = RepoReader(session, self.sync.objects, repo)
                head, snapshot = await read_snapshot(reader, self.snapshots)
                records, message = await build(snapshot, reader)
                if not records:
                    return []
                writer = TreeWriter(reader)
                changes = {record_path(r): (FILE_MODE, writer.blob(encode(r))) for r in records}
                base = (await reader.commit(head)).tree.decode() if head else None
                tree = await writer.write(base, changes)
            commit = make_commit(tree, [head] if head else [], author_of(user), message + "\n")
            objects: Sequence[ShaFile] = [*writer.new, commit]
            try:
                await apply(
                    self.sync, user, repo_name, ANNOTATIONS_REF, head, commit.id.decode(), objects
                )
            except StaleRef:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            return list(records)
        raise AssertionError("unreachable")  # pragma: no cover


def _record(cls: type[Annotation], **fields: object) -> Annotation:
    """An annotation, or `InvalidInput` with the rule it breaks."""
    try:
        return cls(**fields)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a valid annotation: {exc}", field="annotation") from exc


def _check_suggestion(request: CreateAnnotation, quote: str) -> None:
    if request.kind is AnnotationKind.SUGGESTION:
        if request.suggestion is None:
            raise InvalidInput("a suggestion needs its proposed text", field="suggestion")
        if request.suggestion == quote:
            raise InvalidInput("the suggestion is the text already there", field="suggestion")
    else:
        if request.suggestion is not None:
            raise InvalidInput(f"a {request.kind} proposes no text", field="suggestion")
        if not request.body.strip():
            raise InvalidInput("write something", field="body")
