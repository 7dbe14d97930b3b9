"""What a push must send: the objects reachable from some commits and not from others.

The commits are walked newest-first from both sides at once, as ``git rev-list new --not
known`` does: a commit reached from a known commit is *known* (the other side has it and
its whole history), and so are its ancestors. The walk stops as soon as every commit still
queued is known, so a push of a few saves on top of a long history reads only those saves.
Commit times only order the walk: when clocks lie, the walk may call a known commit new
and send a little too much, never too little.

The new trees and blobs are grouped by the path they sit at, oldest version first, each
group headed by the version of that path in a known commit (the *external base*), which
the thin pack refers to instead of sending.
"""

from __future__ import annotations

import heapq
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.objects import Blob, Commit, Tag, Tree

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dulwich.object_store import BaseObjectStore
    from dulwich.objects import ObjectID, ShaFile

# Pack type numbers of the four object kinds.
COMMIT, TREE, BLOB, TAG = Commit.type_num, Tree.type_num, Blob.type_num, Tag.type_num
_GITLINK = 0o160000


class MissingLocalObject(KeyError):
    """An object the walk needs is not in the local repository."""

    def __init__(self, sha: ObjectID) -> None:
        super().__init__(sha.decode())
        self.sha = sha


@dataclass(slots=True)
class PathGroup:
    """New versions of one path, oldest first, after an optional external base."""

    type_num: int
    base: ObjectID | None = None
    shas: list[ObjectID] = field(default_factory=list)


@dataclass(slots=True)
class Missing:
    """The objects to send.

    Attributes:
        commits: New commits, parents before children.
        tags: New annotated tags.
        groups: New trees and blobs by ``(type number, path)``.
        known: Every tree and blob of the known commits the walk looked at.
    """

    commits: list[ObjectID] = field(default_factory=list)
    tags: list[ObjectID] = field(default_factory=list)
    groups: dict[tuple[int, bytes], PathGroup] = field(default_factory=dict)
    known: set[ObjectID] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.commits) + len(self.tags) + sum(len(g.shas) for g in self.groups.values())


def _get(store: BaseObjectStore, sha: ObjectID) -> ShaFile:
    try:
        return store[sha]
    except KeyError as exc:
        raise MissingLocalObject(sha) from exc


def _peel(
    store: BaseObjectStore, sha: ObjectID, tags: list[ObjectID] | None
) -> tuple[Commit | None, Tree | None]:
    """Follow tags from ``sha`` to a commit or tree, noting the tags met in ``tags``."""
    obj = _get(store, sha)
    while isinstance(obj, Tag):
        if tags is not None:
            tags.append(obj.id)
        obj = _get(store, obj.object[1])
    if isinstance(obj, Commit):
        return obj, None
    if isinstance(obj, Tree):
        return None, obj
    return None, None


def _walk_commits(
    store: BaseObjectStore, new: Iterable[Commit], known: Iterable[Commit]
) -> tuple[list[Commit], dict[ObjectID, bool]]:
    """New commits (newest first) and the known-flag of every commit the walk met."""
    is_known: dict[ObjectID, bool] = {}
    loaded: dict[ObjectID, Commit] = {}
    heap: list[tuple[int, int, ObjectID]] = []
    counter = 0
    pending_new = 0  # entries in the heap still flagged new

    def push(commit: Commit, flag: bool) -> None:
        nonlocal counter, pending_new
        seen = is_known.get(commit.id)
        if seen is not None:
            if flag and not seen:
                is_known[commit.id] = True
                pending_new -= commit.id in queued
            return
        is_known[commit.id] = flag
        loaded[commit.id] = commit
        queued.add(commit.id)
        pending_new += not flag
        counter += 1
        heapq.heappush(heap, (-commit.commit_time, counter, commit.id))

    queued: set[ObjectID] = set()
    for commit in known:
        push(commit, True)
    for commit in new:
        push(commit, False)
    found: list[Commit] = []
    while heap and pending_new:
        _, _, sha = heapq.heappop(heap)
        queued.discard(sha)
        flag = is_known[sha]
        commit = loaded.pop(sha)
        if not flag:
            pending_new -= 1
            found.append(commit)
        for parent in commit.parents:
            if parent in is_known:
                if flag and not is_known[parent]:
                    is_known[parent] = True
                    pending_new -= parent in queued
                continue
            obj = _get(store, parent)
            if isinstance(obj, Commit):
                push(obj, flag)
    return found, is_known


