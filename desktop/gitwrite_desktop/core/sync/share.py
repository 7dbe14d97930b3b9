"""Syncing one shared project over its account's connection.

A `ShareSync` runs rounds, one at a time (`Coalescer`): a save asks for one
(``"local"``), so does a notice of someone else's push (``"remote"``), a reconnect
(``"connect"``) or the writer (``"now"``). A round:

1. fetches, unless the only reason is a local save: then it tries the push first (one
   request instead of two; a lost race falls back to fetching);
2. integrates on the writer thread (`Integrate`: store the pack, fast-forward, merge or
   record a conflict, build the packs of what the server lacks);
3. pushes each ref on its own (so a beta reader's annotations go through even though
   their saves to the main story are refused). ``stale`` or ``not_fast_forward`` means
   someone pushed first: after a short random pause the round starts over from the
   fetch. The pause grows with the races lost lately (`ShareSync.contention`, halved
   by each push that lands) and is also taken before the next round's fetch, so twenty
   writers saving at once spread out instead of all fetching, merging and pushing in
   step after every push that lands. ``forbidden`` is recorded: that local id is not
   offered again, and the share shows an error saying the writer's saves are kept on
   this computer.

A connection lost mid-round asks for another round, run after the reconnect; if that
connection still looks open (the server said it is going away, or it broke without its
reader noticing), it is dropped first (`AccountLink.discard`), so a round is never
handed the same dead connection again. Other failures show as the share's error and the
round is retried after a pause. A round one of whose steps (a request, the writer
thread, a pause) has waited `EngineOptions.stall_timeout` is given up and retried, and
where it waited is written down (`ShareStats.stuck`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitwrite.client import Disconnected, SyncClient, SyncError
from gitwrite.errors import GitWriteError
from gitwrite.protocol import ErrorCode, Fetch, FetchResult, Push, PushResult, RefUpdate
from gitwrite_desktop.core.sync import stuck
from gitwrite_desktop.core.sync.debounce import Coalescer
from gitwrite_desktop.core.sync.operations import (
    BuildPacks,
    FetchedPack,
    Haves,
    Integrate,
    Integrated,
    ReadyPush,
    Recorded,
    RecordPushes,
    RecordSyncError,
)
from gitwrite_desktop.core.sync.reconcile import PlannedPush

if TYPE_CHECKING:
    from gitwrite_desktop.core.sync.engine import SyncEngine
    from gitwrite_desktop.core.sync.link import AccountLink
    from gitwrite_desktop.core.sync.operations import Target
    from gitwrite_desktop.core.workspace import Share

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ShareStats:
    """What a share's syncing did so far (for tests, benchmarks and a diagnostics view)."""

    rounds: int = 0
    fetches: int = 0
    fetched_bytes: int = 0
    pushes: int = 0
    pushed_bytes: int = 0
    raced: int = 0
    skipped: int = 0
    refused: int = 0
    failures: int = 0
    timeouts: int = 0
    dropped: int = 0
    """Connections dropped because a request failed on them while they looked open."""
    phase: str = "idle"
    """What the running round is doing (``idle`` between rounds)."""
    stuck: str = ""
    """Where the last round given up for waiting too long in one step was waiting
    (`gitwrite_desktop.core.sync.stuck`)."""


REFUSED = {ErrorCode.FORBIDDEN, ErrorCode.INVALID_REF}
SKIPS = 3
"""Pushes given up in a row because a newer push was heard of before sending."""
RACED = {ErrorCode.NOT_FAST_FORWARD, ErrorCode.MISSING_OBJECTS}


def _ref_name(ref: str) -> str:
    if ref == "refs/heads/main":
        return "the main story"
    if ref.startswith("refs/heads/"):
        return f"the exploration '{ref.removeprefix('refs/heads/')}'"
    if ref.startswith("refs/tags/"):
        return f"the milestone '{ref.removeprefix('refs/tags/')}'"
    return "the annotations"


