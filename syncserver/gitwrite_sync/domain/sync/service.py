"""Push, fetch, refs and replay: the sync protocol's operations for one user (DESIGN §4).

A push is checked in the order DESIGN §4 gives, each step before any work of the next:
the role allows every ref (`gitwrite_sync.domain.access`); the pack parses and every
object is sound; the new history is complete (connectivity); every update is a
fast-forward unless the pusher asked to force and may. Then ONE transaction stores the
objects, moves the refs by compare-and-swap, appends one event per ref and enqueues the
``index_push`` job. A lost race rolls all of it back and answers ``stale`` with the
refs' current ids. Only after the commit is a `Notice` per event published on the
fanout (a hint; the event log is the record).

The service owns its units of work and raises only domain errors (`gitwrite_sync.errors`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite.protocol import ZERO_ID, Notice
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Repository, User
from gitwrite_sync.domain.access import (
    BRANCH_PREFIX,
    TAG_PREFIX,
    Action,
    Role,
    action_for_ref,
    allowed,
    require,
)
from gitwrite_sync.errors import (
    Forbidden,
    InvalidInput,
    NotFastForward,
    NotFound,
    StaleRef,
)
from gitwrite_sync.fanout import Fanout
from gitwrite_sync.settings import Settings
from gitwrite_sync.storage import (
    ByteLRU,
    CommitGraph,
    EventRecord,
    FetchPack,
    ObjectStore,
    PackLimits,
    Prepared,
    RefChange,
    Replay,
    ResolvedPack,
    apply_changes,
    build_fetch_pack,
    prepare,
    read_pack,
    refs_and_seq,
    remember,
    replay,
    store,
)
from gitwrite_sync.workers.queue import enqueue

log = logging.getLogger(__name__)

INDEX_JOB = "index_push"
_HEX_ID = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """``ok`` (applied; ``seq`` is the last event's) or ``stale`` (nothing applied;
    ``refs`` holds the pushed refs' current ids, ``ZERO_ID`` for a ref that is absent)."""

    status: str
    seq: int
    refs: dict[str, str]
    events: tuple[EventRecord, ...] = ()
    objects: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    refs: dict[str, str]
    seq: int
    pack: FetchPack = field(default_factory=FetchPack)


def _empty_pack() -> ResolvedPack:
    return ResolvedPack(b"", [], {}, {}, ByteLRU(0))


class SyncService:
    """The sync operations, over one database, object store and fanout per process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        fanout: Fanout,
        objects: ObjectStore | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.fanout = fanout
        self.objects = objects or ObjectStore()
        self.limits = PackLimits.from_settings(settings)

    # -- reading ---------------------------------------------------------------------

    async def readable(self, user: User, repo_name: str) -> Repository:
        """The repository, if ``user`` may read it (else `NotFound`)."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return repo

    async def list_refs(self, user: User, repo_name: str) -> tuple[dict[str, str], int]:
        """Every ref of the repository and the event sequence they reflect."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return await refs_and_seq(session, repo.id)

    async def replay(self, user: User, repo_name: str, after: int, limit: int = 1000) -> Replay:
        """The repository's events after ``after`` (or: resynchronise)."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            return await replay(session, repo.id, after, limit)

    async def fetch(
        self, user: User, repo_name: str, wants: Sequence[str], haves: Sequence[str]
    ) -> FetchOutcome:
        """A pack of what ``wants`` (ref names or object ids; none = every ref) need that
        ``haves`` (commit ids the client holds with their history) do not, with the refs
        asked for (all of them when none were named) and the sequence they reflect."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            refs, seq = await refs_and_seq(session, repo.id)
            named, ids = _wanted(refs, wants)
            haves = [h for h in haves if _HEX_ID.fullmatch(h)]
            pack = await build_fetch_pack(session, self.objects, repo.id, ids, haves)
        return FetchOutcome(named, seq, pack)

    # -- pushing ---------------------------------------------------------------------

    async def push(
        self,
        user: User,
        repo_name: str,
        changes: Sequence[RefChange],
        pack: bytes = b"",
        *,
        force: bool = False,
    ) -> PushOutcome:
        """Apply ref changes with a pack of the objects they need (see the module docstring).

        Raises:
            NotFound: no such repository for this user.
            Forbidden, RefNotAllowed: the role does not allow a ref, or forcing.
            InvalidInput: a ref twice, or a branch set to something not a commit.
            TooLarge, InvalidPack, MissingObjects: the pack (`gitwrite_sync.storage`).
            NotFastForward: an update would drop saves and was not forced.
        """
        started = time.perf_counter()
        changes = [c for c in changes if c.old != c.new]
        if len({c.ref for c in changes}) != len(changes):
            raise InvalidInput("a push may move each ref only once")
        async with self.db.read() as session:
            repo, role = await require(session, user, repo_name, Action.READ)
            for change in changes:
                _authorise(repo, role, change)
            current, seq = await refs_and_seq(session, repo.id)
            if any(current.get(c.ref, ZERO_ID) != c.old for c in changes):
                return _stale(changes, current, seq)
            if not changes:
                return PushOutcome("ok", seq, {})
            resolved = (
                await read_pack(session, self.objects, repo.id, pack, self.limits)
                if pack
                else _empty_pack()
            )
            targets = [c.new for c in changes if c.new != ZERO_ID]
            prepared = await prepare(session, self.objects, repo.id, resolved, targets)
            await self._check_updates(session, repo, role, resolved, changes, force)
        try:
            events = await self._commit(repo, user, changes, prepared)
        except StaleRef:
            async with self.db.read() as session:
                current, seq = await refs_and_seq(session, repo.id)
            return _stale(changes, current, seq)
        # Others hear first (they fetch at once); then the cache is warmed.
        for event in events:
            notice = Notice(repo.name, event.seq, event.ref, event.old, event.new)
            try:
                await self.fanout.publish(repo.name, notice)
            except Exception:  # the push is committed; a lost hint is recovered by replay
                log.exception("push to %s: publishing event %s failed", repo.name, event.seq)
        try:
            async with self.db.read() as session:
                await remember(session, self.objects, repo.id, prepared)
        except Exception:  # the push is committed; a cold cache only costs a read later
            log.warning("push to %s: its objects stay out of memory", repo.name, exc_info=True)
        seconds = time.perf_counter() - started
        log.info(
            "push to %s by user %s: %d ref(s), %d object(s), %d pack bytes, %.1f ms",
            repo.name,
            user.id,
            len(changes),
            len(prepared.rows),
            len(pack),
            seconds * 1000,
        )
        return PushOutcome(
            "ok",
            events[-1].seq,
            {c.ref: c.new for c in changes},
            tuple(events),
            len(prepared.rows),
            seconds,
        )

    async def _commit(
        self, repo: Repository, user: User, changes: Sequence[RefChange], prepared: Prepared
    ) -> list[EventRecord]:
        """The push's ONE transaction: objects, compare-and-swap, events, job."""
        async with self.db.write() as session:
            await store(session, self.objects, repo.id, prepared)
            events = await apply_changes(session, repo.id, changes, user.id)
            await enqueue(
                session,
                INDEX_JOB,
                {
                    "repo_id": repo.id,
                    "repository": repo.name,
                    "first_seq": events[0].seq,
                    "last_seq": events[-1].seq,
                    "refs": {c.ref: c.new for c in changes},
                },
            )
        return events

    async def _check_updates(
        self,
        session: AsyncSession,
        repo: Repository,
        role: Role,
        pack: ResolvedPack,
        changes: Sequence[RefChange],
        force: bool,
    ) -> None:
        """Branches point at commits; every update is a fast-forward or a permitted force."""
        graph = CommitGraph(session, self.objects, repo.id, pack)
        for change in changes:
            if change.new == ZERO_ID:
                continue
            if not change.ref.startswith(TAG_PREFIX):
                await graph.load([change.new])
                if change.new not in graph.known:
                    raise InvalidInput(
                        f"{change.ref} must point at a save (a commit), not {change.new}",
                        ref=change.ref,
                    )
            if change.old == ZERO_ID:
                continue
            forward = not change.ref.startswith(TAG_PREFIX) and await graph.is_ancestor(
                change.old, change.new
            )
            if forward:
                continue
            if not force:
                raise NotFastForward(
                    f"{change.ref}: {change.new} does not contain {change.old}; fetch and merge "
                    "first (or force, which drops the saves only the server has)",
                    ref=change.ref,
                    old=change.old,
                    new=change.new,
                )
            if not allowed(role, Action.FORCE_PUSH):
                raise Forbidden(
                    f"a {role.value.replace('_', ' ')} may not force {change.ref}",
                    repository=repo.name,
                    role=role.value,
                    action=Action.FORCE_PUSH.value,
                )


def _authorise(repo: Repository, role: Role, change: RefChange) -> None:
    action = action_for_ref(change.ref, repo.default_branch)
    if not allowed(role, action):
        raise Forbidden(
            f"a {role.value.replace('_', ' ')} may not change {change.ref} in {repo.name!r}",
            repository=repo.name,
            role=role.value,
            action=action.value,
            ref=change.ref,
        )
    if change.new == ZERO_ID and change.ref == BRANCH_PREFIX + repo.default_branch:
        raise Forbidden(
            f"the main story ({change.ref}) cannot be deleted",
            repository=repo.name,
            ref=change.ref,
        )


def _stale(changes: Sequence[RefChange], current: dict[str, str], seq: int) -> PushOutcome:
    return PushOutcome("stale", seq, {c.ref: current.get(c.ref, ZERO_ID) for c in changes})


def _wanted(refs: dict[str, str], wants: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The refs named among ``wants`` and the object ids to send for all of them."""
    if not wants:
        return dict(refs), list(dict.fromkeys(refs.values()))
    named: dict[str, str] = {}
    ids: list[str] = []
    for want in wants:
        if want in refs:
            named[want] = refs[want]
            ids.append(refs[want])
        elif _HEX_ID.fullmatch(want):
            ids.append(want)
        else:
            raise NotFound(f"no ref named {want!r}", ref=want)
    return named, list(dict.fromkeys(ids))


__all__ = ["INDEX_JOB", "FetchOutcome", "PushOutcome", "SyncService"]
