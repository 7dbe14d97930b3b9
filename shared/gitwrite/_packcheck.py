"""Checks on a pack just stored, for :func:`gitwrite.packs.apply_pack`.

Every commit, tree and tag is parsed and checked as ``git fsck --strict`` would, tree
entry names included (no ``..``, ``.git`` in any letter case, no invalid UTF-8), and the
ids it refers to are collected, so that a connectivity check needs no second pass. Blobs
need no check (their ids were computed from their content while the pack was indexed) and
are never read: the kind of each object comes from the pack's entry headers, following
delta bases, which costs no delta resolution even when a history holds a thousand
versions of a long chapter.
"""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

from dulwich.errors import ObjectFormatException
from dulwich.objects import Commit, ObjectID, RawObjectID, Tag, Tree, sha_to_hex
from dulwich.pack import OFS_DELTA, REF_DELTA

from gitwrite.errors import InvalidPath
from gitwrite.paths import check_tree_name

if TYPE_CHECKING:
    from dulwich.object_store import BaseObjectStore
    from dulwich.objects import ShaFile
    from dulwich.pack import Pack

_CHECKED: dict[int, type[Commit | Tree | Tag]] = {
    Commit.type_num: Commit,
    Tree.type_num: Tree,
    Tag.type_num: Tag,
}
_GITLINK = 0o160000


class InvalidObject(ValueError):
    """An object ``git fsck --strict`` would refuse."""


def object_types(pack: Pack) -> dict[ObjectID, int]:
    """The kind (type number) of every object in a stored, complete pack, from headers."""
    at_offset = {offset: sha_to_hex(sha) for sha, offset, _ in pack.index.iterentries()}
    offset_of = {sha: offset for offset, sha in at_offset.items()}
    entries: dict[int, tuple[int, int | bytes | None]] = {
        u.offset: (u.pack_type_num, u.delta_base)
        for u in pack.data.iter_unpacked()
        if u.offset is not None
    }
    known: dict[int, int] = {}
    for start in entries:
        chain: list[int] = []
        offset = start
        while offset not in known:
            type_num, base = entries[offset]
            if type_num == OFS_DELTA:
                assert isinstance(base, int)
                chain.append(offset)
                offset -= base
            elif type_num == REF_DELTA:
                assert isinstance(base, bytes)
                chain.append(offset)
                offset = offset_of[sha_to_hex(RawObjectID(base))]
            else:
                known[offset] = type_num
        for delta in chain:
            known[delta] = known[offset]
    return {at_offset[offset]: type_num for offset, type_num in known.items()}


def _links(obj: ShaFile) -> list[ObjectID]:
    if isinstance(obj, Commit):
        return [obj.tree, *obj.parents]
    if isinstance(obj, Tree):
        return [
            e.sha
            for e in obj.iteritems()
            if e.sha is not None and e.mode is not None and stat.S_IFMT(e.mode) != _GITLINK
        ]
    if isinstance(obj, Tag):
        return [obj.object[1]]
    return []


def check_objects(store: BaseObjectStore, types: dict[ObjectID, int]) -> set[ObjectID]:
    """Check every commit, tree and tag among ``types``; return the ids they refer to.

    Raises:
        InvalidObject: one of them is malformed or has a tree entry that could escape the
            project folder.
    """
    links: set[ObjectID] = set()
    for sha, type_num in types.items():
        cls = _CHECKED.get(type_num)
        if cls is None:
            continue
        _, raw = store.get_raw(sha)
        try:
            obj = cls.from_raw_string(type_num, raw, sha=sha)
            obj.check()
            if isinstance(obj, Tree):
                for entry in obj.iteritems():
                    assert entry.path is not None
                    check_tree_name(entry.path)
        except (ObjectFormatException, InvalidPath, ValueError) as exc:
            raise InvalidObject(f"{sha.decode()}: {exc}") from exc
        links.update(_links(obj))
    return links
