"""Syncing the current exploration with the server: fetch, merge if diverged, push.

Decisions (for the user guide):

* Only the exploration the working folder is on is synced, since bringing in someone
  else's saves may change the files on disk.
* Up to date: nothing happens. Only the server moved: the exploration fast-forwards to
  the server's last save and the files on disk follow (refused with `UnsavedChanges` when
  a file the server changed has unsaved changes here). Only this side moved: push.
* Both moved: the server's copy is merged with the prose merge, exactly as merging an
  exploration (a merge save with two parents, "Merge the saves from the server into
  main story"), and pushed. Any unsaved change blocks this (`UnsavedChanges`), as it
  blocks any merge.
* A real conflict is never resolved silently: the merge is left in progress with both
  versions (see `gitwrite.merging`), nothing is pushed, and the outcome says
  ``conflicts``. Once the writer completes the merge, the next sync pushes it. While a
  merge is in progress, sync refuses with `MergeInProgress`.
* A push that loses a race ("stale": someone pushed first) starts over from the fetch,
  after a short random pause, up to ``max_attempts`` times. A merge save made for the lost
  push is taken back first (it was never pushed), so the history gets one merge save per
  sync, not one per lost race; it is kept if the writer saved on top of it meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.errors import SaveConflict
from gitwrite.protocol import ZERO_ID

if TYPE_CHECKING:
    from gitwrite.client import SyncClient
    from gitwrite.merging import MergeOutcome
    from gitwrite.project import Project

SERVER_COPY = "the server's copy"


class SyncStatus(enum.StrEnum):
    UP_TO_DATE = "up to date"
    PUSHED = "pushed"
    FAST_FORWARDED = "fast-forwarded"
    MERGED = "merged and pushed"
    CONFLICTS = "conflicts"


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What a sync did.

    Attributes:
        status: See `SyncStatus`.
        head: The exploration's last save afterwards.
        seq: The repository's event sequence the client last heard of.
        attempts: Rounds of fetch-merge-push it took (more than one after lost races).
        merges: Merge saves made on the way.
        merge: For ``conflicts``, the merge left in progress.
    """

    status: SyncStatus
    head: str | None
    seq: int
    attempts: int
    merges: int = 0
    merge: MergeOutcome | None = None


class _Step(enum.Enum):
    DONE = "done"
    FAST_FORWARDED = "fast-forwarded"
    PUSH = "push"
    MERGED = "merged"
    CONFLICTS = "conflicts"


async def sync_branch(
    client: SyncClient,
    project: Project,
    repo: str,
    *,
    max_attempts: int = 40,
    pause: float = 0.05,
) -> SyncOutcome:
    """Make the server and this project agree on the current exploration.

    Args:
        client: A connected client.
        project: The writer's project (its current exploration is synced).
        repo: The repository's name on the server.
        max_attempts: Rounds before giving up when every push loses a race.
        pause: The first pause after a lost race (doubling, randomised, at most 1 s).

    Raises:
        UnsavedChanges: unsaved work stands in the way of a fast-forward or merge.
        MergeInProgress: a merge waits for the writer.
        SyncError: the server refused (for example ``forbidden``), or every attempt lost.
    """
    from gitwrite.client import SyncError

    project.explorations.merger.refuse_if_merging("sync")
    ref = f"refs/heads/{project.current_branch}"
    merges = 0
    unpushed: tuple[ObjectID, ObjectID] | None = None  # (our merge save, the head before it)
    for attempt in range(1, max_attempts + 1):
        if unpushed is not None and await asyncio.to_thread(_undo_merge, project, ref, *unpushed):
            merges -= 1
        unpushed = None
        before = project.head_id()
        # Every ref, as `git fetch` does: the branch may not exist there yet (asking for
        # it by name would be an error), and the other mirrors stay current on the way.
        fetched = await client.fetch(repo, project.repo)
        remote_id = fetched.refs.get(ref)
        step, merge = await asyncio.to_thread(_integrate, project, ref, remote_id, client.remote)
        if step is _Step.CONFLICTS:
            return SyncOutcome(
                SyncStatus.CONFLICTS, _head(project), fetched.seq, attempt, merges, merge
            )
        if step is _Step.MERGED:
            merges += 1
            head = project.head_id()
            if before is not None and head is not None:
                unpushed = (head, before)
        if step in (_Step.DONE, _Step.FAST_FORWARDED):
            status = SyncStatus.UP_TO_DATE if step is _Step.DONE else SyncStatus.FAST_FORWARDED
            if merges:
                status = SyncStatus.MERGED
            return SyncOutcome(status, _head(project), fetched.seq, attempt, merges)
        result = await client.push(repo, project.repo, [ref], old={ref: remote_id or ZERO_ID})
        if result.status == "ok":
            status = SyncStatus.MERGED if merges else SyncStatus.PUSHED
            return SyncOutcome(status, _head(project), result.seq, attempt, merges)
        await asyncio.sleep(random.uniform(0, min(1.0, pause * 2 ** (attempt - 1))))
    raise SyncError("stale", f"gave up after {max_attempts} attempts: others kept pushing first")


