"""Signing in and out of a server, and keeping an access token fresh (REST, with httpx).

The tokens are kept by `gitwrite_desktop.core.credentials.Sessions` (the system keyring,
else a private file); this module makes the HTTP calls around them:

* `Accounts.sign_in`: ``POST /auth/login`` then ``GET /auth/me`` (the display name);
* `Accounts.access_token`: the stored access token, refreshed first (``POST
  /auth/refresh``) when it expires within a minute, or when ``force`` says the server
  refused it. Refresh tokens rotate, so refreshes of one account run one at a time. A
  refresh the server refuses (revoked, expired) forgets the tokens: `SignedOut`;
* `Accounts.sign_out`: ``POST /auth/logout`` (revokes both tokens; skipped quietly when the
  server cannot be reached) and the stored tokens are forgotten either way;
* `Accounts.call`: any REST call with the account's token, refreshed and retried once on
  a 401.

Everything runs on the sync engine's event loop; the store (keyring, file) is read and
written in a worker thread so that a slow keyring never stalls the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import httpx

from gitwrite import rest
from gitwrite.rest import RestError, ServerApi
from gitwrite_desktop.core.credentials import Session, Sessions, Tokens
from gitwrite_desktop.core.sync.errors import SignedOut, SignInRefused, translate_rest

if TYPE_CHECKING:
    from gitwrite_desktop.core.workspace import Account

log = logging.getLogger(__name__)

T = TypeVar("T")


def stored_tokens(tokens: rest.Tokens, now: datetime | None = None) -> Tokens:
    """The tokens a login or refresh returned, as the credential store keeps them."""
    issued = now or datetime.now(UTC)
    return Tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        access_expires_at=issued + timedelta(seconds=tokens.expires_in),
    )


class Accounts:
    """REST sign-in, refresh and sign-out for the sync engine (one event loop)."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessions = sessions
        self.timeout = timeout
        self.transport = transport
        self._locks: dict[str, asyncio.Lock] = {}

    def api(self, server_url: str) -> ServerApi:
        return ServerApi(server_url, timeout=self.timeout, transport=self.transport)

    async def sign_in(self, server_url: str, email: str, password: str) -> tuple[str, Tokens]:
        """Log in; returns the account's display name and the tokens (not stored yet)."""
        async with self.api(server_url) as api:
            try:
                tokens = stored_tokens(await api.login(email, password))
                me = await api.me(tokens.access_token)
            except RestError as exc:
                if exc.status == 401:
                    raise SignInRefused(server_url, exc.message) from exc
                raise translate_rest(exc, server_url) from exc
        name = me.get("display_name") if isinstance(me, dict) else None
        return str(name or email), tokens

    async def session(self, account: Account) -> Session:
        """The stored session; `SignedOut` when there is none."""
        session = await asyncio.to_thread(self.sessions.session, account)
        if session is None:
            raise SignedOut(account.server_url)
        return session

    async def access_token(self, account: Account, *, force: bool = False) -> str:
        """A usable access token, refreshed first if it is (nearly) expired or ``force``."""
        lock = self._locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            session = await self.session(account)
            if not force and not session.needs_refresh():
                return session.access_token
            return (await self._refresh(account, session)).access_token

    async def _refresh(self, account: Account, session: Session) -> Session:
        async with self.api(account.server_url) as api:
            try:
                tokens = stored_tokens(await api.refresh(session.refresh_token))
            except RestError as exc:
                error = translate_rest(exc, account.server_url)
                if isinstance(error, SignedOut) or exc.status in (400, 401, 403):
                    log.info("sync: %s refused the refresh token; signing out", account.server_url)
                    await asyncio.to_thread(self.sessions.sign_out, account.id)
                    raise SignedOut(account.server_url, exc.message) from exc
                raise error from exc
        return await asyncio.to_thread(self.sessions.refreshed, session, tokens)

    async def sign_out(self, account: Account) -> None:
        """Revoke the tokens on the server (when it answers) and forget them here."""
        session = await asyncio.to_thread(self.sessions.session, account)
        if session is not None:
            tokens = rest.Tokens(session.access_token, session.refresh_token, 0)
            async with self.api(account.server_url) as api:
                try:
                    await api.logout(tokens)
                except RestError as exc:
                    log.info("sync: signing out of %s locally only: %s", account.server_url, exc)
        await asyncio.to_thread(self.sessions.sign_out, account.id)

    async def call(self, account: Account, request: Callable[[ServerApi, str], Awaitable[T]]) -> T:
        """``request(api, token)`` with a fresh token, retried once after a refresh when the
        server answers 401. REST errors arrive translated (`errors.translate_rest`)."""
        token = await self.access_token(account)
        async with self.api(account.server_url) as api:
            for attempt in range(2):
                try:
                    return await request(api, token)
                except RestError as exc:
                    if exc.status == 401 and attempt == 0:
                        token = await self.access_token(account, force=True)
                        continue
                    raise translate_rest(exc, account.server_url) from exc
        raise AssertionError("unreachable")
