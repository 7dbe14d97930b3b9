"""The sync engine: one asyncio loop on its own thread, one WebSocket per account, every
shared project kept in step with its server.

::

    engine = SyncEngine(desktop, Sessions(open_store(data_dir)), on_status=show)
    engine.start()
    account = engine.sign_in("https://sync.example.org", "ann@example.org", pw).result()
    engine.share(project_id, account.id, "the-novel").result()   # creates it, pushes all
    engine.clone(account.id, "their-novel", folder, progress=report).result()
    engine.invite(account.id, "the-novel", "bob@example.org", "editor").result()
    ...
    engine.stop()        # before desktop.stop(): the engine's git work runs on its writer

Threads (DESIGN §9). The engine's thread does network work only. Every git or cache write
it needs (apply a fetched pack, move a ref, merge, record sync state) and every read of a
project (building a pack) is an operation queued on the desktop's one writer thread
(`gitwrite_desktop.core.sync.operations`), awaited from the loop; so the single-writer rule
holds without locks, and a sync never races the writer's saves. The engine learns of
saves by observing the writer (`Desktop.observe`): any operation that moved a branch, a
milestone or the annotations of a shared project asks for a push. What a sync changed
reaches the UI the same way every operation's changes do (observe the writer), and the
status through ``on_status(SyncReport)``, called on the engine's thread when it changed.

The public methods are thread-safe and return `concurrent.futures.Future` objects (the UI
adds callbacks; scripts and tests call ``.result()``); failures are `GitWriteError`
subclasses meant for the writer (`gitwrite_desktop.core.sync.errors`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from gitwrite_desktop.core.operations import AddAccount
from gitwrite_desktop.core.sync import sharing
from gitwrite_desktop.core.sync.account import Accounts
from gitwrite_desktop.core.sync.errors import SignedOut
from gitwrite_desktop.core.sync.link import AccountLink
from gitwrite_desktop.core.sync.operations import Internal, SyncTargets
from gitwrite_desktop.core.sync.share import ShareStats
from gitwrite_desktop.core.sync.status import StatusBoard, SyncReport
from gitwrite_desktop.core.syncstate import ANNOTATIONS
from gitwrite_desktop.core.worker import Cancelled
from gitwrite_desktop.core.workspace import normalise_server_url

if TYPE_CHECKING:
    from pathlib import Path

    from gitwrite_desktop.core.credentials import Sessions
    from gitwrite_desktop.core.desktop import Desktop
    from gitwrite_desktop.core.operations import Operation
    from gitwrite_desktop.core.sync.sharing import Progress
    from gitwrite_desktop.core.worker import Done
    from gitwrite_desktop.core.workspace import Account, ProjectEntry, Share

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How the engine paces itself (defaults for the desktop; tests shorten the waits).

    Attributes:
        settle: Seconds without a new save before pushing (0: push at once; saves that
            come while a push runs are folded into one next push anyway).
        max_wait: The longest a burst of saves can delay a push.
        backoff_base, backoff_cap, stable: Reconnecting (`Backoff`).
        request_timeout: Seconds to wait for any one answer from the server.
        stale_pause: First pause after a lost push race (doubling, randomised, ≤ 1 s).
        max_rounds: Fetch-merge-push rounds before a sync gives up for now.
        stall_timeout: Seconds one step of a round (a request, the writer thread, a pause)
            may wait before the round is given up and retried.
        retry_after: Seconds before a failed sync is tried again.
        client_name: How the engine introduces itself to the server.
        http_timeout: Seconds for REST calls.
    """

    settle: float = 0.0
    max_wait: float = 2.0
    backoff_base: float = 0.5
    backoff_cap: float = 60.0
    stable: float = 30.0
    request_timeout: float = 60.0
    stale_pause: float = 0.05
    max_rounds: int = 60
    stall_timeout: float = 600.0
    retry_after: float = 30.0
    client_name: str = "gitwrite-desktop"
    http_timeout: float = 30.0


def _shared_ref(ref: str) -> bool:
    return ref.startswith(("refs/heads/", "refs/tags/")) or ref == ANNOTATIONS.decode()