class ShareSync:
    """One shared project's rounds of sync (see the module doc)."""

    def __init__(self, engine: SyncEngine, link: AccountLink, target: Target) -> None:
        self.engine = engine
        self.link = link
        self.share: Share = target.share
        self.path = target.path
        self.key = (target.share.project_id, target.share.account_id)
        self.seq = target.last_seq
        """The newest event of the repository this copy has caught up with."""
        self.haves: tuple[str, ...] | None = None
        """Commits to tell the server this copy has (None: ask the writer thread)."""
        self.refused: set[tuple[str, str]] = set()
        self.refusals: dict[str, str] = {}
        self.failure: str | None = None
        self.stats = ShareStats()
        self.contention = 0
        """Races lost lately (each raises the pause before trying again)."""
        self.heard = target.last_seq
        """The newest event of the repository the connection told of (`AccountLink`)."""
        self.held = False
        """The last round left the server's saves waiting (unsaved edits of the files
        they change, or a merge in progress): the engine asks for a round when those
        files change or the merge ends."""
        options = engine.options
        self.coalescer = Coalescer(
            self._round, settle=options.settle, max_wait=options.max_wait, name=str(self.key)
        )
        self.task = asyncio.get_running_loop().create_task(self.coalescer.run())
        self._retry: asyncio.TimerHandle | None = None
        self._moved = time.monotonic()
        """When the running round last moved on to a new step."""
        engine.board.share(self.key, self.share.repository)

    @property
    def repository(self) -> str:
        return self.share.repository

    def request(self, reason: str) -> None:
        self.coalescer.request(reason)
        self._activity()

    def _activity(self, *, busy: bool | None = None) -> None:
        running = self.coalescer.busy if busy is None else busy
        self.engine.board.activity(self.key, busy=running, pending=self.coalescer.pending)
        self.engine.publish()

    async def settled(self) -> None:
        """Wait until no round runs or waits."""
        await self.coalescer.idle()

    def close(self) -> None:
        self.task.cancel()
        if self._retry is not None:
            self._retry.cancel()
        self.engine.board.forget_share(self.key)

    # -- a round ----------------------------------------------------------------------

    async def _round(self, reasons: frozenset[str]) -> None:
        self._activity(busy=True)
        self.stats.rounds += 1
        work: asyncio.Task[Integrated] | None = None
        client: SyncClient | None = None
        try:
            self._at("waiting for the connection")  # as long as offline: never given up
            client = await self.link.client()
            self._at("starting")
            work = asyncio.get_running_loop().create_task(
                self._sync(client, fetch_first=reasons != {"local"})
            )
            if not await self._progressing(work):
                await self._give_up(work)
                return
            result = work.result()
            self.failure = None
            if self._retry is not None:  # the retry of an earlier failure is not needed
                self._retry.cancel()
                self._retry = None
            self._finished(result)
        except Disconnected as exc:
            if client is not None and self.link.discard(client, exc):
                self.stats.dropped += 1
            self.coalescer.request("connect")  # once connected again
        except (SyncError, GitWriteError) as exc:
            await self._failed(str(exc))
        finally:
            if work is not None and not work.done():  # the share was closed meanwhile
                work.cancel()
            self._at("idle")
            self._activity(busy=False)

    def _at(self, phase: str) -> None:
        """The round moves on to ``phase`` (`ShareStats.phase`; the watchdog's clock)."""
        self.stats.phase = phase
        self._moved = time.monotonic()

    async def _progressing(self, work: asyncio.Task[Integrated]) -> bool:
        """Wait for the round to end; False as soon as one of its steps has waited
        `EngineOptions.stall_timeout` (a long round that keeps moving, fetching and
        merging again after lost races, is never cut short)."""
        stall = self.engine.options.stall_timeout
        while not work.done():
            left = self._moved + stall - time.monotonic()
            if left <= 0:
                return False
            await asyncio.wait({work}, timeout=left)
        return True

    async def _give_up(self, work: asyncio.Task[Integrated]) -> None:
        """A round must never hold its share forever: say where it waits, end it, retry."""
        phase = self.stats.phase
        where = stuck.awaiting(work)
        writer = stuck.running(self.engine.desktop.writer.thread)
        self.stats.timeouts += 1
        self.stats.stuck = f"{phase}: {where}; writer thread: {writer}"
        log.error("sync: %s: a round is stuck while %s", self.repository, self.stats.stuck)
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        stall = self.engine.options.stall_timeout
        await self._failed(f"a sync waited over {stall:.0f} s ({phase})")

    async def _pause(self) -> None:
        if self.contention:
            self._at("pausing after a lost race")
            window = self.engine.options.stale_pause * 2 ** min(self.contention, 8)
            await asyncio.sleep(random.uniform(0, min(1.0, window)))

    async def _sync(self, client: SyncClient, *, fetch_first: bool) -> Integrated:
        options = self.engine.options
        await self._pause()
        passed = 0
        for _attempt in range(options.max_rounds):
            fetched = await self._fetch(client) if fetch_first else None
            self._at("integrating (writer thread)")
            done = await self.engine.run_op(Integrate(self.share, fetched, frozenset(self.refused)))
            self.haves = done.haves
            if not done.pushes:
                return done
            fetch_first = True
            if fetched is not None and self.heard > fetched.seq and passed < SKIPS:
                # Someone pushed since this fetch: the push would be stale. Fetch again
                # (a few times at most, so a busy project cannot starve this writer).
                passed += 1
                self.stats.skipped += 1
                continue
            passed = 0
            self._at("building packs (writer thread)")
            packs = await self.engine.run_op(BuildPacks(self.share, done.pushes))
            recorded = await self._push(client, packs)
            if recorded is not None:
                self.contention //= 2
                waiting = tuple(dict.fromkeys((*done.waiting, *recorded.waiting)))
                held = done.merge_in_progress or recorded.merge_in_progress
                return replace(done, waiting=waiting, merge_in_progress=held)
            self.contention += 1
            await self._pause()
        raise SyncError("stale", f"others kept saving first ({options.max_rounds} attempts)")

    async def _fetch(self, client: SyncClient) -> FetchedPack:
        if self.haves is None:
            self._at("listing haves (writer thread)")
            self.haves = await self.engine.run_op(Haves(self.share))
        self._at("fetching")
        request = Fetch(id=client.next_id(), repo=self.repository, haves=list(self.haves))
        answer = await client.request(request)
        assert isinstance(answer, FetchResult)
        self.stats.fetches += 1
        self.heard = max(self.heard, answer.seq)
        self.stats.fetched_bytes += len(answer.pack)
        self.seq = max(self.seq, answer.seq)
        return FetchedPack(answer.refs, answer.seq, answer.pack)

    async def _push(self, client: SyncClient, pushes: tuple[ReadyPush, ...]) -> Recorded | None:
        """Push each ref; what was recorded, or None when one lost a race."""
        pushed: list[PlannedPush] = []
        refused: list[PlannedPush] = []
        raced = False
        for ready in pushes:
            planned = ready.push
            update = RefUpdate(planned.ref, planned.old, planned.new)
            message = Push(
                id=client.next_id(), repo=self.repository, updates=[update], pack=ready.pack
            )
            self.link.expect(self.repository, planned.ref, planned.new)
            self._at(f"pushing {planned.ref}")
            try:
                answer = await client.request(message)
            except SyncError as exc:
                if exc.code in REFUSED:
                    self.stats.refused += 1
                    self._refused(planned.ref, planned.new, exc.message)
                    refused.append(planned)
                    continue
                if exc.code in RACED:
                    self.stats.raced += 1
                    raced = True
                    continue
                raise
            assert isinstance(answer, PushResult)
            if answer.status == "ok":
                self.stats.pushes += 1
                self.stats.pushed_bytes += len(ready.pack)
                pushed.append(planned)
                self.refusals.pop(planned.ref, None)
            else:
                self.stats.raced += 1
                raced = True
        recorded = None
        if pushed or any(p.adopt for p in refused):
            operation = RecordPushes(self.share, tuple(pushed), tuple(refused))
            self._at("recording pushes (writer thread)")
            recorded = await self.engine.run_op(operation)
            self.haves = recorded.haves
        if raced:
            return None
        return recorded or Recorded(self.haves or ())

    def _refused(self, ref: str, new: str, message: str) -> None:
        self.refused.add((ref, new))
        self.refusals[ref] = (
            f"the server refused your saves to {_ref_name(ref)} ({message}); "
            "they are kept on this computer"
        )
        log.info("sync: %s refused %s: %s", self.repository, ref, message)

    def _finished(self, result: Integrated) -> None:
        self.held = bool(result.waiting or result.merge_in_progress)
        error = "; ".join(self.refusals[r] for r in sorted(self.refusals)) or None
        self.engine.board.synced(
            self.key,
            datetime.now(UTC),
            conflicts=result.conflicts,
            waiting=result.waiting,
            held_by_merge=result.merge_in_progress,
            error=error,
        )

    async def _failed(self, reason: str) -> None:
        log.warning("sync: %s: %s", self.repository, reason)
        self.stats.failures += 1
        self.failure = reason
        self.engine.board.error(self.key, reason)
        self.engine.publish()
        try:
            await self.engine.run_op(RecordSyncError(self.share, reason))
        except GitWriteError:
            log.exception("sync: could not record the failure of %s", self.repository)
        loop = asyncio.get_running_loop()
        if self._retry is not None:
            self._retry.cancel()
        self._retry = loop.call_later(self.engine.options.retry_after, self.request, "retry")
