"""Which objects to store as deltas against which, for :func:`gitwrite.maintenance.repack`.

Versions of one file are most alike to the versions saved just before and after them, so
the history of every ref is walked and the blobs and trees met are grouped by the path they
were found at, each group ordered newest-first (commits children-before-parents, newest
first). :func:`delta_bases` then picks, for every position in a group, the earlier position
to store it as a delta against, keeping every delta chain at most ``max_depth`` long.
"""

from __future__ import annotations

import contextlib
import heapq
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.objects import ZERO_SHA, Blob, Commit, Tag, Tree

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dulwich.objects import ObjectID, ShaFile
    from dulwich.repo import Repo

# Pack type numbers of the four object kinds.
COMMIT, TREE, BLOB, TAG = Commit.type_num, Tree.type_num, Blob.type_num, Tag.type_num


@dataclass(slots=True)
class Grouping:
    """Objects grouped for deltification.

    Attributes:
        commits: Commits reachable from the refs, children before parents, newest first.
        tags: Annotated tags reachable from the refs.
        paths: For each (type number, path) met in the history, its distinct trees or blobs,
            newest first. Every object is in at most one group.
    """

    commits: list[ObjectID] = field(default_factory=list)
    tags: list[ObjectID] = field(default_factory=list)
    paths: dict[tuple[int, bytes], list[ObjectID]] = field(default_factory=dict)


def _load(repo: Repo, sha: ObjectID) -> ShaFile | None:
    """The object ``sha``, or None when it is missing or unreadable (the walk goes around it)."""
    try:
        return repo.object_store[sha]
    except Exception:  # a missing or corrupt object only ends that branch of the walk
        return None


def _ref_tips(repo: Repo) -> list[ObjectID]:
    """Every object a ref or a reflog entry points at: branches, tags, notes, HEAD, anything."""
    tips: list[ObjectID] = []
    for ref in sorted(repo.refs.allkeys()):
        with contextlib.suppress(KeyError):  # a dangling symbolic ref
            tips.append(repo.refs[ref])
        try:
            entries = list(repo.read_reflog(ref))
        except (OSError, ValueError):
            continue
        for entry in reversed(entries):
            tips.extend(sha for sha in (entry.new_sha, entry.old_sha) if sha != ZERO_SHA)
    return list(dict.fromkeys(tips))


def _order_commits(commits: dict[ObjectID, Commit]) -> list[ObjectID]:
    """Commits with every child before its parents and, among those ready, the newest first."""
    children: dict[ObjectID, int] = dict.fromkeys(commits, 0)
    for commit in commits.values():
        for parent in commit.parents:
            if parent in children:
                children[parent] += 1
    seq = {sha: i for i, sha in enumerate(commits)}
    ready = [(-c.commit_time, seq[sha], sha) for sha, c in commits.items() if not children[sha]]
    heapq.heapify(ready)
    order: list[ObjectID] = []
    while ready:
        _, _, sha = heapq.heappop(ready)
        order.append(sha)
        for parent in commits[sha].parents:
            if parent in children:
                children[parent] -= 1
                if not children[parent]:
                    p = commits[parent]
                    heapq.heappush(ready, (-p.commit_time, seq[parent], parent))
    return order


def group_objects(repo: Repo, wanted: Iterable[ObjectID]) -> Grouping:
    """Walk the history of every ref and group the ``wanted`` objects met on the way.

    Objects outside ``wanted`` are still walked through (a tree in a kept pack may lead to
    wanted blobs) but not grouped. Objects not met at all are left for the caller.
    """
    want = set(wanted)
    grouping = Grouping()
    commits: dict[ObjectID, Commit] = {}
    root_trees: list[ObjectID] = []
    seen_tags: set[ObjectID] = set()
    stack: list[ObjectID] = []
    for tip in _ref_tips(repo):
        sha: ObjectID | None = tip
        while sha is not None:
            obj = _load(repo, sha)
            sha = None
            if isinstance(obj, Tag) and obj.id not in seen_tags:
                seen_tags.add(obj.id)
                if obj.id in want:
                    grouping.tags.append(obj.id)
                sha = obj.object[1]
            elif isinstance(obj, Commit):
                stack.append(obj.id)
            elif isinstance(obj, Tree):
                root_trees.append(obj.id)
    while stack:
        sha = stack.pop()
        if sha in commits:
            continue
        obj = _load(repo, sha)
        if isinstance(obj, Commit):
            commits[sha] = obj
            stack.extend(p for p in obj.parents if p not in commits)
    order = _order_commits(commits)
    grouping.commits = [sha for sha in order if sha in want]
    seen: set[ObjectID] = set()
    for top in [commits[sha].tree for sha in order] + root_trees:
        _walk_tree(repo, top, want, seen, grouping.paths)
    return grouping


def _walk_tree(
    repo: Repo,
    top: ObjectID,
    want: set[ObjectID],
    seen: set[ObjectID],
    paths: dict[tuple[int, bytes], list[ObjectID]],
) -> None:
    """Add the trees and blobs under ``top`` not seen before to their path's group."""
    todo: list[tuple[ObjectID, bytes]] = [(top, b"")]
    while todo:
        sha, path = todo.pop()
        if sha in seen:
            continue
        seen.add(sha)
        if sha in want:
            paths.setdefault((TREE, path), []).append(sha)
        tree = _load(repo, sha)
        if not isinstance(tree, Tree):
            continue
        for entry in tree.iteritems():
            if entry.path is None or entry.mode is None or entry.sha is None:
                continue
            if stat.S_ISDIR(entry.mode):
                todo.append((entry.sha, path + entry.path + b"/"))
            elif stat.S_IFMT(entry.mode) != 0o160000 and entry.sha not in seen:  # not a submodule
                seen.add(entry.sha)
                if entry.sha in want:
                    paths.setdefault((BLOB, path + entry.path), []).append(entry.sha)


def delta_bases(count: int, max_depth: int) -> list[int | None]:
    """For each position of a newest-first group, the position of its planned delta base.

    A plain chain (each version against the next newer one) is the smallest, but reading the
    oldest version would mean applying ``count - 1`` deltas. So the group is cut into blocks,
    each starting with a whole object; inside a block every ``stride``-th version (the spine)
    is a delta against the spine version ``stride`` places newer, and the versions between
    against their newer neighbour. Position ``q`` of a block is then ``q // stride +
    q % stride`` deltas deep, which the stride is chosen to keep within ``max_depth``; the
    smallest such stride keeps spine deltas, which span ``stride`` saves, small. A block
    holds up to about ``(max_depth + 2)² / 4`` versions (676 for the default depth of 50).

    Returns:
        ``None`` for versions to store whole, else the position of the base (always smaller).
    """
    if count <= 0:
        return []
    if max_depth <= 0:
        return [None] * count

    def capacity(stride: int) -> int:
        return stride * (max_depth - stride + 2)

    strides = range(1, max_depth + 2)
    fitting = [s for s in strides if capacity(s) >= count]
    stride = fitting[0] if fitting else max(strides, key=capacity)
    block = capacity(stride)
    bases: list[int | None] = []
    for position in range(count):
        q = position % block
        if q == 0:
            bases.append(None)
        elif q % stride:
            bases.append(position - 1)
        else:
            bases.append(position - stride)
    return bases
