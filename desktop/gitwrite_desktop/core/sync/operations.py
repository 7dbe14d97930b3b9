"""The sync engine's git and cache work, as operations on the one writer thread.

The engine's own thread only talks to the network: every pack it applies, ref it moves,
merge it makes, pack it builds and sync state it records goes through these operations,
queued behind the writer's saves like any other (DESIGN §9: one thread owns all git and
SQLite writes). Building a pack reads the repository, and a `Project` belongs to the
writer thread, so that is an operation too.

`Integrate` and `RecordPushes` are internal to the engine (`Internal`: the engine's
observer of saves ignores them, having planned their pushes itself). `GetSyncConflicts`
and `ResolveSyncConflict` are for the UI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.ancestry import ancestry
from gitwrite.client import SyncError
from gitwrite.errors import MergeInProgress, SaveConflict
from gitwrite.packs import IncompleteHistory, MissingBases, PackError, build_push_pack
from gitwrite.protocol import ZERO_ID, ErrorCode
from gitwrite_desktop.core import syncstate
from gitwrite_desktop.core.changes import Changes
from gitwrite_desktop.core.context import merging
from gitwrite_desktop.core.operations import Operation
from gitwrite_desktop.core.sync.errors import NothingToResolve
from gitwrite_desktop.core.sync.reconcile import (
    PlannedPush,
    Reconciled,
    adopt,
    commit_merge,
    reconcile,
)
from gitwrite_desktop.core.sync.storing import store_pack
from gitwrite_desktop.core.sync.treemerge import SyncConflict, merge_saves, resolve
from gitwrite_desktop.core.syncstate import SyncStates

if TYPE_CHECKING:
    from gitwrite.project import Project
    from gitwrite_desktop.core.context import WriterContext
    from gitwrite_desktop.core.workspace import Account, Share


class Internal:
    """Marks the engine's own operations (its save observer ignores them)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A shared project the engine syncs, with its account and what the cache knows."""

    share: Share
    account: Account
    path: str
    last_seq: int


@dataclass(frozen=True, slots=True)
class Targets:
    """Every account, and every share whose account and project are in the workspace."""

    accounts: tuple[Account, ...]
    shares: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class SyncTargets(Operation[Targets], Internal):
    """What the engine syncs (read from the workspace and the cache)."""

    def run(self, ctx: WriterContext, /) -> Targets:
        workspace = ctx.workspace
        accounts = {a.id: a for a in workspace.accounts()}
        projects = {p.id: p for p in workspace.projects()}
        targets = []
        for share in workspace.shares():
            account, entry = accounts.get(share.account_id), projects.get(share.project_id)
            if account is None or entry is None:
                continue
            state = syncstate.read(ctx.db, share.project_id, share.account_id)
            targets.append(Target(share, account, entry.path, state.last_seq))
        return Targets(tuple(accounts.values()), tuple(targets))


@contextlib.contextmanager
def _shared_project(
    ctx: WriterContext, project_id: str, *, tracked: bool = True
) -> Iterator[Project]:
    """The project (noting what changes in it, if ``tracked``); closed after if it was not
    open before (a project synced in the background is not kept open)."""
    was_open = ctx.is_open(project_id)
    try:
        if tracked:
            with ctx.tracked(project_id, saves=False) as project:
                yield project
        else:
            yield ctx.project(project_id)
    finally:
        if not was_open:
            ctx.close_project(project_id)


@dataclass(frozen=True, slots=True)
class FetchedPack:
    """A fetch's answer: the server's refs (all of them), their sequence, the pack."""

    refs: Mapping[str, str]
    seq: int
    pack: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReadyPush:
    push: PlannedPush
    pack: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Integrated:
    """What `Integrate` did, and the pushes left to do (`BuildPacks` makes their packs)."""

    pushes: tuple[PlannedPush, ...] = ()
    conflicts: tuple[SyncConflict, ...] = ()
    waiting: tuple[str, ...] = ()
    merge_in_progress: bool = False
    moved: tuple[str, ...] = ()
    haves: tuple[str, ...] = ()


def store_fetched(project: Project, remote: str, repository: str, fetched: FetchedPack) -> None:
    """Apply a fetched pack and mirror the server's refs (as `SyncClient.fetch` does)."""
    try:
        store_pack(project.repo, fetched.pack)
    except (MissingBases, IncompleteHistory) as exc:
        raise SyncError(ErrorCode.MISSING_OBJECTS, str(exc)) from exc
    except PackError as exc:
        raise SyncError(ErrorCode.INVALID_PACK, str(exc)) from exc
    store = project.repo.object_store
    refs = fetched.refs.values()
    absent = [t for t in refs if t != ZERO_ID and ObjectID(t.encode()) not in store]
    if absent:
        shown = ", ".join(sorted(absent)[:3])
        raise SyncError(ErrorCode.MISSING_OBJECTS, f"the server's refs point at {shown}")
    remotes.record(project.repo, remote, fetched.refs, complete=True, source=repository)


