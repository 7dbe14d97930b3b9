"""What the sync engine tells the writer: one status per account, per shared project and
overall, each ``online``, ``syncing``, ``offline``, ``conflict`` or ``error`` with a reason.

The `StatusBoard` holds the facts the engine learns (connected or not, a sync running or
waiting, a conflict, an error) and derives the statuses from them, so the rules live in
one place and are tested without a server. For a shared project, the first that applies:

1. ``error``: the server refused something (a beta reader's saves to the main story), a
   sync failed, or the account is signed out;
2. ``conflict``: the server's saves and the writer's both changed the same words;
3. ``offline``: its account is not connected (the reason says when it retries);
4. ``syncing``: a sync runs or waits to run, or the server's saves wait for the writer to
   save a file they change;
5. ``online``: up to date.

An account is ``online`` when connected (``syncing`` while one of its projects syncs),
``offline`` while connecting or waiting to retry, ``error`` when signed out. Overall is
the worst of all (error, then conflict, offline, syncing, online); with no account it is
``offline``. `StatusBoard.publish` calls the listener only when the report changed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitwrite_desktop.core.sync.treemerge import SyncConflict


class State(enum.StrEnum):
    ONLINE = "online"
    SYNCING = "syncing"
    OFFLINE = "offline"
    CONFLICT = "conflict"
    ERROR = "error"


_RANK = {State.ONLINE: 0, State.SYNCING: 1, State.OFFLINE: 2, State.CONFLICT: 3, State.ERROR: 4}


class Link(enum.Enum):
    """Where an account's connection stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # to retry, after a failure
    SIGNED_OUT = "signed out"


@dataclass(frozen=True, slots=True)
class AccountStatus:
    account_id: str
    server_url: str
    state: State
    reason: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class ShareStatus:
    """A shared project's status.

    Attributes:
        conflicts: Explorations whose saves conflict with the server's (both versions kept).
        waiting: Files whose unsaved changes hold back the server's saves.
        held_by_merge: The server's saves wait for the writer's own merge to end.
        last_synced: When a sync last went through.
    """

    project_id: str
    account_id: str
    repository: str
    state: State
    reason: str = ""
    conflicts: tuple[SyncConflict, ...] = ()
    waiting: tuple[str, ...] = ()
    held_by_merge: bool = False
    last_synced: datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    state: State
    reason: str
    accounts: tuple[AccountStatus, ...] = ()
    shares: tuple[ShareStatus, ...] = ()

    def share(self, project_id: str) -> ShareStatus | None:
        return next((s for s in self.shares if s.project_id == project_id), None)

    def account(self, account_id: str) -> AccountStatus | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)


@dataclass(slots=True)
class _AccountFacts:
    server_url: str
    link: Link = Link.CONNECTING
    reason: str = "connecting"
    retry_in: float | None = None


@dataclass(slots=True)
class _ShareFacts:
    repository: str
    busy: bool = False
    pending: bool = False
    error: str | None = None
    conflicts: tuple[SyncConflict, ...] = ()
    waiting: tuple[str, ...] = ()
    held_by_merge: bool = False
    last_synced: datetime | None = None


ShareKey = tuple[str, str]
"""(project id, account id)."""


