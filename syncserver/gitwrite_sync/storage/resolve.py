"""Resolving a parsed pack: every object's id from its content, checked as git fsck would.

Deltas are resolved along their chains from the whole objects (and, for a thin pack, from
the bases read from the database), depth first, so only the chain being walked is held in
memory; resolved contents are kept in a small LRU for the steps that follow (the storage
plan reads each new version and its predecessor once more, in the same order).

Every object's id is computed from its content, so ids cannot lie. Commits, trees and tags
are parsed and checked (dulwich's ``check()``: what ``git fsck`` checks), and every tree
entry name must be one a writer's disk can hold safely (`gitwrite.paths.check_tree_name`:
no ``.git`` in any case, ``.``, ``..``, ``/``, NUL, or bytes that are not UTF-8).

Resolution runs in two rounds so the database is read only for what the pack lacks:
`PackResolver.resolve` with no externals, then the ids `PackResolver.wanted` lists are
read from the database and given to a second `PackResolver.resolve`. Pure code: it can
run in a worker thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dulwich.errors import ApplyDeltaError, ObjectFormatException
from dulwich.objects import Commit, ObjectID, Tag, Tree, object_header, parse_tree
from dulwich.pack import apply_delta

from gitwrite.errors import InvalidPath
from gitwrite.paths import check_tree_name
from gitwrite_sync.errors import InvalidPack, MissingObjects, TooLarge
from gitwrite_sync.storage.cache import ByteLRU
from gitwrite_sync.storage.packparse import PackEntry, PackLimits, delta_sizes

COMMIT, TREE, BLOB, TAG = Commit.type_num, Tree.type_num, 3, Tag.type_num
_PARSED: dict[int, type[Commit] | type[Tree] | type[Tag]] = {COMMIT: Commit, TREE: Tree, TAG: Tag}
GITLINK = 0o160000

Parsed = Commit | Tree | Tag


def object_id(type_num: int, content: bytes) -> str:
    """The git id (hex SHA-1) of an object."""
    digest = hashlib.sha1(object_header(type_num, len(content)))
    digest.update(content)
    return digest.hexdigest()


def parse_object(type_num: int, content: bytes, oid: str) -> Parsed | None:
    """The commit, tree or tag in ``content``, checked; None for a blob.

    Raises:
        InvalidPack: the object is malformed or a tree holds a name that is not safe.
    """
    cls = _PARSED.get(type_num)
    if cls is None:
        return None
    try:
        obj = cls.from_raw_string(type_num, content, sha=ObjectID(oid.encode()))
        obj.check()
    except (ObjectFormatException, ValueError, AssertionError) as exc:
        raise InvalidPack(f"object {oid} is not a valid {cls.__name__.lower()}: {exc}") from exc
    if isinstance(obj, Tree):
        for entry in obj.iteritems():
            try:
                check_tree_name(entry.path or b"")
            except InvalidPath as exc:
                raise InvalidPack(
                    f"tree {oid} holds an entry that is not allowed: {exc.reason}",
                    object=oid,
                    name=exc.path,
                ) from exc
    assert isinstance(obj, Commit | Tree | Tag)
    return obj


def stored_tree_entries(content: bytes) -> list[tuple[bytes, int, str]]:
    """``(name, mode, hex id)`` of a tree read back from storage (checked when it came in,
    so parsed without the checks again).

    Raises:
        ValueError: the stored tree is damaged (never from user input).
    """
    try:
        return [(name, mode, sha.decode()) for name, mode, sha in parse_tree(content, 20)]
    except ObjectFormatException as exc:
        raise ValueError(f"a stored tree does not parse: {exc}") from exc


def links(obj: Parsed) -> Iterator[str]:
    """The ids an object refers to: a commit's tree and parents, a tree's entries (except
    submodules, which live elsewhere), a tag's target."""
    if isinstance(obj, Commit):
        yield obj.tree.decode()
        yield from (p.decode() for p in obj.parents)
    elif isinstance(obj, Tree):
        for entry in obj.iteritems():
            if entry.sha is not None and entry.mode != GITLINK:
                yield entry.sha.decode()
    else:
        yield obj.object[1].decode()


