"""Reading a repository's saves from the database: revisions, commits, trees and files.

`RepoReader` works inside one unit of work (the caller's session) over the process's
`ObjectStore`, whose cache makes repeated reads of the same objects free. It resolves
what a writer names, the way the desktop engine does (`gitwrite.revisions`):

- nothing: the last save of the main story (the default branch);
- a full save id (40 hex digits): that save, *immutable* (its files never change);
- an exploration (by branch name, by typed name such as "darker ending", or "main
  story") or a milestone (by tag name or typed name), in any letter case when only one
  answers;
- a unique prefix of a save id (at least 7 hex digits).

Anything else is `NotFound`. Tags are peeled to the save they mark.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite.errors import InvalidPath
from gitwrite.explorations import MAIN_STORY, normalise_name
from gitwrite.paths import check_path
from gitwrite_sync.db.models import CommitRow, Repository
from gitwrite_sync.domain.access import BRANCH_PREFIX, TAG_PREFIX
from gitwrite_sync.errors import InvalidInput, NotFound
from gitwrite_sync.storage import CorruptObject, ObjectStore, refs_and_seq

FULL_ID = re.compile(r"[0-9a-f]{40}")
_PREFIX = re.compile(r"[0-9a-f]{7,39}")
_TYPES: dict[int, type[ShaFile]] = {1: Commit, 2: Tree, 3: Blob, 4: Tag}

Entry = tuple[int, str]
"""A tree entry: mode and object id."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A save a writer named.

    Attributes:
        commit: The save.
        ref: The branch or tag it was reached through (None for an id).
        immutable: Named by its full id: what it holds can never change.
    """

    commit: Commit
    ref: str | None
    immutable: bool

    @property
    def id(self) -> str:
        return self.commit.id.decode()

    @property
    def tree(self) -> str:
        return str(self.commit.tree.decode())


def is_dir(mode: int) -> bool:
    return stat.S_ISDIR(mode)


def branch_name(ref: str) -> str:
    return ref.removeprefix(BRANCH_PREFIX)


def shown_name(branch: str, default_branch: str) -> str:
    """The name a writer sees for a branch: "main story", or the branch with spaces for
    dashes (the reverse of how a typed name becomes a branch)."""
    return MAIN_STORY if branch == default_branch else branch.replace("-", " ")


class RepoReader:
    """Reads one repository's refs and objects in the caller's unit of work."""

    def __init__(self, session: AsyncSession, objects: ObjectStore, repo: Repository) -> None:
        self.session = session
        self.objects = objects
        self.repo = repo
        self._refs: dict[str, str] | None = None
        self.seq = repo.seq

    # -- refs ------------------------------------------------------------------------

    async def refs(self) -> dict[str, str]:
        """Every ref (read once per reader, with the sequence they reflect in ``seq``)."""
        if self._refs is None:
            self._refs, self.seq = await refs_and_seq(self.session, self.repo.id)
        return self._refs

    @property
    def default_ref(self) -> str:
        return BRANCH_PREFIX + self.repo.default_branch

    async def head(self, ref: str | None = None) -> str | None:
        """Where a ref (default: the main story) points, or None when it does not exist."""
        return (await self.refs()).get(ref or self.default_ref)

    async def branch_ref(self, name: str | None) -> str:
        """The ref of an existing exploration named ``name`` (None: the main story).

        Raises:
            NotFound: no exploration answers to the name.
        """
        if name is None:
            return self.default_ref
        refs = await self.refs()
        clean = normalise_name(name)
        if clean.casefold() == MAIN_STORY:
            return self.default_ref
        found = _find(refs, BRANCH_PREFIX, [name, clean.replace(" ", "-")])
        if found is None:
            raise NotFound(f"no exploration named {name!r}", exploration=name)
        return found

    # -- objects ---------------------------------------------------------------------

    async def raw(self, oid: str) -> tuple[int, bytes]:
        """Type number and content of a stored object; `NotFound` when absent."""
        try:
            return await self.objects.read(self.session, self.repo.id, oid)
        except KeyError:
            raise NotFound(f"no object {oid} in {self.repo.name!r}", id=oid) from None
        except CorruptObject as exc:  # damaged outside GitWrite: an admin's problem
            raise RuntimeError(str(exc)) from exc

    async def object(self, oid: str) -> ShaFile:
        type_num, content = await self.raw(oid)
        return _parse(type_num, content, oid)

    async def many(self, ids: Iterable[str]) -> dict[str, ShaFile]:
        """Several objects in a few queries (missing ones are left out)."""
        found = await self.objects.read_many(self.session, self.repo.id, ids)
        return {oid: _parse(t, c, oid) for oid, (t, c) in found.items()}

    async def commit(self, oid: str) -> Commit:
        obj = await self.object(oid)
        while isinstance(obj, Tag):
            obj = await self.object(obj.object[1].decode())
        if not isinstance(obj, Commit):
            raise NotFound(f"{oid} is not a save", id=oid)
        return obj

    async def tree(self, oid: str) -> Tree:
        obj = await self.object(oid)
        if not isinstance(obj, Tree):
            raise NotFound(f"{oid} is not a folder", id=oid)
        return obj

    async def blob(self, oid: str) -> bytes:
        type_num, content = await self.raw(oid)
        if type_num != Blob.type_num:
            raise NotFound(f"{oid} is not a file", id=oid)
        return content

    # -- revisions -------------------------------------------------------------------

    async def resolve(self, at: str | None) -> Resolved:
        """The save ``at`` names (see the module docstring).

        Raises:
            NotFound: it names nothing, or the repository has no save yet.
        """
        refs = await self.refs()
        if at is None or not at.strip():
            head = refs.get(self.default_ref)
            if head is None:
                raise NotFound(f"{self.repo.name!r} has no saves yet", repository=self.repo.name)
            return Resolved(await self.commit(head), self.default_ref, False)
        text = at.strip()
        if FULL_ID.fullmatch(text):
            return Resolved(await self.commit(text), None, True)
        clean = normalise_name(text)
        if clean.casefold() == MAIN_STORY and self.default_ref in refs:
            return Resolved(await self.commit(refs[self.default_ref]), self.default_ref, False)
        for prefix in (BRANCH_PREFIX, TAG_PREFIX):
            ref = _find(refs, prefix, [text, clean.replace(" ", "-")])
            if ref is not None:
                return Resolved(await self.commit(refs[ref]), ref, False)
        if _PREFIX.fullmatch(text):
            rows = await self.session.execute(
                select(CommitRow.sha)
                .where(CommitRow.repo_id == self.repo.id, CommitRow.sha.startswith(text))
                .limit(2)
            )
            found = [row.sha for row in rows]
            if len(found) == 1:
                return Resolved(await self.commit(found[0]), None, False)
        raise NotFound(
            f"no save, exploration or milestone called {text!r} in {self.repo.name!r}", at=text
        )

    # -- trees -----------------------------------------------------------------------

    async def lookup(self, tree_id: str, path: str) -> Entry | None:
        """The entry at ``path`` (a file or a folder) under a tree, or None."""
        current: Entry = (stat.S_IFDIR, tree_id)
        for part in path.split("/"):
            if not is_dir(current[0]):
                return None
            tree = await self.tree(current[1])
            try:
                mode, sha = tree[part.encode("utf-8")]
            except KeyError:
                return None
            current = (mode, sha.decode())
        return current

    async def file(self, tree_id: str, path: str) -> tuple[str, bytes]:
        """The blob id and content of the file at ``path``.

        Raises:
            InvalidInput: the path is not one GitWrite accepts.
            NotFound: there is no file there.
        """
        path = checked_path(path)
        entry = await self.lookup(tree_id, path)
        if entry is None or is_dir(entry[0]) or entry[0] == 0o160000:
            raise NotFound(f"no file {path!r} in this save", path=path)
        return entry[1], await self.blob(entry[1])

    async def files(self, tree_id: str) -> dict[str, Entry]:
        """Every file under a tree, by path (folders walked a level at a time)."""
        found: dict[str, Entry] = {}
        level: dict[str, str] = {"": tree_id}
        while level:
            trees = await self.many(level.values())
            following: dict[str, str] = {}
            for prefix, oid in level.items():
                tree = trees.get(oid)
                if not isinstance(tree, Tree):
                    raise NotFound(f"folder {oid} is missing", id=oid)
                for entry in tree.iteritems():
                    assert entry.path is not None and entry.sha is not None
                    path = prefix + entry.path.decode("utf-8", "replace")
                    mode = entry.mode or 0
                    if is_dir(mode):
                        following[path + "/"] = entry.sha.decode()
                    elif mode != 0o160000:
                        found[path] = (mode, entry.sha.decode())
            level = following
        return dict(sorted(found.items()))


def _find(refs: dict[str, str], prefix: str, names: list[str]) -> str | None:
    """The ref ``prefix + name`` for the first of ``names`` that exists; else the one ref
    equal to one of them but for letter case (GitWrite refuses names that differ only in
    case, so a writer's "Darker ending" finds ``darker-ending``)."""
    for name in names:
        if prefix + name in refs:
            return prefix + name
    folded = {(prefix + name).casefold() for name in names}
    matches = [ref for ref in refs if ref.startswith(prefix) and ref.casefold() in folded]
    return matches[0] if len(matches) == 1 else None


def checked_path(path: str) -> str:
    """A project-relative file path (`gitwrite.paths.check_path`), or `InvalidInput`."""
    try:
        return check_path(path)
    except InvalidPath as exc:
        raise InvalidInput(str(exc), field="file_path", reason=exc.reason) from exc


def _parse(type_num: int, content: bytes, oid: str) -> ShaFile:
    cls = _TYPES.get(type_num)
    if cls is None:
        raise RuntimeError(f"object {oid} has unknown type {type_num}")
    return cls.from_raw_string(type_num, content, sha=ObjectID(oid.encode()))