@dataclass
class StatusBoard:
    """The facts, the statuses derived from them, and a listener told of changes."""

    listener: Callable[[SyncReport], None] | None = None
    _accounts: dict[str, _AccountFacts] = field(default_factory=dict)
    _shares: dict[ShareKey, _ShareFacts] = field(default_factory=dict)
    _last: SyncReport | None = None

    # -- facts ----------------------------------------------------------------------

    def account(self, account_id: str, server_url: str) -> None:
        """Follow an account (connecting) if it is not followed yet."""
        self._accounts.setdefault(account_id, _AccountFacts(server_url))

    def forget_account(self, account_id: str) -> None:
        self._accounts.pop(account_id, None)
        for key in [k for k in self._shares if k[1] == account_id]:
            del self._shares[key]

    def link(
        self, account_id: str, link: Link, reason: str = "", retry_in: float | None = None
    ) -> None:
        facts = self._accounts.get(account_id)
        if facts is not None:
            facts.link, facts.reason, facts.retry_in = link, reason, retry_in

    def share(self, key: ShareKey, repository: str) -> None:
        facts = self._shares.get(key)
        if facts is None:
            self._shares[key] = _ShareFacts(repository)
        else:
            facts.repository = repository

    def forget_share(self, key: ShareKey) -> None:
        self._shares.pop(key, None)

    def activity(self, key: ShareKey, *, busy: bool, pending: bool) -> None:
        facts = self._shares.get(key)
        if facts is not None:
            facts.busy, facts.pending = busy, pending

    def error(self, key: ShareKey, reason: str | None) -> None:
        """Record (or with None, clear) what went wrong for a share."""
        facts = self._shares.get(key)
        if facts is not None:
            facts.error = reason

    def synced(
        self,
        key: ShareKey,
        when: datetime,
        *,
        conflicts: tuple[SyncConflict, ...],
        waiting: tuple[str, ...] = (),
        held_by_merge: bool = False,
        error: str | None = None,
    ) -> None:
        """A sync round ended: what it left behind replaces what the last one did."""
        facts = self._shares.get(key)
        if facts is not None:
            facts.last_synced = when
            facts.conflicts, facts.waiting, facts.error = conflicts, waiting, error
            facts.held_by_merge = held_by_merge

    def idle(self) -> bool:
        """Every account connected and no sync running or waiting to run."""
        return all(a.link is Link.CONNECTED for a in self._accounts.values()) and not any(
            s.busy or s.pending for s in self._shares.values()
        )

    # -- derived statuses -----------------------------------------------------------

    def _share_status(self, key: ShareKey, facts: _ShareFacts) -> ShareStatus:
        account = self._accounts.get(key[1])
        status = ShareStatus(
            key[0],
            key[1],
            facts.repository,
            State.ONLINE,
            conflicts=facts.conflicts,
            waiting=facts.waiting,
            held_by_merge=facts.held_by_merge,
            last_synced=facts.last_synced,
        )
        if facts.error:
            return replace(status, state=State.ERROR, reason=facts.error)
        if account is None or account.link is Link.SIGNED_OUT:
            reason = account.reason if account is not None else "no account"
            return replace(status, state=State.ERROR, reason=reason)
        if facts.conflicts:
            paths = sorted({c.path for conflict in facts.conflicts for c in conflict.files})
            reason = "your saves and the server's changed the same words in " + ", ".join(paths)
            return replace(status, state=State.CONFLICT, reason=reason)
        if account.link is not Link.CONNECTED:
            return replace(status, state=State.OFFLINE, reason=account.reason)
        if facts.busy or facts.pending:
            return replace(status, state=State.SYNCING, reason="syncing")
        if facts.held_by_merge:
            reason = "the server's saves wait until you complete or give up your merge"
            return replace(status, state=State.SYNCING, reason=reason)
        if facts.waiting:
            reason = "the server's saves wait until you save " + ", ".join(facts.waiting)
            return replace(status, state=State.SYNCING, reason=reason)
        return status

    def _account_status(self, account_id: str, facts: _AccountFacts) -> AccountStatus:
        if facts.link is Link.SIGNED_OUT:
            return AccountStatus(account_id, facts.server_url, State.ERROR, facts.reason)
        if facts.link is not Link.CONNECTED:
            return AccountStatus(
                account_id, facts.server_url, State.OFFLINE, facts.reason, facts.retry_in
            )
        busy = any(s.busy or s.pending for k, s in self._shares.items() if k[1] == account_id)
        state = State.SYNCING if busy else State.ONLINE
        return AccountStatus(account_id, facts.server_url, state, "syncing" if busy else "")

    def report(self) -> SyncReport:
        accounts = tuple(self._account_status(a, f) for a, f in sorted(self._accounts.items()))
        shares = tuple(self._share_status(k, f) for k, f in sorted(self._shares.items()))
        if not accounts:
            return SyncReport(State.OFFLINE, "not signed in to a server", accounts, shares)
        everything: list[AccountStatus | ShareStatus] = [*accounts, *shares]
        worst = max(everything, key=lambda s: _RANK[s.state])
        return SyncReport(worst.state, worst.reason, accounts, shares)

    def publish(self) -> SyncReport:
        """The current report; the listener hears of it if it differs from the last."""
        report = self.report()
        if report != self._last:
            self._last = report
            if self.listener is not None:
                self.listener(report)
        return report