def _head(project: Project) -> str | None:
    head = project.head_id()
    return head.decode() if head is not None else None


def _integrate(
    project: Project, ref: str, remote_id: str | None, remote: str
) -> tuple[_Step, MergeOutcome | None]:
    """Bring the server's ``remote_id`` of ``ref`` into the current exploration (runs in
    a worker thread): nothing to do, fast-forward, push as it is, or merge first."""
    local = project.head_id()
    if remote_id is None or remote_id == ZERO_ID:
        return (_Step.PUSH if local is not None else _Step.DONE), None
    theirs = ObjectID(remote_id.encode())
    if local == theirs:
        return _Step.DONE, None
    explorations = project.explorations
    if local is None or explorations.is_ancestor(local, theirs):
        _fast_forward(project, ref, local, theirs)
        return _Step.FAST_FORWARDED, None
    if explorations.is_ancestor(theirs, local):
        return _Step.PUSH, None
    our_name = explorations.display_name(project.current_branch)
    outcome = explorations.merger.merge_commit(
        theirs,
        f"{our_name} on the server",
        remotes.tracking_ref(remote, ref),
        f"Merge the saves from the server into {our_name}",
    )
    return (_Step.MERGED if outcome.clean else _Step.CONFLICTS), outcome


def _fast_forward(project: Project, ref: str, old: ObjectID | None, new: ObjectID) -> None:
    """Move the current exploration to ``new``, a descendant of its last save.

    The files are written before the ref moves: a crash in between leaves the server's
    text on disk as unsaved changes, never the old text under the new save.
    """
    before = project.head_entries()
    target = project.commit(new.decode())
    after = project.tree_entries(target.tree)
    changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p)]
    project.require_saved("bring in the saves from the server", changed)
    project.checkout_tree(target.tree, previous=before)
    refs = project.repo.refs
    name = Ref(ref.encode())
    moved = refs.add_if_new(name, new) if old is None else refs.set_if_equals(name, old, new)
    if not moved:
        current = project.head_id()
        raise SaveConflict(old.decode() if old else None, current.decode() if current else None)


def _undo_merge(project: Project, ref: str, merge: ObjectID, before: ObjectID) -> bool:
    """Take back a merge save that lost its push race, so the next attempt merges the
    server's newer saves into the writer's own once, instead of stacking a merge save per
    lost race. It was never pushed, so no one else has it.

    Kept (returns False) when the writer saved on top of it meanwhile, or has unsaved
    changes in a file it touched. The branch moves before the files: a crash in between
    leaves the merged text on disk as unsaved changes, never a silent revert of it.
    """
    if project.head_id() != merge:
        return False
    merged = project.head_entries()
    target = project.commit(before.decode())
    restored = project.tree_entries(target.tree)
    changed = [p for p in set(merged) | set(restored) if merged.get(p) != restored.get(p)]
    if project.unsaved_paths(changed):
        return False
    if not project.repo.refs.set_if_equals(Ref(ref.encode()), merge, before):
        return False
    project.checkout_tree(target.tree, previous=merged)
    return True