class SyncEngine:
    """See the module doc. Make one per `Desktop`, start it, stop it before the desktop."""

    def __init__(
        self,
        desktop: Desktop,
        sessions: Sessions,
        *,
        options: EngineOptions | None = None,
        on_status: Callable[[SyncReport], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.desktop = desktop
        self.options = options or EngineOptions()
        self.accounts = Accounts(sessions, timeout=self.options.http_timeout, transport=transport)
        self.on_status = on_status
        self.board = StatusBoard(listener=self._status_changed)
        self._report = self.board.report()
        self._report_lock = threading.Lock()
        self._links: dict[str, AccountLink] = {}
        self._reload_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="gitwrite-sync", daemon=True)
        self._ready = threading.Event()
        self._forget: Callable[[], None] | None = None

    # -- the thread and its loop ----------------------------------------------------

    def start(self) -> concurrent.futures.Future[None]:
        """Start the thread; the returned future ends once every share is followed."""
        self._thread.start()
        self._ready.wait()
        self._forget = self.desktop.observe(self._observed)
        return self._submit(self.reload())

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._reload_lock = asyncio.Lock()
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 30) -> None:
        """Close every connection and end the thread (call before `Desktop.stop`)."""
        if self._forget is not None:
            self._forget()
            self._forget = None
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)

    async def _shutdown(self) -> None:
        for link in list(self._links.values()):
            await link.close()
        self._links.clear()

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        assert self._loop is not None, "start the engine first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # -- the writer thread ----------------------------------------------------------

    async def run_op(self, operation: Operation[T]) -> T:
        """Run an operation on the desktop's writer thread and wait for its value."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(set_outcome: Callable[[Any], None], outcome: Any) -> None:
            if not future.done():
                set_outcome(outcome)

        def deliver(set_outcome: Callable[[Any], None], outcome: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, set_outcome, outcome)

        self.desktop.submit(
            operation,
            lambda done: deliver(future.set_result, done.value),
            lambda error: deliver(future.set_exception, error),
            lambda: deliver(future.set_exception, Cancelled()),
        )
        return await future

    def _observed(self, done: Done[Any]) -> None:
        """On the writer thread: a save (or any ref move) asks its share for a push."""
        if isinstance(done.operation, Internal) or self._loop is None:
            return
        changes = done.changes
        projects = {p for p, ref in changes.refs if _shared_ref(ref)}
        # Edits saved or undone, a merge ended: what held the server's saves back may be gone.
        unblocked = ({p for p, _ in changes.files} | set(changes.merge)) - projects
        with contextlib.suppress(RuntimeError):
            if changes.workspace:
                self._loop.call_soon_threadsafe(self._reload_soon)
            for project_id in projects:
                self._loop.call_soon_threadsafe(self._local_change, project_id)
            for project_id in unblocked:
                self._loop.call_soon_threadsafe(self._local_change, project_id, True)

    def _reload_soon(self) -> None:
        asyncio.get_running_loop().create_task(self.reload())

    def _local_change(self, project_id: str, only_held: bool = False) -> None:
        for link in self._links.values():
            share = link.shares.get(project_id)
            if share is not None and (share.held or not only_held):
                share.request("local")

    # -- accounts and shares --------------------------------------------------------

    async def reload(self) -> None:
        """Follow the workspace's accounts and shares as they are now."""
        assert self._reload_lock is not None
        async with self._reload_lock:
            targets = await self.run_op(SyncTargets())
            wanted = {a.id: a for a in targets.accounts}
            for account_id in set(self._links) - set(wanted):
                await self._links.pop(account_id).close()
            for account_id, account in wanted.items():
                link = self._links.get(account_id)
                if link is not None and link.account != account:
                    link.account = account
                if link is None:
                    link = self._links[account_id] = AccountLink(self, account)
                link.set_shares([t for t in targets.shares if t.account.id == account_id])

    def link(self, account_id: str) -> AccountLink:
        link = self._links.get(account_id)
        if link is None:
            from gitwrite_desktop.core.errors import UnknownAccount

            raise UnknownAccount(account_id)
        return link

    async def settle(self, project_id: str | None = None) -> None:
        """Wait until the share(s) of ``project_id`` (or all) have no round to run."""
        for link in list(self._links.values()):
            for pid, share in list(link.shares.items()):
                if project_id is None or pid == project_id:
                    await share.settled()

    # -- status ---------------------------------------------------------------------

    def publish(self) -> None:
        self.board.publish()

    def _status_changed(self, report: SyncReport) -> None:
        with self._report_lock:
            self._report = report
        if self.on_status is not None:
            try:
                self.on_status(report)
            except Exception:
                log.exception("sync: the status callback failed")

    def report(self) -> SyncReport:
        """The latest status (thread-safe)."""
        with self._report_lock:
            return self._report

    def stats(self) -> dict[str, ShareStats]:
        """Project id → what its syncing did so far (a copy; thread-safe enough for a
        diagnostics view: counters only grow)."""
        return {
            pid: replace(share.stats)
            for link in list(self._links.values())
            for pid, share in list(link.shares.items())
        }

    def wait_idle(self, timeout: float = 60) -> bool:
        """Wait (not on the GUI thread) until every account is connected and no sync runs
        or waits to; False on timeout. For scripts and tests."""

        async def idle() -> None:
            while not self.board.idle():
                await asyncio.sleep(0.02)
            await self.settle()

        try:
            self._submit(asyncio.wait_for(idle(), timeout)).result(timeout + 5)
        except (TimeoutError, concurrent.futures.TimeoutError):
            return False
        return True

    # -- what the writer asks for (thread-safe) ---------------------------------------

    def sign_in(
        self, server_url: str, email: str, password: str
    ) -> concurrent.futures.Future[Account]:
        """Sign in: the account is added to the workspace, its tokens kept, and it connects."""
        return self._submit(self._sign_in(server_url, email, password))

    async def _sign_in(self, server_url: str, email: str, password: str) -> Account:
        url = normalise_server_url(server_url)
        display_name, tokens = await self.accounts.sign_in(url, email, password)
        account = await self.run_op(AddAccount(url, email, display_name))
        await asyncio.to_thread(self.accounts.sessions.sign_in, account, tokens)
        await self.reload()
        self.link(account.id).wake()
        return account

    def sign_out(self, account_id: str) -> concurrent.futures.Future[None]:
        """Revoke and forget the account's tokens; it stays in the workspace, signed out."""
        return self._submit(self._sign_out(account_id))

    async def _sign_out(self, account_id: str) -> None:
        link = self.link(account_id)
        await self.accounts.sign_out(link.account)
        link.signed_out(str(SignedOut(link.account.server_url)))

    def share(
        self, project_id: str, account_id: str, repository: str, description: str = ""
    ) -> concurrent.futures.Future[Share]:
        """Create ``repository`` on the account's server and push every ref of the project."""
        return self._submit(
            sharing.share_project(self, project_id, account_id, repository, description)
        )

    def clone(
        self,
        account_id: str,
        repository: str,
        folder: str | Path,
        *,
        name: str | None = None,
        progress: Progress | None = None,
    ) -> concurrent.futures.Future[ProjectEntry]:
        """Make a project from a server's repository in a new (or empty) folder."""
        return self._submit(
            sharing.clone_project(self, account_id, repository, folder, name, progress)
        )

    def invite(
        self, account_id: str, repository: str, email: str, role: str
    ) -> concurrent.futures.Future[None]:
        """Share a repository with someone (``owner``, ``editor``, ``writer``, ``beta_reader``)."""
        return self._submit(sharing.invite(self, account_id, repository, email, role))

    def sync_now(self, project_id: str | None = None) -> concurrent.futures.Future[None]:
        """Connect now if waiting to, sync the project (or every one), and end when done."""
        return self._submit(self._sync_now(project_id))

    async def _sync_now(self, project_id: str | None) -> None:
        for link in list(self._links.values()):
            link.wake()
            for pid, share in list(link.shares.items()):
                if project_id is None or pid == project_id:
                    share.request("now")
        await self.settle(project_id)