@dataclass(slots=True)
class IncomingObject:
    """One object of a received pack.

    Attributes:
        id: Its id, computed from its content.
        type_num: 1 commit, 2 tree, 3 blob, 4 tag.
        size: Size of the whole object.
        entry: Index of its entry in the pack.
        base_id: For a delta, the id of its base (in the pack or in the database).
        parsed: The commit, tree or tag (None for blobs).
    """

    id: str
    type_num: int
    size: int
    entry: int
    base_id: str | None
    parsed: Parsed | None


class ResolvedPack:
    """A pack with every object resolved: ids, types, parsed commits, trees and tags, and
    the contents on demand (`content`)."""

    def __init__(
        self,
        pack: bytes,
        entries: list[PackEntry],
        objects: dict[str, IncomingObject],
        externals: Mapping[str, tuple[int, bytes]],
        cache: ByteLRU[str, bytes],
    ) -> None:
        self.pack = pack
        self.entries = entries
        self.objects = objects
        self.externals = dict(externals)
        self._cache = cache
        self._by_offset = {e.offset: i for i, e in enumerate(entries)}
        self._ids: dict[int, str] = {o.entry: o.id for o in objects.values()}

    def __contains__(self, oid: object) -> bool:
        return oid in self.objects

    def __len__(self) -> int:
        return len(self.objects)

    def body(self, oid: str) -> bytes:
        """The zlib stream the pack holds for ``oid`` (the whole object or its delta)."""
        start, end = self.entries[self.objects[oid].entry].body
        return self.pack[start:end]

    def delta(self, oid: str) -> bytes:
        """The delta instructions of ``oid`` against its ``base_id`` (it must be a delta)."""
        return self.entries[self.objects[oid].entry].data

    def cached(self, oid: str) -> bytes | None:
        """The content of ``oid`` if it is still in memory (no work to get it)."""
        return self._cache.get(oid)

    def content(self, oid: str) -> bytes:
        """The whole content of an object of the pack, or of an external base."""
        if oid in self.externals:
            return self.externals[oid][1]
        cached = self._cache.get(oid)
        if cached is not None:
            return cached
        # Walk up to something cached, whole or external, then apply the deltas back down.
        chain: list[IncomingObject] = []
        current: str | None = oid
        base: bytes | None = None
        while current is not None:
            if current in self.externals:
                base = self.externals[current][1]
                break
            hit = self._cache.get(current)
            if hit is not None:
                base = hit
                break
            obj = self.objects[current]
            chain.append(obj)
            current = obj.base_id
        for obj in reversed(chain):
            entry = self.entries[obj.entry]
            if obj.base_id is None:
                base = entry.data
            else:
                assert base is not None
                base = b"".join(apply_delta(base, entry.data))
            self._cache.put(obj.id, base, len(base))
        assert base is not None
        return base


