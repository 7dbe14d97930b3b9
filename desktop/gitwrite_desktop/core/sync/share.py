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
   fetch. ``forbidden`` is recorded: that local id is not offered again, and the share
   shows an error saying the writer's saves are kept on this computer.

A connection lost mid-round asks for another round, run after the reconnect. Other
failures show as the share's error and the round is retried after a pause.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gitwrite.client import Disconnected, SyncClient, SyncError
from gitwrite.errors import GitWriteError
from gitwrite.protocol import ErrorCode, Fetch, FetchResult, Push, PushResult, RefUpdate
from gitwrite_desktop.core.sync.debounce import Coalescer
from gitwrite_desktop.core.sync.operations import (
    FetchedPack,
    Integrate,
    Integrated,
    ReadyPush,
    RecordPushes,
    RecordSyncError,
)

if TYPE_CHECKING:
    from gitwrite_desktop.core.sync.engine import SyncEngine
    from gitwrite_desktop.core.sync.link import AccountLink
    from gitwrite_desktop.core.sync.operations import Target
    from gitwrite_desktop.core.workspace import Share

log = logging.getLogger(__name__)

REFUSED = {ErrorCode.FORBIDDEN, ErrorCode.INVALID_REF}
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
        self.refused: set[tuple[str, str]] = set()
        self.refusals: dict[str, str] = {}
        self.failure: str | None = None
        options = engine.options
        self.coalescer = Coalescer(
            self._round, settle=options.settle, max_wait=options.max_wait, name=str(self.key)
        )
        self.task = asyncio.get_running_loop().create_task(self.coalescer.run())
        self._retry: asyncio.TimerHandle | None = None
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
        try:
            client = await self.link.client()
            result = await self._sync(client, fetch_first=reasons != {"local"})
            self.failure = None
            self._finished(result)
        except Disconnected:
            self.coalescer.request("connect")  # once connected again
        except (SyncError, GitWriteError) as exc:
            await self._failed(str(exc))
        finally:
            self._activity(busy=False)

    async def _sync(self, client: SyncClient, *, fetch_first: bool) -> Integrated:
        options = self.engine.options
        for attempt in range(1, options.max_rounds + 1):
            fetched = await self._fetch(client) if fetch_first else None
            done = await self.engine.run_op(Integrate(self.share, fetched, frozenset(self.refused)))
            if not done.pushes or await self._push(client, done.pushes):
                return done
            fetch_first = True
            pause = options.stale_pause * 2 ** min(attempt - 1, 5)
            await asyncio.sleep(random.uniform(0, min(1.0, pause)))
        raise SyncError("stale", f"others kept saving first ({options.max_rounds} attempts)")

    async def _fetch(self, client: SyncClient) -> FetchedPack:
        request = Fetch(id=client.next_id(), repo=self.repository)
        answer = await client.request(request)
        assert isinstance(answer, FetchResult)
        self.seq = max(self.seq, answer.seq)
        return FetchedPack(answer.refs, answer.seq, answer.pack)

    async def _push(self, client: SyncClient, pushes: tuple[ReadyPush, ...]) -> bool:
        """Push each ref; True when none lost a race."""
        pushed: dict[str, str] = {}
        raced = False
        for ready in pushes:
            planned = ready.push
            update = RefUpdate(planned.ref, planned.old, planned.new)
            message = Push(
                id=client.next_id(), repo=self.repository, updates=[update], pack=ready.pack
            )
            self.link.expect(self.repository, planned.ref, planned.new)
            try:
                answer = await client.request(message)
            except SyncError as exc:
                if exc.code in REFUSED:
                    self._refused(planned.ref, planned.new, exc.message)
                    continue
                if exc.code in RACED:
                    raced = True
                    continue
                raise
            assert isinstance(answer, PushResult)
            if answer.status == "ok":
                pushed[planned.ref] = planned.new
                self.refusals.pop(planned.ref, None)
            else:
                raced = True
        if pushed:
            await self.engine.run_op(RecordPushes(self.share, pushed))
        return not raced

    def _refused(self, ref: str, new: str, message: str) -> None:
        self.refused.add((ref, new))
        self.refusals[ref] = (
            f"the server refused your saves to {_ref_name(ref)} ({message}); "
            "they are kept on this computer"
        )
        log.info("sync: %s refused %s: %s", self.repository, ref, message)

    def _finished(self, result: Integrated) -> None:
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
