"""Merging the writer's saves with the server's, computed on trees: nothing is written to
the working folder, the index or any ref here.

`merge_saves` merges two saves three ways against the last one both share, file by file
as merging an exploration does (`gitwrite.merging`): a file only one side changed takes
that side; a text both changed goes through the prose merge (paragraphs, sentences,
words); both changing the same words, one deleting what the other changed, or both
changing a binary file is a conflict, kept with all three versions (`FileConflict`,
with the proposed text between labelled markers for display). The caller decides what
to do: `gitwrite_desktop.core.sync.reconcile` makes a merge save of a clean merge and
records a `SyncConflict` otherwise, leaving the writer's text exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit, ObjectID, Tree

from gitwrite.ancestry import ancestry
from gitwrite.errors import UnresolvedConflicts
from gitwrite.mergestate import FileConflict
from gitwrite.merging import merge_file
from gitwrite.paths import check_path

if TYPE_CHECKING:
    from gitwrite.project import Project
    from gitwrite.worktree import TreeEntries

Entry = tuple[int, ObjectID]
OURS_LABEL = "your saves"
THEIRS_LABEL = "the server's saves"
BASE_LABEL = "original"


@dataclass(frozen=True, slots=True)
class SyncConflict:
    """An exploration whose saves and the server's changed the same words.

    Nothing was written: the writer's branch, files and index are as they were, and the
    server's saves are kept under the remote-tracking ref. `ResolveSyncConflict` makes
    the merge save from the writer's choices.

    Attributes:
        ref: The branch (``refs/heads/main``).
        ours: The writer's last save on it.
        theirs: The server's last save on it.
        base: The last save both share (None when they share none).
        files: Each conflicted file with its three versions and the proposed text.
    """

    ref: str
    ours: str
    theirs: str
    base: str | None
    files: tuple[FileConflict, ...]

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(slots=True)
class TreeMerge:
    """A merge of two saves, computed in full.

    Attributes:
        changed: Path → its new entry (None: deleted) where the merge differs from ours.
        conflicts: Files the merge could not settle (their entries stay as ours).
    """

    ours: ObjectID
    theirs: ObjectID
    base: ObjectID | None
    our_entries: TreeEntries
    changed: dict[str, Entry | None] = field(default_factory=dict)
    conflicts: list[FileConflict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts

    def entries(self) -> TreeEntries:
        """The merged tree, path → entry (conflicted paths as ours)."""
        merged = dict(self.our_entries)
        for path, entry in self.changed.items():
            if entry is None:
                merged.pop(path, None)
            else:
                merged[path] = entry
        return merged

    def conflict(self, ref: str) -> SyncConflict:
        return SyncConflict(
            ref,
            self.ours.decode(),
            self.theirs.decode(),
            self.base.decode() if self.base is not None else None,
            tuple(self.conflicts),
        )


def _same(a: Entry | None, b: Entry | None) -> bool:
    """Same content (modes aside: the working folder does not keep them apart)."""
    return (a is None) == (b is None) and (a is None or b is None or a[1] == b[1])


def _tree_of(project: Project, commit_id: ObjectID | None) -> TreeEntries:
    if commit_id is None:
        return {}
    commit = project.repo.object_store[commit_id]
    assert isinstance(commit, Commit)
    return project.tree_entries(commit.tree)


def merge_saves(project: Project, ours: ObjectID, theirs: ObjectID) -> TreeMerge:
    """Merge the save ``theirs`` into ``ours`` on trees (see the module doc)."""
    bases = ancestry(project.repo).merge_bases(ours, theirs)
    base = bases[0] if bases else None
    base_entries, our_entries = _tree_of(project, base), _tree_of(project, ours)
    their_entries = _tree_of(project, theirs)
    merge = TreeMerge(ours, theirs, base, our_entries)
    for path in sorted(set(base_entries) | set(our_entries) | set(their_entries)):
        check_path(path)  # a tree from elsewhere must never name a file outside the folder
        b, o, t = base_entries.get(path), our_entries.get(path), their_entries.get(path)
        if _same(o, t) or _same(b, t):
            continue
        if _same(b, o):
            merge.changed[path] = t
            continue
        _merge_file(project, merge, path, (b, o, t))
    return merge


def _merge_file(
    project: Project,
    merge: TreeMerge,
    path: str,
    sides: tuple[Entry | None, Entry | None, Entry | None],
) -> None:
    result = merge_file(project.repo, path, sides, (OURS_LABEL, THEIRS_LABEL))
    if result.entry is not None:
        merge.changed[path] = result.entry
    elif result.conflict is not None:
        merge.conflicts.append(result.conflict)


def resolve(
    project: Project, merge: TreeMerge, resolutions: Mapping[str, str | bytes | None]
) -> TreeMerge:
    """The merge with each conflicted file given the writer's text (None deletes it).

    Raises:
        UnresolvedConflicts: a conflicted file has no resolution.
    """
    missing = [c.path for c in merge.conflicts if c.path not in resolutions]
    if missing:
        raise UnresolvedConflicts(missing)
    resolved = TreeMerge(merge.ours, merge.theirs, merge.base, merge.our_entries)
    resolved.changed = dict(merge.changed)
    for conflict in merge.conflicts:
        text = resolutions[conflict.path]
        if text is None:
            resolved.changed[conflict.path] = None
            continue
        blob = Blob.from_string(text.encode("utf-8") if isinstance(text, str) else text)
        project.repo.object_store.add_object(blob)
        mode = (merge.our_entries.get(conflict.path) or (0o100644, blob.id))[0]
        resolved.changed[conflict.path] = (mode, blob.id)
    return resolved


def write_tree(project: Project, entries: TreeEntries) -> ObjectID:
    """Store the tree of ``entries`` (path → mode, blob id) and return its id."""
    store = project.repo.object_store
    if not entries:
        tree = Tree()
        store.add_object(tree)
        return tree.id
    return commit_tree(
        store,
        [(p.encode("utf-8", "surrogateescape"), sha, mode) for p, (mode, sha) in entries.items()],
    )


def make_commit(
    project: Project, tree: ObjectID, parents: Sequence[ObjectID], message: str
) -> ObjectID:
    """Store a commit by the project's author (no ref moves) and return its id."""
    commit = Commit()
    commit.tree = tree
    commit.parents = list(parents)
    commit.author = commit.committer = project.author.identity()
    now = int(time.time())
    commit.author_time = commit.commit_time = now
    commit.author_timezone = commit.commit_timezone = time.localtime(now).tm_gmtoff
    commit.encoding = b"UTF-8"
    commit.message = message.rstrip("\n").encode("utf-8") + b"\n"
    project.repo.object_store.add_object(commit)
    return commit.id
