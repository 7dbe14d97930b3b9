"""Bringing a project and the server's refs (as last fetched) into agreement, on the
writer thread: what moves here, what is merged, what is to be pushed.

For each branch, milestone and the annotations ref, with the server's id as mirrored by
the last fetch (`gitwrite.remotes`) and the local one:

* the same: nothing;
* only on the server: created here, unless it was known before and is gone here (the
  writer deleted it: it is left alone on the server too);
* only here: pushed, unless the server deleted it and this copy has nothing new (then
  it is deleted here; never the exploration the folder is on);
* the server is ahead: the ref moves to the server's save. For the exploration the
  folder is on, the files the server changed are written first, and only when none of
  them has unsaved changes and no merge is in progress (otherwise it waits: `waiting`);
* this side is ahead: pushed;
* both moved: the annotations ref merges as a union of files (never conflicts); a branch
  merges with the prose merge (`treemerge`), making a merge save "Merge the saves from
  the server into main story" that is then pushed. A conflict writes nothing at all: it
  is returned as a `SyncConflict` with both versions, the writer's text untouched;
* a milestone that differs is left alone (a milestone never moves by itself).

A push the server refused for a given local id (a beta reader's saves to the main
story) is not planned again until that ref moves here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.graph import can_fast_forward
from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.protocol import ZERO_ID
from gitwrite_desktop.core.context import merging
from gitwrite_desktop.core.sync.annotations import union_merge
from gitwrite_desktop.core.sync.treemerge import SyncConflict, make_commit, merge_saves, write_tree
from gitwrite_desktop.core.sync.workfolder import changed_paths, fast_forward, write_changes
from gitwrite_desktop.core.syncstate import ANNOTATIONS, local_refs

if TYPE_CHECKING:
    from gitwrite.project import Project
    from gitwrite_desktop.core.sync.treemerge import TreeMerge

log = logging.getLogger(__name__)

HEADS = "refs/heads/"
TAGS = "refs/tags/"
ANNOTATIONS_REF = ANNOTATIONS.decode()


@dataclass(frozen=True, slots=True)
class PlannedPush:
    """A ref to push: from ``old`` (the server's id, `ZERO_ID` if it has none) to ``new``."""

    ref: str
    old: str
    new: str


@dataclass(slots=True)
class Reconciled:
    """What `reconcile` did and what is left to do.

    Attributes:
        pushes: Refs the server should get.
        conflicts: Branches whose merge with the server's conflicts (nothing written).
        waiting: Files whose unsaved changes hold back the server's saves.
        merge_in_progress: The server's saves for the checked-out exploration wait for
            the writer's own merge to be completed or given up.
        moved: Local refs that moved.
    """

    pushes: list[PlannedPush] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    merge_in_progress: bool = False
    moved: list[str] = field(default_factory=list)


def _kind(ref: str) -> str | None:
    if ref == ANNOTATIONS_REF:
        return "annotations"
    if ref.startswith(HEADS):
        return "branch"
    if ref.startswith(TAGS):
        return "tag"
    return None


class _Reconciler:
    def __init__(self, project: Project, refused: Set[tuple[str, str]]) -> None:
        self.project = project
        self.repo = project.repo
        self.refused = refused
        self.current = HEADS + project.current_branch
        self.out = Reconciled()

    def push(self, ref: str, old: ObjectID | None, new: ObjectID) -> None:
        if (ref, new.decode()) in self.refused:
            return
        self.out.pushes.append(PlannedPush(ref, old.decode() if old else ZERO_ID, new.decode()))

    def move(self, ref: str, old: ObjectID | None, new: ObjectID | None) -> bool:
        name = Ref(ref.encode("utf-8", "surrogateescape"))
        refs = self.repo.refs
        if new is None:
            assert old is not None
            moved = refs.remove_if_equals(name, old, message=b"gitwrite: deleted on the server")
        elif old is None:
            moved = refs.add_if_new(name, new, message=b"gitwrite: from the server")
        else:
            moved = refs.set_if_equals(name, old, new, message=b"gitwrite: sync")
        if moved:
            self.out.moved.append(ref)
        else:
            log.warning("sync: %s moved meanwhile; left for the next sync", ref)
        return bool(moved)

    def run(self, before: Mapping[str, ObjectID], server: Mapping[str, ObjectID]) -> Reconciled:
        local = local_refs(self.project)
        for ref in sorted(set(server) | set(local)):
            kind = _kind(ref)
            theirs, ours = server.get(ref), local.get(ref)
            if kind is None or theirs == ours:
                continue
            if ours is None:
                if ref not in before and theirs is not None:
                    self.move(ref, None, theirs)
                continue
            if theirs is None:
                gone = before.get(ref) == ours and ref != self.current
                if gone:
                    self.move(ref, ours, None)
                else:
                    self.push(ref, None, ours)
                continue
            if kind == "tag":
                continue
            if can_fast_forward(self.repo, ours, theirs):
                self.catch_up(ref, ours, theirs)
            elif can_fast_forward(self.repo, theirs, ours):
                self.push(ref, theirs, ours)
            elif kind == "annotations":
                merged = union_merge(self.project, ours, theirs)
                if self.move(ref, ours, merged):
                    self.push(ref, theirs, merged)
            else:
                self.merge(ref, ours, theirs)
        return self.out

    def _held_back(self, paths: list[str]) -> bool:
        """Whether writing ``paths`` must wait (a merge in progress, unsaved changes)."""
        if merging(self.project):
            self.out.merge_in_progress = True
            return True
        unsaved = self.project.unsaved_paths(paths)
        self.out.waiting.extend(unsaved)
        return bool(unsaved)

    def catch_up(self, ref: str, ours: ObjectID, theirs: ObjectID) -> None:
        if ref != self.current:
            self.move(ref, ours, theirs)
            return
        before = self.project.tree_entries(self.project.commit(ours.decode()).tree)
        after = self.project.tree_entries(self.project.commit(theirs.decode()).tree)
        if self._held_back(changed_paths(before, after)):
            return
        if fast_forward(self.project, ref, ours, theirs) is not None:
            self.out.moved.append(ref)

    def merge(self, ref: str, ours: ObjectID, theirs: ObjectID) -> None:
        merge = merge_saves(self.project, ours, theirs)
        if not merge.clean:
            self.out.conflicts.append(merge.conflict(ref))
            return
        if ref == self.current and self._held_back(list(merge.changed)):
            return
        merged = commit_merge(self.project, ref, merge)
        if merged is not None:
            self.out.moved.append(ref)
            self.push(ref, theirs, merged)


def merge_message(project: Project, ref: str) -> str:
    name = project.explorations.display_name(ref.removeprefix(HEADS))
    return f"Merge the saves from the server into {name}"


def commit_merge(project: Project, ref: str, merge: TreeMerge) -> ObjectID | None:
    """Make the merge save of a clean (or resolved) merge on ``ref``; returns its id, or
    None when the branch moved meanwhile. For the checked-out exploration the changed
    files are written and saved (the caller has checked none has unsaved changes and no
    merge of the writer's own is in progress); another one gets a commit and no file."""
    entries = merge.entries()
    message = merge_message(project, ref)
    if ref != HEADS + project.current_branch:
        tree = write_tree(project, entries)
        commit = make_commit(project, tree, [merge.ours, merge.theirs], message)
        name = Ref(ref.encode("utf-8", "surrogateescape"))
        moved = project.repo.refs.set_if_equals(
            name, merge.ours, commit, message=b"gitwrite: merge"
        )
        return commit if moved else None
    if project.head_id() != merge.ours:
        return None
    write_changes(project, merge.our_entries, entries)
    save = project.save(
        message, list(merge.changed), extra_parents=[merge.theirs], allow_empty=True
    )
    return ObjectID(save.id.encode())


def reconcile(
    project: Project,
    remote: str,
    before: Mapping[str, ObjectID],
    refused: Set[tuple[str, str]] = frozenset(),
) -> Reconciled:
    """Reconcile ``project`` with the server's refs as mirrored under ``remote`` (see the
    module doc). ``before`` is the mirror as it was before the fetch that just ran."""
    server = remotes.tracked(project.repo, remote)
    return _Reconciler(project, refused).run(before, server)
