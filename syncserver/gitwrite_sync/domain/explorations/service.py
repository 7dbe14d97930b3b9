"""Explorations over REST: list, create from a save, delete, merge.

Names follow the desktop's rule (`gitwrite.explorations.branch_for`): "darker ending" is
the branch ``darker-ending``; a name that differs only in letter case from another
exploration or a milestone is taken. The server keeps no typed names (the desktop keeps
them in its own config), so an exploration is shown by its branch with spaces for
dashes. Every change goes through the sync service's push (`content.apply`), so roles,
the event, the indexing job and the live notice are those of a push.

A merge needs the ``merge`` role (owners and editors). It is made only when clean: the
merge save has the target's last save and the exploration's as parents (even when the
target could simply move, as on the desktop). With any conflict nothing changes and the
answer lists the conflicting files.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from gitwrite.errors import InvalidName
from gitwrite.explorations import MAIN_STORY, branch_for, normalise_name
from gitwrite.merging import default_message
from gitwrite.trailers import add_word_trailer
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import CommitRow, User
from gitwrite_sync.domain.access import BRANCH_PREFIX, TAG_PREFIX, Action, require
from gitwrite_sync.domain.content import (
    RepoReader,
    TreeWriter,
    apply,
    author_of,
    branch_name,
    make_commit,
    require_ref,
    shown_name,
)
from gitwrite_sync.domain.explorations import merge
from gitwrite_sync.domain.explorations.schemas import Exploration, MergeResult
from gitwrite_sync.domain.history.walk import Histories
from gitwrite_sync.domain.sync import SyncService
from gitwrite_sync.errors import Conflict, Forbidden, InvalidInput, MergeConflict


async def list_explorations(reader: RepoReader, histories: Histories) -> list[Exploration]:
    """Every exploration, the main story first, then by name."""
    refs = await reader.refs()
    heads = {branch_name(r): sha for r, sha in refs.items() if r.startswith(BRANCH_PREFIX)}
    rows = await reader.session.execute(
        select(CommitRow.sha, CommitRow.created_at, CommitRow.summary).where(
            CommitRow.repo_id == reader.repo.id, CommitRow.sha.in_(set(heads.values()))
        )
    )
    info = {row.sha: (row.created_at, row.summary) for row in rows}
    main = heads.get(reader.repo.default_branch)
    in_main = (await histories.order(reader, main)).position if main else {}
    found = []
    for branch, head in heads.items():
        if head not in info:
            commit = await reader.commit(head)
            info[head] = (
                datetime.fromtimestamp(commit.author_time, UTC),
                commit.message.decode("utf-8", "replace"),
            )
        when, summary = info[head]
        found.append(
            Exploration(
                name=shown_name(branch, reader.repo.default_branch),
                branch=branch,
                head=head,
                main=branch == reader.repo.default_branch,
                last_saved=when,
                summary=summary.partition("\n")[0],
                merged=head in in_main,
            )
        )
    found.sort(key=lambda e: (not e.main, e.name.casefold(), e.branch))
    return found


class ExplorationService:
    def __init__(self, db: Database, sync: SyncService, histories: Histories) -> None:
        self.db = db
        self.sync = sync
        self.histories = histories

    async def list(self, user: User, repo_name: str) -> list[Exploration]:
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return await list_explorations(
                RepoReader(session, self.sync.objects, repo), self.histories
            )

    async def create(self, user: User, repo_name: str, name: str, at: str | None) -> Exploration:
        """Start an exploration at a save (default: the main story's last save).

        Raises:
            InvalidInput: the name cannot be stored.
            Conflict: the name is taken (an exploration or milestone, in any letter case).
            Forbidden: beta readers make no explorations.
        """
        try:
            branch = branch_for(name)
        except InvalidName as exc:
            raise InvalidInput(str(exc), field="name", reason=exc.reason) from exc
        ref = BRANCH_PREFIX + branch
        async with self.db.read() as session:
            repo, role = await require(session, user, repo_name, Action.READ)
            require_ref(repo, role, ref)
            reader = RepoReader(session, self.sync.objects, repo)
            _check_free(await reader.refs(), name, branch)
            start = await reader.resolve(at)
        await apply(self.sync, user, repo_name, ref, None, start.id)
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            listed = await list_explorations(
                RepoReader(session, self.sync.objects, repo), self.histories
            )
        return next(e for e in listed if e.branch == branch)

    async def delete(self, user: User, repo_name: str, name: str) -> None:
        """Delete an exploration (its saves stay reachable from anything that merged them)."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.PUSH_EXPLORATION)
            reader = RepoReader(session, self.sync.objects, repo)
            ref = await reader.branch_ref(name)
            if ref == reader.default_ref:
                raise Forbidden("the main story cannot be deleted", repository=repo_name)
            head = await reader.head(ref)
        await apply(self.sync, user, repo_name, ref, head, None)

    async def merge(
        self, user: User, repo_name: str, name: str, into: str | None, message: str
    ) -> MergeResult:
        """Merge exploration ``name`` into ``into`` (default: the main story), if clean.

        Raises:
            Forbidden: the role may not merge.
            NotFound: no such exploration.
            InvalidInput: merging an exploration into itself.
            MergeConflict: files both sides changed in ways that need a writer.
            StaleRef: the target moved meanwhile.
        """
        async with self.db.read() as session:
            repo, role = await require(session, user, repo_name, Action.MERGE)
            reader = RepoReader(session, self.sync.objects, repo)
            theirs_ref = await reader.branch_ref(name)
            ours_ref = await reader.branch_ref(into)
            require_ref(repo, role, ours_ref)
            if theirs_ref == ours_ref:
                raise InvalidInput("an exploration cannot be merged into itself", field="into")
            refs = await reader.refs()
            ours, theirs = refs[ours_ref], refs[theirs_ref]
            our_order = await self.histories.order(reader, ours)
            ours_name = shown_name(branch_name(ours_ref), repo.default_branch)
            if theirs in our_order.position:
                return MergeResult("up_to_date", ours_name, None, [], [], False, 0, 0)
            their_order = await self.histories.order(reader, theirs)
            base = next((c for c in their_order.ids if c in our_order.position), None)
            if base is None:
                raise InvalidInput("the two explorations share no save", field="name")
            trees = [(await reader.commit(c)).tree.decode() for c in (base, ours, theirs)]
            files = [await reader.files(t) for t in trees]
            contents = await reader.objects.read_many(session, repo.id, merge.needed(*files))
            blobs = {oid: data for oid, (_, data) in contents.items()}
            theirs_name = shown_name(branch_name(theirs_ref), repo.default_branch)
            base_files, our_files, their_files = files
            planned = await asyncio.to_thread(
                merge.plan, base_files, our_files, their_files, blobs, (ours_name, theirs_name)
            )
            if planned.conflicts:
                raise MergeConflict(
                    f"merging {theirs_name!r} into {ours_name!r} needs a writer's decisions "
                    f"in {len(planned.conflicts)} file(s); nothing was changed",
                    [{"path": p, "kind": k.value} for p, k in planned.conflicts.items()],
                )
            writer = TreeWriter(reader)
            writer.new.extend(planned.blobs)
            tree = await writer.write(trees[1], planned.changes)
        text = message.strip() or default_message(
            theirs_name, ours_name, repo.default_branch, branch_name(theirs_ref)
        )
        added, removed = planned.words
        commit = make_commit(
            tree, [ours, theirs], author_of(user), add_word_trailer(text, added, removed)
        )
        new = commit.id.decode()
        await apply(self.sync, user, repo_name, ours_ref, ours, new, [*writer.new, commit])
        return MergeResult(
            "merged",
            ours_name,
            new,
            [ours, theirs],
            sorted(planned.changes),
            base == ours,
            added,
            removed,
        )


def _check_free(refs: dict[str, str], name: str, branch: str) -> None:
    """`Conflict` when a new exploration's name is taken or would clash with a ref."""
    if normalise_name(name).casefold() == MAIN_STORY:
        raise Conflict("the main story exists already", field="name")
    folded = branch.casefold()
    for ref in refs:
        for prefix, what in ((BRANCH_PREFIX, "exploration"), (TAG_PREFIX, "milestone")):
            if not ref.startswith(prefix):
                continue
            other = ref.removeprefix(prefix)
            if other.casefold() == folded:
                raise Conflict(f"the name is taken by the {what} {other!r}", field="name")
            if prefix == BRANCH_PREFIX and (
                branch.startswith(other + "/") or other.startswith(branch + "/")
            ):
                raise Conflict(
                    f"{name!r} cannot sit beside the exploration {other!r}: one name would be "
                    "a folder of the other",
                    field="name",
                )
