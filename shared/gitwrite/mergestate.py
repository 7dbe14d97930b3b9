"""A merge in progress, on disk: git's own files plus GitWrite's record of the conflicts.

While a merge waits for the writer, the ``.git`` folder holds what ``git merge`` leaves
after a conflict, so command-line git sees the same merge (``git status`` says
"You have unmerged paths", ``git commit`` or ``git merge --abort`` can finish it):

* ``MERGE_HEAD``: the id of the other exploration's last save, one line;
* ``MERGE_MSG``: the message of the merge save, then ``# Conflicts:`` and one
  ``#<TAB>path`` line per conflicted file (git drops ``#`` lines when committing);
* ``MERGE_MODE``: ``no-ff`` (GitWrite always makes a merge save);
* ``ORIG_HEAD``: the current exploration's last save before the merge;
* the index holds the conflicted files in stages 1 (original), 2 (ours), 3 (theirs).

GitWrite adds ``.git/gitwrite/merge.json`` (format 1): who is merged into whom, the
message, the files the merge wrote, and each conflict with the blob ids of its three
versions and the proposed text written to the working folder, so `MergeState` can be
rebuilt after the program restarts. ``MERGE_HEAD`` is the switch: without it there is
no merge, whatever the record says; with it and no matching record (a merge begun by
command-line git) the state is rebuilt from the index.

Files are written in an order that leaves a state abort can clean at every step: the
record, then ``MERGE_MSG``/``MERGE_MODE``/``ORIG_HEAD``, ``MERGE_HEAD`` last; cleared
``MERGE_HEAD`` first.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dulwich.index import ConflictedIndexEntry
from dulwich.objects import Blob, ObjectID

from gitwrite.texts import decode_text

if TYPE_CHECKING:
    from dulwich.repo import Repo

FORMAT = 1
RECORD = os.path.join("gitwrite", "merge.json")
log = logging.getLogger(__name__)

GIT_FILES = ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE")
_MARKER = re.compile(r"^(?:<{7}|>{7}|\|{7})(?: |$)", re.MULTILINE)


class ConflictKind(enum.StrEnum):
    BOTH_CHANGED = "both changed"
    """Both sides changed the same words (or, for a binary file, the file)."""
    BOTH_ADDED = "both added"
    """The file is new on both sides, with different texts."""
    DELETED_HERE = "deleted here, changed there"
    DELETED_THERE = "changed here, deleted there"


def has_markers(text: str) -> bool:
    """Whether a text still holds a conflict marker line (``<<<<<<<``, ``|||||||``,
    ``>>>>>>>``). A bare ``=======`` is not counted: it is also a Markdown heading rule."""
    return _MARKER.search(text) is not None


@dataclass(frozen=True, slots=True)
class FileConflict:
    """One file the merge could not settle.

    Attributes:
        path: the file.
        kind: what happened to it on each side.
        base, ours, theirs: its text in the last save both sides share, in the current
            exploration and in the one being merged; None where the file does not
            exist there or is not text.
        proposed: the text written to the working folder: the merged text with each
            conflict between labelled markers; None for a binary file, whose current
            version stays on disk (or theirs, when ours deleted it).
        binary: the file is not text.
        base_id, ours_id, theirs_id: the blob ids of the three versions (None where
            the file does not exist), to read binary content.
    """

    path: str
    kind: ConflictKind
    base: str | None
    ours: str | None
    theirs: str | None
    proposed: str | None
    binary: bool
    base_id: str | None
    ours_id: str | None
    theirs_id: str | None


@dataclass(frozen=True, slots=True)
class MergeState:
    """A merge waiting for the writer to resolve conflicts.

    Attributes:
        their_name, their_branch, their_head: the exploration being merged in, and
            the save of it being merged.
        our_branch, our_head: the current exploration and its last save at the start.
        base: the last save both share (None when unknown, for a git-begun merge).
        message: the message the merge save will get.
        conflicts: every conflicted file.
        written: every file the merge wrote or deleted in the working folder.
        started: when the merge began (None for a git-begun merge).
        by_git: the merge was begun by command-line git, not GitWrite.
    """

    their_name: str
    their_branch: str
    their_head: str
    our_branch: str
    our_head: str
    base: str | None
    message: str
    conflicts: tuple[FileConflict, ...]
    written: tuple[str, ...]
    started: datetime | None
    by_git: bool = False

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.conflicts]


class MergeFiles:
    """Reads and writes the merge state of one repository."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.controldir = repo.controldir()

    def _path(self, name: str) -> str:
        return os.path.join(self.controldir, name)

    def _write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".gitwrite-tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _read(self, name: str) -> bytes | None:
        try:
            with open(self._path(name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def merge_head(self) -> ObjectID | None:
        data = self._read("MERGE_HEAD")
        if data is None or not data.strip():
            return None
        return ObjectID(data.split()[0])

    def write(self, state: MergeState) -> None:
        """Record a merge in progress: GitWrite's record first, ``MERGE_HEAD`` last."""
        self._write(RECORD, json.dumps(_to_json(state), indent=1).encode("utf-8"))
        conflicts = "".join(f"#\t{p}\n" for p in state.paths)
        message = state.message.rstrip("\n") + "\n\n# Conflicts:\n" + conflicts
        self._write("MERGE_MSG", message.encode("utf-8"))
        self._write("MERGE_MODE", b"no-ff")
        self._write("ORIG_HEAD", state.our_head.encode() + b"\n")
        self._write("MERGE_HEAD", state.their_head.encode() + b"\n")

    def clear(self) -> None:
        """End the merge: ``MERGE_HEAD`` first, so no crash leaves a half-ended merge."""
        for name in (*GIT_FILES, RECORD):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path(name))

    def read(self) -> MergeState | None:
        """The merge in progress, from GitWrite's record or, failing that, git's files."""
        head = self.merge_head()
        if head is None:
            return None
        data = self._read(RECORD)
        if data is not None:
            try:
                record = json.loads(data)
                if isinstance(record, dict) and record.get("their_head") == head.decode():
                    return self._from_json(record)
            except (ValueError, LookupError, TypeError, AssertionError) as exc:
                # Never let a damaged record block the writer: git's files still say
                # what is merging, enough to complete or abort.
                log.warning("ignoring unreadable %s: %s", RECORD, exc)
        return self._from_git(head)

    # -- the record -----------------------------------------------------------------

    def _text(self, blob_id: str | None) -> str | None:
        if blob_id is None:
            return None
        obj = self.repo.object_store[ObjectID(blob_id.encode())]
        assert isinstance(obj, Blob)
        return decode_text(obj.data)

    def _from_json(self, record: dict[str, Any]) -> MergeState:
        if record.get("format") != FORMAT:
            raise ValueError(f"unknown format {record.get('format')!r}")
        conflicts = tuple(
            FileConflict(
                path=c["path"],
                kind=ConflictKind(c["kind"]),
                base=self._text(c["base_id"]),
                ours=self._text(c["ours_id"]),
                theirs=self._text(c["theirs_id"]),
                proposed=c["proposed"],
                binary=c["binary"],
                base_id=c["base_id"],
                ours_id=c["ours_id"],
                theirs_id=c["theirs_id"],
            )
            for c in record["conflicts"]
        )
        return MergeState(
            their_name=record["their_name"],
            their_branch=record["their_branch"],
            their_head=record["their_head"],
            our_branch=record["our_branch"],
            our_head=record["our_head"],
            base=record["base"],
            message=record["message"],
            conflicts=conflicts,
            written=tuple(record["written"]),
            started=datetime.fromisoformat(record["started"]),
        )

    def _from_git(self, head: ObjectID) -> MergeState:
        """A merge begun by command-line git: its conflicts are the index's stages."""
        index = self.repo.open_index()
        root = os.path.abspath(self.repo.path)
        conflicts = []
        for raw, entry in index.items():
            if not isinstance(entry, ConflictedIndexEntry):
                continue
            path = raw.decode("utf-8", "surrogateescape")
            ids = [e.sha.decode() if e is not None else None for e in entry_sides(entry)]
            texts = [self._text(i) for i in ids]
            binary = any(i is not None and t is None for i, t in zip(ids, texts, strict=True))
            try:
                with open(os.path.join(root, path), "rb") as f:
                    proposed = decode_text(f.read())
            except FileNotFoundError:
                proposed = None
            conflicts.append(
                FileConflict(
                    path=path,
                    kind=kind_of(*ids),
                    base=texts[0],
                    ours=texts[1],
                    theirs=texts[2],
                    proposed=None if binary else proposed,
                    binary=binary,
                    base_id=ids[0],
                    ours_id=ids[1],
                    theirs_id=ids[2],
                )
            )
        message = (self._read("MERGE_MSG") or b"").decode("utf-8", "replace")
        message = "\n".join(ln for ln in message.splitlines() if not ln.startswith("#")).strip()
        our_head = (self._read("ORIG_HEAD") or b"").strip().decode() or head.decode()
        their = head.decode()
        branch = next(
            (
                ref.decode().removeprefix("refs/heads/")
                for ref, sha in sorted(self.repo.get_refs().items())
                if ref.startswith(b"refs/heads/") and sha == head
            ),
            their[:8],
        )
        current, _ = self.repo.refs.follow(b"HEAD")  # type: ignore[arg-type]
        return MergeState(
            their_name=branch,
            their_branch=branch,
            their_head=their,
            our_branch=current[-1].decode().removeprefix("refs/heads/"),
            our_head=our_head,
            base=None,
            message=message or f"Merge {branch}",
            conflicts=tuple(sorted(conflicts, key=lambda c: c.path)),
            written=tuple(sorted(c.path for c in conflicts)),
            started=None,
            by_git=True,
        )


def entry_sides(entry: ConflictedIndexEntry) -> tuple[Any, Any, Any]:
    return entry.ancestor, entry.this, entry.other


def kind_of(base: object | None, ours: object | None, theirs: object | None) -> ConflictKind:
    """The kind of a conflict from which of its three versions exist."""
    if ours is None:
        return ConflictKind.DELETED_HERE
    if theirs is None:
        return ConflictKind.DELETED_THERE
    if base is None:
        return ConflictKind.BOTH_ADDED
    return ConflictKind.BOTH_CHANGED


def _to_json(state: MergeState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "their_name": state.their_name,
        "their_branch": state.their_branch,
        "their_head": state.their_head,
        "our_branch": state.our_branch,
        "our_head": state.our_head,
        "base": state.base,
        "message": state.message,
        "started": (state.started or datetime.now(UTC)).isoformat(),
        "written": list(state.written),
        "conflicts": [
            {
                "path": c.path,
                "kind": c.kind.value,
                "base_id": c.base_id,
                "ours_id": c.ours_id,
                "theirs_id": c.theirs_id,
                "proposed": c.proposed,
                "binary": c.binary,
            }
            for c in state.conflicts
        ],
    }