class PackResolver:
    """Resolves the entries of a parsed pack; see the module docstring for the two rounds."""

    def __init__(self, pack: bytes, entries: list[PackEntry], limits: PackLimits) -> None:
        self.pack = pack
        self.entries = entries
        self.limits = limits
        self.cache: ByteLRU[str, bytes] = ByteLRU(64 * 1024 * 1024)
        self.objects: dict[str, IncomingObject] = {}
        self.externals: dict[str, tuple[int, bytes]] = {}
        self._done: dict[int, str] = {}
        self._resolved_bytes = 0
        self._by_offset: dict[int, list[int]] = {}
        self._by_id: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            if entry.base_offset is not None:
                self._by_offset.setdefault(entry.base_offset, []).append(i)
            elif entry.base_id is not None:
                self._by_id.setdefault(entry.base_id, []).append(i)

    def wanted(self) -> set[str]:
        """Base ids that deltas still wait for: the pack's thin bases, to read from the
        database (ids only the pack itself will yield may be listed too; harmless)."""
        waiting = (e for i, e in enumerate(self.entries) if i not in self._done)
        return {b for e in waiting if (b := e.base_id) is not None and b not in self.objects}

    def resolve(self, externals: Mapping[str, tuple[int, bytes]] | None = None) -> None:
        """Resolve every entry reachable from the whole objects and ``externals``."""
        if not externals:
            for i, entry in enumerate(self.entries):
                if not entry.is_delta and i not in self._done:
                    self._walk(i, None, entry.pack_type, entry.data)
            return
        for oid, (type_num, content) in externals.items():
            if oid in self.objects or oid not in self._by_id:
                continue
            self.externals[oid] = (type_num, content)
            for child in self._by_id[oid]:
                if child not in self._done:
                    self._walk(child, oid, type_num, content)

    def finish(self) -> ResolvedPack:
        """The resolved pack.

        Raises:
            MissingObjects: a delta's base is in neither the pack nor the database.
            InvalidPack: deltas that form a cycle.
        """
        left = [i for i in range(len(self.entries)) if i not in self._done]
        if left:
            missing = sorted(
                {
                    base
                    for i in left
                    if (base := self.entries[i].base_id) is not None
                    and base not in self.objects
                    and base not in self.externals
                }
            )
            if missing:
                raise MissingObjects(
                    f"the pack's deltas need {len(missing)} object(s) the server does not have",
                    missing,
                )
            raise InvalidPack("the pack's deltas refer to each other in a cycle")
        return ResolvedPack(self.pack, self.entries, self.objects, self.externals, self.cache)

    def _walk(self, start: int, base_id: str | None, type_num: int, base: bytes) -> None:
        """Resolve entry ``start`` (whole when ``base_id`` is None, else a delta against
        ``base``) and everything that is a delta against it, depth first."""
        stack: list[tuple[int, str | None, int, bytes]] = [(start, base_id, type_num, base)]
        while stack:
            index, parent_id, kind, parent = stack.pop()
            if index in self._done:
                continue
            entry = self.entries[index]
            content = parent if parent_id is None else self._apply(entry, parent)
            oid = self._record(index, kind, content, parent_id)
            for child in self._by_offset.get(entry.offset, ()):
                stack.append((child, oid, kind, content))
            for child in self._by_id.get(oid, ()):
                stack.append((child, oid, kind, content))

    def _apply(self, entry: PackEntry, base: bytes) -> bytes:
        base_size, size = delta_sizes(entry.data)
        if base_size != len(base):
            raise InvalidPack("a delta does not fit its base", offset=entry.offset)
        self._check_size(size)
        try:
            return b"".join(apply_delta(base, entry.data))
        except (ApplyDeltaError, ValueError, IndexError) as exc:
            raise InvalidPack(f"a delta does not apply: {exc}", offset=entry.offset) from exc

    def _check_size(self, size: int) -> None:
        if size > self.limits.max_object_bytes:
            raise TooLarge(
                f"an object of {size} bytes is over the limit of {self.limits.max_object_bytes}",
                limit=str(self.limits.max_object_bytes),
                size=str(size),
            )
        self._resolved_bytes += size
        if self._resolved_bytes > self.limits.max_resolved_bytes:
            raise TooLarge(
                f"the pack's objects add up to more than {self.limits.max_resolved_bytes} bytes",
                limit=str(self.limits.max_resolved_bytes),
            )

    def _record(self, index: int, type_num: int, content: bytes, base_id: str | None) -> str:
        if base_id is None:
            self._check_size(len(content))
        oid = object_id(type_num, content)
        self._done[index] = oid
        if oid not in self.objects:
            parsed = parse_object(type_num, content, oid)
            self.objects[oid] = IncomingObject(oid, type_num, len(content), index, base_id, parsed)
            self.cache.put(oid, content, len(content))
        return oid


def resolve_alone(pack: bytes, entries: list[PackEntry], limits: PackLimits) -> PackResolver:
    """A resolver that has done its first round (the pack's own objects)."""
    resolver = PackResolver(pack, entries, limits)
    resolver.resolve()
    return resolver