def _flatten(
    store: BaseObjectStore, tree: ObjectID, seen_trees: set[ObjectID]
) -> list[tuple[int, bytes, ObjectID]]:
    """Every ``(type, path, sha)`` under ``tree`` (itself at path ``b""``), skipping subtrees
    in ``seen_trees`` and adding the rest to it."""
    out: list[tuple[int, bytes, ObjectID]] = []
    todo: list[tuple[ObjectID, bytes]] = [(tree, b"")]
    while todo:
        sha, path = todo.pop()
        if sha in seen_trees:
            continue
        seen_trees.add(sha)
        out.append((TREE, path, sha))
        obj = _get(store, sha)
        if not isinstance(obj, Tree):
            continue
        for entry in obj.iteritems():
            if entry.path is None or entry.mode is None or entry.sha is None:
                continue
            if stat.S_ISDIR(entry.mode):
                todo.append((entry.sha, path + entry.path + b"/"))
            elif stat.S_IFMT(entry.mode) != _GITLINK:
                out.append((BLOB, path + entry.path, entry.sha))
    return out


def find_missing(
    store: BaseObjectStore, new_ids: Iterable[ObjectID], known_ids: Iterable[ObjectID]
) -> Missing:
    """The objects reachable from ``new_ids`` and not from ``known_ids``.

    Known ids absent from ``store`` are ignored (the other side has something this one has
    never seen: nothing can be sent against it).

    Raises:
        MissingLocalObject: a new object, or one its history leads to, is not in ``store``.
    """
    missing = Missing()
    known_commits: list[Commit] = []
    known_roots: list[ObjectID] = []
    for sha in dict.fromkeys(known_ids):
        try:
            commit, tree = _peel(store, sha, None)
        except MissingLocalObject:
            continue
        missing.known.add(sha)
        if commit is not None:
            known_commits.append(commit)
        elif tree is not None:
            known_roots.append(tree.id)
    new_commits: list[Commit] = []
    new_roots: list[ObjectID] = []
    for sha in dict.fromkeys(new_ids):
        if sha in missing.known:
            continue
        tags: list[ObjectID] = []
        commit, tree = _peel(store, sha, tags)
        missing.tags.extend(t for t in tags if t not in missing.known and t not in missing.tags)
        if commit is not None:
            new_commits.append(commit)
        elif tree is not None:
            new_roots.append(tree.id)
        elif not tags:
            missing.groups.setdefault((BLOB, b""), PathGroup(BLOB)).shas.append(sha)
    found, is_known = _walk_commits(store, new_commits, known_commits)
    found.reverse()  # oldest first: each version's predecessor comes before it
    missing.commits = [c.id for c in found]

    # The known side: trees of the known commits that new commits grew from, first
    # parents first, then the known heads themselves. The first version met at a path
    # becomes that path's external base.
    boundary = [p for c in found for p in c.parents if is_known.get(p)]
    boundary += [c.id for c in known_commits]
    known_at: dict[tuple[int, bytes], ObjectID] = {}
    seen_trees: set[ObjectID] = set()
    tree_of = {c.id: c.tree for c in known_commits}
    roots = [tree_of.get(sha) or _commit_tree(store, sha) for sha in dict.fromkeys(boundary)]
    for root in [*roots, *known_roots]:
        for type_num, path, sha in _flatten(store, root, seen_trees):
            missing.known.add(sha)
            known_at.setdefault((type_num, path), sha)

    grouped: set[ObjectID] = set()
    for root in [c.tree for c in found] + new_roots:
        for type_num, path, sha in _flatten(store, root, seen_trees):
            if sha in missing.known or sha in grouped:
                continue
            grouped.add(sha)
            key = (type_num, path)
            group = missing.groups.get(key)
            if group is None:
                group = missing.groups[key] = PathGroup(type_num, known_at.get(key))
            group.shas.append(sha)
    return missing


def _commit_tree(store: BaseObjectStore, sha: ObjectID) -> ObjectID:
    commit = _get(store, sha)
    assert isinstance(commit, Commit)
    tree: ObjectID = commit.tree
    return tree
