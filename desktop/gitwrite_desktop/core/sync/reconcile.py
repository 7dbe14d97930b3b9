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
  merges with the prose merge (`treemerge`) into a merge save "Merge the saves from the
  server into main story". That save is pushed FIRST and adopted here only once the
  server took it (`adopt`): a push that loses a race to another writer leaves nothing
  behind (no merge save per lost race, no file written for a merge that was never
  shared), and the next round merges with the newer server copy. A conflict writes
  nothing at all: it is returned as a `SyncConflict` with both versions, the writer's
  text untouched;
* a milestone that differs is left alone (a milestone never moves by itself).

A push the server refused for a given local id (a beta reader's saves to the main
story) is not planned again until that ref moves here. A refused merge save is adopted
here all the same, so that writer still gets everyone else's saves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.ancestry import ancestry
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
    """A ref to push: from ``old`` (the server's id, `ZERO_ID` if it has none) to ``new``.

    ``adopt`` is set for a merge made for this push: the local ref still holds that id,
    and moves to ``new`` once the server took it (`adopt`).
    """

    ref: str
    old: str
    new: str
    adopt: str | None = None


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

    def push(
        self, ref: str, old: ObjectID | None, new: ObjectID, adopt: ObjectID | None = None
    ) -> None:
        if (ref, new.decode()) in self.refused:
            return
        self.out.pushes.append(
            PlannedPush(
                ref,
                old.decode() if old else ZERO_ID,
                new.decode(),
                adopt.decode() if adopt is not None else None,
            )
        )

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
            graph = ancestry(self.repo)
            if graph.is_ancestor(ours, theirs):
                self.catch_up(ref, ours, theirs)
            elif graph.is_ancestor(theirs, ours):
                self.push(ref, theirs, ours)
            elif kind == "annotations":
                self.push(ref, theirs, union_merge(self.project, ours, theirs), adopt=ours)
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
        tree = write_tree(self.project, merge.entries())
        message = merge_message(self.project, ref)
        merged = make_commit(self.project, tree, [ours, theirs], message)
        self.push(ref, theirs, merged, adopt=ours)


def adopt(project: Project, push: PlannedPush, out: Reconciled) -> bool:
    """After the server took ``push``, move the local ref from ``push.adopt`` to the merge
    save it pushed (for the checked-out exploration, writing the files the merge changed).

    Nothing moves (False) when the writer saved on top meanwhile, a merge of their own is
    in progress, or a file the merge changes has unsaved changes (noted in ``out``): the
    next round sees the server ahead and catches up, or merges with the new save.
    """
    assert push.adopt is not None
    old, new = ObjectID(push.adopt.encode()), ObjectID(push.new.encode())
    name = Ref(push.ref.encode("utf-8", "surrogateescape"))
    if project.repo.refs[name] != old:
        return False
    if push.ref != HEADS + project.current_branch:
        return bool(project.repo.refs.set_if_equals(name, old, new, message=b"gitwrite: sync"))
    before = project.tree_entries(project.commit(push.adopt).tree)
    after = project.tree_entries(project.commit(push.new).tree)
    reconciler = _Reconciler(project, frozenset())
    reconciler.out = out
    if reconciler._held_back(changed_paths(before, after)):
        return False
    return fast_forward(project, push.ref, old, new) is not None


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
