"""One account's connection to its server: one WebSocket, kept open, for every project
shared through that account.

The link connects with the account's access token (refreshed first when it is about to
expire, and once more when the server refuses it), telling the server the last event
sequence of each repository so it replays what was missed (`Hello.last_seq`). Once
connected, every shared project syncs a round (fetch, merge, push: nothing is assumed
about what happened while offline). Then notices of other writers' pushes ask their
project for a round; a notice of the link's own push is recognised and skipped; a
``resync`` asks for a round too. When the connection ends, rounds in flight wait for the
next one, and the link waits (`Backoff`: exponential with full jitter, at least the
server's ``retry_ms`` when it said it was going away) before connecting again; the wait
is cut short by `AccountLink.wake` (the writer's "sync now", a sign-in). Without tokens
the account is signed out and the link waits to be woken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from gitwrite.client import Disconnected, SyncClient, SyncError
from gitwrite.protocol import Error, ErrorCode, GoingAway, Notice, ResyncRequired
from gitwrite.rest import ServerApi
from gitwrite_desktop.core.sync.backoff import Backoff
from gitwrite_desktop.core.sync.errors import ServerUnreachable, SignedOut
from gitwrite_desktop.core.sync.share import ShareSync
from gitwrite_desktop.core.sync.status import Link

if TYPE_CHECKING:
    from gitwrite._channel import Event
    from gitwrite_desktop.core.sync.engine import SyncEngine
    from gitwrite_desktop.core.sync.operations import Target
    from gitwrite_desktop.core.workspace import Account

log = logging.getLogger(__name__)


class AccountLink:
    """The connection of one account and the projects shared through it."""

    def __init__(self, engine: SyncEngine, account: Account) -> None:
        self.engine = engine
        self.account = account
        self.shares: dict[str, ShareSync] = {}
        """Project id → its syncing."""
        options = engine.options
        self.backoff = Backoff(options.backoff_base, options.backoff_cap, options.stable)
        self._client: SyncClient | None = None
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._expected: dict[tuple[str, str], str] = {}
        self._retry_hint: float | None = None
        self._signed_out: str | None = None
        engine.board.account(account.id, account.server_url)
        self.task = asyncio.get_running_loop().create_task(self._run())

    @property
    def ws_url(self) -> str:
        return ServerApi(self.account.server_url).ws_url

    # -- shares -----------------------------------------------------------------------

    def set_shares(self, targets: list[Target]) -> None:
        """Follow exactly these shares (new ones sync at once when connected)."""
        wanted = {t.share.project_id: t for t in targets}
        for project_id in set(self.shares) - set(wanted):
            self.shares.pop(project_id).close()
        for project_id, target in wanted.items():
            current = self.shares.get(project_id)
            if current is not None and current.share == target.share:
                current.path = target.path
                continue
            if current is not None:
                current.close()
            self.shares[project_id] = ShareSync(self.engine, self, target)
            if self._connected.is_set():
                self.shares[project_id].request("connect")
                self._follow(self.shares[project_id])

    def _by_repository(self, repository: str) -> ShareSync | None:
        return next((s for s in self.shares.values() if s.repository == repository), None)

    def expect(self, repository: str, ref: str, new: str) -> None:
        """This link pushes ``ref`` to ``new``: its notice needs no fetch."""
        self._expected[(repository, ref)] = new

    # -- the connection ---------------------------------------------------------------

    async def client(self) -> SyncClient:
        """The open connection, once there is one."""
        while True:
            await self._connected.wait()
            client = self._client
            if client is not None and not client.closed:
                return client
            await asyncio.sleep(0.01)

    def discard(self, client: SyncClient, error: Disconnected) -> bool:
        """A request on ``client`` failed as disconnected: if the connection still looks
        open (the server said it is going away, or it broke without the reader noticing),
        drop it now so that the link reconnects and no round is handed it again. Whether
        it had to be dropped."""
        if client.closed:
            return False
        log.warning(
            "sync: %s: dropping a connection that failed a request (%s; %s)",
            self.account.server_url,
            error.message,
            client.describe(),
        )
        client.abandon(f"dropped after a failed request ({error.message})")
        return True

    def wake(self) -> None:
        """Stop waiting to reconnect (sign-in, "sync now")."""
        self.backoff.reset()
        self._signed_out = None
        self._wake.set()

    def drop(self) -> None:
        """Close the connection now (it reconnects after the usual wait)."""
        client = self._client
        if client is not None:
            asyncio.get_running_loop().create_task(client.close())

    def signed_out(self, reason: str) -> None:
        """The account was signed out: close the connection and wait for a sign-in
        (`wake`) without trying to reconnect meanwhile."""
        self._signed_out = reason
        self._status(Link.SIGNED_OUT, reason)
        self.drop()
        self._wake.set()  # out of a wait to reconnect, if in one

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        for share in self.shares.values():
            share.close()
        self.shares.clear()
        self.engine.board.forget_account(self.account.id)
        self.engine.publish()

    def _status(self, link: Link, reason: str = "", retry_in: float | None = None) -> None:
        self.engine.board.link(self.account.id, link, reason, retry_in)
        self.engine.publish()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _connect(self) -> SyncClient:
        accounts, options = self.engine.accounts, self.engine.options
        last_seq = {s.repository: s.seq for s in self.shares.values()}
        for attempt in range(2):
            token = await accounts.access_token(self.account, force=attempt > 0)
            try:
                return await SyncClient.connect(
                    self.ws_url,
                    token,
                    client_name=options.client_name,
                    last_seq=last_seq,
                    timeout=options.request_timeout,
                    on_event=self._on_event,
                )
            except SyncError as exc:
                if exc.code != ErrorCode.UNAUTHENTICATED or attempt > 0:
                    raise
                log.info("sync: %s refused the access token; refreshing", self.account.server_url)
        raise AssertionError("unreachable")

    async def _run(self) -> None:
        server = self.account.server_url
        while True:
            if self._signed_out is not None:
                self._status(Link.SIGNED_OUT, self._signed_out)
                self._wake.clear()
                await self._wake.wait()  # `wake` (a sign-in) forgets the sign-out
                continue
            self._status(Link.CONNECTING, f"connecting to {server}")
            try:
                client = await self._connect()
            except SignedOut as exc:
                self._status(Link.SIGNED_OUT, str(exc))
                self._wake.clear()
                await self._wake.wait()
                continue
            except (Disconnected, ServerUnreachable, SyncError) as exc:
                await self._wait(f"cannot connect to {server} ({_short(exc)})", None)
                continue
            started = time.monotonic()
            await self._serve(client)
            self.backoff.connected_for(time.monotonic() - started)
            if self._signed_out is not None:  # by the writer: no reconnecting
                continue
            hint, self._retry_hint = self._retry_hint, None
            await self._wait(f"the connection to {server} was lost", hint)

    async def _wait(self, reason: str, hint: float | None) -> None:
        delay = self.backoff.next_delay(hint)
        self._status(Link.WAITING, f"{reason}; trying again in {delay:.1f} s", delay)
        await self._sleep(delay)

    async def _serve(self, client: SyncClient) -> None:
        self._client = client
        self._connected.set()
        self._status(Link.CONNECTED)
        try:
            for share in self.shares.values():
                share.request("connect")
            async for _event in client.events():
                pass  # handled as they arrive by `_on_event`; this waits for the end
        finally:
            self._connected.clear()
            self._client = None
            with contextlib.suppress(Exception):
                await client.close()

    def _follow(self, share: ShareSync) -> None:
        client = self._client
        if client is not None:
            task = asyncio.get_running_loop().create_task(
                client.subscribe({share.repository: share.seq})
            )
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _on_event(self, event: Event) -> None:
        match event:
            case Notice(repo=repo, seq=seq, ref=ref, new=new):
                share = self._by_repository(repo)
                if share is None:
                    return
                share.heard = max(share.heard, seq)
                if seq <= share.seq:
                    return
                if self._expected.get((repo, ref)) != new:  # not this link's own push
                    share.request("remote")
            case ResyncRequired(repo=repo):
                share = self._by_repository(repo)
                if share is not None:
                    share.request("remote")
            case GoingAway(retry_ms=retry_ms):
                self._retry_hint = retry_ms / 1000
            case Error(code=code, message=message, details=details):
                repo = details.get("repository", "")
                share = self._by_repository(repo)
                if share is not None and code in (ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN):
                    self.engine.board.error(share.key, f"the server says: {message}")
                    self.engine.publish()
                else:
                    log.warning("sync: %s said %s: %s", self.account.server_url, code, message)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