def _packs(project: Project, remote: str, pushes: list[PlannedPush]) -> tuple[ReadyPush, ...]:
    known = list(remotes.tracked(project.repo, remote).values())
    graph = ancestry(project.repo)
    ready = []
    for push in pushes:
        bases = known + ([ObjectID(push.old.encode())] if push.old != ZERO_ID else [])
        new = ObjectID(push.new.encode())
        # The commits the new ones build on (for a milestone's tag object: the heads).
        pack = build_push_pack(project.repo, [new], graph.boundary(new, bases) or bases)
        ready.append(ReadyPush(push, pack))
    return tuple(ready)


def _needs_push(project: Project, server: Mapping[str, ObjectID]) -> bool:
    """`syncstate.needs_push`, with the remembered ancestry (`ancestry`)."""
    graph = ancestry(project.repo)
    for ref, sha in syncstate.local_refs(project).items():
        theirs = server.get(ref)
        if theirs == sha:
            continue
        if theirs is None or ref.startswith("refs/tags/"):
            return True
        if theirs not in project.repo.object_store:
            return True
        if not graph.is_ancestor(sha, theirs):
            return True
    return False


def record_state(ctx: WriterContext, project: Project, share: Share, seq: int | None) -> None:
    tracked = remotes.tracked(project.repo, share.remote)
    states = SyncStates(ctx.db)
    pid, aid = share.project_id, share.account_id
    with ctx.cache.write():
        if seq is not None:
            states.set_last_seq(pid, aid, seq)
        heads = {name: sha.decode() for name, sha in tracked.items()}
        states.set_server_heads(pid, aid, heads, complete=True)
        states.set_needs_push(pid, aid, _needs_push(project, tracked))
        states.record_success(pid, aid)
    ctx.note(Changes(sync=frozenset({pid})))


@dataclass(frozen=True, slots=True)
class Integrate(Operation[Integrated], Internal):
    """Store what a fetch brought (if anything), reconcile the project with the server's
    refs (`gitwrite_desktop.core.sync.reconcile`), record the sync state, and say what is
    left to push."""

    share: Share
    fetched: FetchedPack | None = None
    refused: Set[tuple[str, str]] = field(default_factory=frozenset)

    def run(self, ctx: WriterContext, /) -> Integrated:
        share = self.share
        with _shared_project(ctx, share.project_id) as project:
            before = remotes.tracked(project.repo, share.remote)
            if self.fetched is not None:
                store_fetched(project, share.remote, share.repository, self.fetched)
            done = reconcile(project, share.remote, before, self.refused)
            record_state(ctx, project, share, self.fetched.seq if self.fetched else None)
            haves = tuple(remotes.haves(project.repo, share.remote))
        return Integrated(
            tuple(done.pushes),
            tuple(done.conflicts),
            tuple(dict.fromkeys(done.waiting)),
            done.merge_in_progress,
            tuple(done.moved),
            haves,
        )


@dataclass(frozen=True, slots=True)
class BuildPacks(Operation["tuple[ReadyPush, ...]"], Internal):
    """The thin pack of each push (what the server lacks, against what it has)."""

    share: Share
    pushes: tuple[PlannedPush, ...]

    def run(self, ctx: WriterContext, /) -> tuple[ReadyPush, ...]:
        with _shared_project(ctx, self.share.project_id, tracked=False) as project:
            return _packs(project, self.share.remote, list(self.pushes))


@dataclass(frozen=True, slots=True)
class Haves(Operation["tuple[str, ...]"], Internal):
    """The commits to tell the server this copy has (`gitwrite.remotes.haves`)."""

    share: Share

    def run(self, ctx: WriterContext, /) -> tuple[str, ...]:
        with _shared_project(ctx, self.share.project_id, tracked=False) as project:
            return tuple(remotes.haves(project.repo, self.share.remote))


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `RecordPushes` left: the next fetch's haves, and what held a merge back."""

    haves: tuple[str, ...]
    waiting: tuple[str, ...] = ()
    merge_in_progress: bool = False


