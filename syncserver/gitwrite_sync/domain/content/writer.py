"""Making saves on the server: new trees, commits and tags, applied like a push.

The server writes git objects exactly as a desktop would (so a desktop fetching them
sees ordinary saves) and hands them to the sync service's push as a pack of whole
objects (`apply`). That one path stores them (deltas against the previous version of
each path, as for any push), moves the ref by compare-and-swap in ONE transaction with
its event and the indexing job, and publishes the live notice after the commit; a lost
race comes back as `StaleRef` with the ref's current id.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dulwich.object_format import SHA1
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.pack import pack_object_header

from gitwrite.model import Author
from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.content.reader import Entry, RepoReader, is_dir
from gitwrite_sync.domain.sync import PushOutcome, SyncService
from gitwrite_sync.errors import InvalidInput, StaleRef
from gitwrite_sync.storage import RefChange

FILE_MODE = 0o100644
DIR_MODE = 0o040000
_PACK_COMPRESSION = 1  # the pack is read once, right away; storage compresses what it keeps


def author_of(user: User) -> Author:
    """The git identity of a user's saves: their display name and email."""
    name = " ".join(user.display_name.replace("<", "").replace(">", "").split()) or "GitWrite"
    return Author(name, user.email.replace("<", "").replace(">", ""))


def make_commit(
    tree: str, parents: Sequence[str], author: Author, message: str, now: datetime | None = None
) -> Commit:
    """A commit as the desktop makes them (UTF-8, author and committer the same)."""
    when = int((now or datetime.now(UTC)).timestamp())
    commit = Commit()
    commit.tree = ObjectID(tree.encode())
    commit.parents = [ObjectID(p.encode()) for p in parents]
    commit.author = commit.committer = author.identity()
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    commit.encoding = b"UTF-8"
    commit.message = message.encode("utf-8")
    return commit


class TreeWriter:
    """New trees for a set of changed paths, loading only the folders on those paths."""

    def __init__(self, reader: RepoReader) -> None:
        self.reader = reader
        self.new: list[ShaFile] = []

    def blob(self, data: bytes) -> str:
        blob = Blob.from_string(data)
        self.new.append(blob)
        return blob.id.decode()

    async def write(self, base: str | None, changes: Mapping[str, Entry | None]) -> str:
        """The id of ``base`` with ``changes`` (path → mode and id, or None to delete).

        Raises:
            InvalidInput: a path runs through a file, or names a folder.
        """
        return await self._write(base, dict(changes), "")

    async def _write(self, base: str | None, changes: dict[str, Entry | None], prefix: str) -> str:
        tree = Tree()
        if base is not None:
            for item in (await self.reader.tree(base)).iteritems():
                assert item.path is not None and item.mode is not None and item.sha is not None
                tree.add(item.path, item.mode, item.sha)
        here: dict[str, Entry | None] = {}
        below: dict[str, dict[str, Entry | None]] = {}
        for path, entry in changes.items():
            head, sep, rest = path.partition("/")
            if sep:
                below.setdefault(head, {})[rest] = entry
            else:
                here[head] = entry
        for name, entry in here.items():
            key = name.encode("utf-8")
            existing = _entry(tree, key)
            if existing is not None and is_dir(existing[0]):
                raise InvalidInput(f"{prefix + name!r} is a folder", field="file_path")
            if entry is None:
                if existing is not None:
                    del tree[key]
            else:
                tree.add(key, entry[0], ObjectID(entry[1].encode()))
        for name, sub in below.items():
            key = name.encode("utf-8")
            existing = _entry(tree, key)
            if existing is not None and not is_dir(existing[0]):
                raise InvalidInput(f"{prefix + name!r} is a file, not a folder", field="file_path")
            sub_base = existing[1].decode() if existing is not None else None
            sub_id = await self._write(sub_base, sub, f"{prefix}{name}/")
            if sub_id == _EMPTY_TREE:
                if existing is not None:
                    del tree[key]
            else:
                tree.add(key, DIR_MODE, ObjectID(sub_id.encode()))
        if not len(tree):
            return _EMPTY_TREE
        if base is None or tree.id.decode() != base:
            self.new.append(tree)
        return tree.id.decode()


_EMPTY_TREE = Tree().id.decode()


def _entry(tree: Tree, name: bytes) -> tuple[int, bytes] | None:
    try:
        mode, sha = tree[name]
    except KeyError:
        return None
    return mode, sha


def whole_pack(objects: Sequence[ShaFile]) -> bytes:
    """A pack holding each object whole (unique by id)."""
    unique = list({o.id: o for o in objects}.values())
    parts = [b"PACK", struct.pack(">LL", 2, len(unique))]
    for obj in unique:
        raw = obj.as_raw_string()
        parts.append(bytes(pack_object_header(obj.type_num, None, len(raw), SHA1)))
        parts.append(zlib.compress(raw, _PACK_COMPRESSION))
    data = b"".join(parts)
    return data + hashlib.sha1(data).digest()


async def apply(
    sync: SyncService,
    user: User,
    repo_name: str,
    ref: str,
    old: str | None,
    new: str | None,
    objects: Sequence[ShaFile] = (),
) -> PushOutcome:
    """Move ``ref`` from ``old`` to ``new`` (None: absent) with the objects it needs,
    through the sync service's push (roles, checks, one transaction, live notice).

    Raises:
        StaleRef: the ref was not at ``old`` (``current`` says where it is).
        Forbidden, NotFastForward, InvalidInput, TooLarge...: as the push raises them.
    """
    change = RefChange(ref, old or ZERO_ID, new or ZERO_ID)
    pack = whole_pack(objects) if objects else b""
    outcome = await sync.push(user, repo_name, [change], pack)
    if outcome.status != "ok":
        current = outcome.refs.get(ref, ZERO_ID)
        raise StaleRef(ref, change.old, None if current == ZERO_ID else current)
    return outcome