@dataclass(frozen=True, slots=True)
class RecordPushes(Operation[Recorded], Internal):
    """The server took ``pushed``: mirror them and adopt the merge saves among them
    (`reconcile.adopt`). The merge saves in ``refused`` are adopted too (the writer keeps
    their own saves and gets the server's), though the server did not take them."""

    share: Share
    pushed: tuple[PlannedPush, ...]
    refused: tuple[PlannedPush, ...] = ()

    def run(self, ctx: WriterContext, /) -> Recorded:
        share = self.share
        out = Reconciled()
        with _shared_project(ctx, share.project_id) as project:
            source = f"push to {share.repository}"
            mirrored = {p.ref: p.new for p in self.pushed}
            remotes.record(project.repo, share.remote, mirrored, complete=False, source=source)
            for push in (*self.pushed, *self.refused):
                if push.adopt is not None:
                    adopt(project, push, out)
            record_state(ctx, project, share, None)
            haves = tuple(remotes.haves(project.repo, share.remote))
        return Recorded(haves, tuple(dict.fromkeys(out.waiting)), out.merge_in_progress)


@dataclass(frozen=True, slots=True)
class RecordSyncError(Operation[None], Internal):
    share: Share
    message: str

    def run(self, ctx: WriterContext, /) -> None:
        with ctx.cache.write():
            SyncStates(ctx.db).record_error(
                self.share.project_id, self.share.account_id, self.message
            )
        ctx.note(Changes(sync=frozenset({self.share.project_id})))


# -- conflicts, for the UI -------------------------------------------------------------


def _diverged(project: Project, remote: str) -> Iterator[tuple[str, ObjectID, ObjectID]]:
    """Branches whose saves and the server's (as last fetched) both moved on."""
    server = remotes.tracked(project.repo, remote)
    for ref, ours in syncstate.local_refs(project).items():
        theirs = server.get(ref)
        if not ref.startswith("refs/heads/") or theirs is None or theirs == ours:
            continue
        graph = ancestry(project.repo)
        if not graph.is_ancestor(ours, theirs) and not graph.is_ancestor(theirs, ours):
            yield ref, ours, theirs


@dataclass(frozen=True, slots=True)
class GetSyncConflicts(Operation["list[SyncConflict]"]):
    """The conflicts between the writer's saves and the server's, with both versions of
    every conflicted file (computed afresh: nothing is written)."""

    project_id: str
    remote: str = remotes.DEFAULT_REMOTE

    def run(self, ctx: WriterContext, /) -> list[SyncConflict]:
        project = ctx.project(self.project_id)
        found = []
        for ref, ours, theirs in _diverged(project, self.remote):
            merge = merge_saves(project, ours, theirs)
            if not merge.clean:
                found.append(merge.conflict(ref))
        return found


@dataclass(frozen=True, slots=True)
class ResolveSyncConflict(Operation[str]):
    """Merge the server's saves into an exploration with the writer's text for each
    conflicted file (None deletes it); returns the merge save's id. The engine pushes it.

    The merge is computed again from the branch and the server's copy as they are now,
    so a resolution made while either moved on still covers every conflict, or is
    refused with `UnresolvedConflicts` naming the files left.

    Raises:
        UnresolvedConflicts: a conflicted file has no resolution.
        UnsavedChanges: a file the merge writes has unsaved changes (checked-out
            exploration only).
        NothingToResolve: the server has no copy of that exploration.
        SaveConflict: the exploration moved while the merge was made (try again).
        MergeInProgress: the writer's own merge waits (checked-out exploration only).
    """

    project_id: str
    resolutions: Mapping[str, str | bytes | None]
    ref: str | None = None
    remote: str = remotes.DEFAULT_REMOTE

    def run(self, ctx: WriterContext, /) -> str:
        with ctx.tracked(self.project_id) as project:
            ref = self.ref or f"refs/heads/{project.current_branch}"
            theirs = remotes.tracked(project.repo, self.remote).get(ref)
            ours = project.repo.refs[Ref(ref.encode("utf-8", "surrogateescape"))]
            if theirs is None:
                raise NothingToResolve(ref)
            merge = resolve(project, merge_saves(project, ours, theirs), self.resolutions)
            if ref == f"refs/heads/{project.current_branch}":
                if merging(project):
                    raise MergeInProgress("the merge in progress", "merge the server's saves")
                project.require_saved("merge the server's saves", list(merge.changed))
            merged = commit_merge(project, ref, merge)
            if merged is None:
                current = project.repo.refs[Ref(ref.encode("utf-8", "surrogateescape"))]
                raise SaveConflict(ours.decode(), current.decode())
        return merged.decode()
