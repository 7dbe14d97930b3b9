"""Sign-in, token refresh and sign-out; `authenticate` for every authenticated request.

Refresh tokens rotate: each use revokes the token and issues its replacement in the same
family. A revoked token presented again means it was copied (the thief or the owner used
it after the other): the whole family is revoked and both must sign in again.

Login attempts are counted per account and per address, before the password is checked,
with an atomic upsert (`ratelimit.hit`), so parallel guesses on many instances cannot slip
past the limit; a successful login gives its attempt back.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import RateCounter, RefreshToken, RevokedAccessToken, User
from gitwrite_sync.domain.auth import ratelimit
from gitwrite_sync.domain.auth.passwords import Passwords
from gitwrite_sync.domain.auth.tokens import (
    AccessClaims,
    decode_access_token,
    issue_access_token,
    new_refresh_token,
    refresh_digest,
)
from gitwrite_sync.errors import Forbidden, RateLimited, ServerError, Unauthenticated
from gitwrite_sync.settings import Settings


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token stays valid."""


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    claims: AccessClaims


async def authenticate_token(db: Database, settings: Settings, token: str) -> Authenticated:
    """The user and claims of a valid access token, or `Unauthenticated` when the token is
    missing, malformed, expired or revoked, or the account is disabled or gone."""
    if not token:
        raise Unauthenticated("sign in first: no access token", reason="missing")
    claims = decode_access_token(settings, token)
    # One statement for both questions (every request asks them): the user, and whether
    # this token was revoked.
    revoked = (
        select(RevokedAccessToken.jti)
        .where(RevokedAccessToken.jti == claims.jti)
        .exists()
        .label("revoked")
    )
    async with db.read() as session:
        row = (
            await session.execute(select(User, revoked).where(User.id == claims.user_id))
        ).one_or_none()
    if row is not None and row.revoked:
        raise Unauthenticated("the access token was revoked (signed out)", reason="revoked")
    if row is None or not row.User.is_active:
        raise Unauthenticated("this account is disabled", reason="disabled")
    return Authenticated(row.User, claims)


async def authenticate(db: Database, settings: Settings, token: str) -> User:
    """The user a bearer access token belongs to (REST guards and the WebSocket's Auth)."""
    return (await authenticate_token(db, settings, token)).user


class AuthService:
    def __init__(self, db: Database, settings: Settings, passwords: Passwords) -> None:
        self.db = db
        self.settings = settings
        self.passwords = passwords

    async def login(self, email: str, password: str, address: str) -> TokenPair:
        email = email.strip().lower()
        s = self.settings
        limits = [
            (f"login:account:{email}", s.login_attempts_per_account),
            (f"login:address:{address}", s.login_attempts_per_address),
        ]
        async with self.db.write() as session:
            hits = [
                await ratelimit.hit(
                    session, key, window_seconds=s.login_window_seconds, now=time.time()
                )
                for key, _ in limits
            ]
        for spent, (_, limit) in zip(hits, limits, strict=True):
            if spent.count > limit:
                raise RateLimited(
                    "too many sign-in attempts; try again later", retry_after=spent.retry_after
                )
        async with self.db.read() as session:
            user = (
                await session.execute(select(User).where(User.email == email))
            ).scalar_one_or_none()
        ok = await self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok:
            raise Unauthenticated("wrong email or password", reason="credentials")
        if not user.is_active:
            raise Unauthenticated("this account is disabled", reason="disabled")
        rehash = None
        if self.passwords.needs_rehash(user.password_hash):
            rehash = await self.passwords.hash(password)
        async with self.db.write() as session:
            for spent in hits:
                await ratelimit.refund(session, spent)
            if rehash is not None:
                await session.execute(
                    update(User).where(User.id == user.id).values(password_hash=rehash)
                )
            return await self._issue(session, user.id, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a valid refresh token, which is used up."""
        now = datetime.now(UTC)
        error: ServerError | None = None
        async with self.db.write() as session:
            row = (
                await session.execute(
                    select(RefreshToken)
                    .where(RefreshToken.token_hash == refresh_digest(refresh_token))
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                error = Unauthenticated("unknown refresh token", reason="invalid")
            elif row.revoked_at is not None:
                # Committed before raising: the family stays revoked.
                await self._revoke_family(session, row.family_id, now)
                error = Unauthenticated(
                    "this refresh token was used already; sign in again", reason="reused"
                )
            elif row.expires_at <= now:
                error = Unauthenticated("the refresh token has expired", reason="expired")
            else:
                user = await session.get(User, row.user_id)
                if user is None or not user.is_active:
                    error = Unauthenticated("this account is disabled", reason="disabled")
                else:
                    pair, new_id = await self._issue_row(session, row.user_id, row.family_id)
                    row.revoked_at = now
                    row.replaced_by = new_id
                    return pair
        assert error is not None
        raise error

    async def logout(self, claims: AccessClaims, refresh_token: str | None) -> None:
        """Revoke the access token (by its ``jti``) and, when given, the refresh token's
        family, if it belongs to the same user."""
        now = datetime.now(UTC)
        async with self.db.write() as session:
            if await session.get(RevokedAccessToken, claims.jti) is None:
                session.add(RevokedAccessToken(jti=claims.jti, expires_at=claims.expires_at))
            if refresh_token:
                row = (
                    await session.execute(
                        select(RefreshToken).where(
                            RefreshToken.token_hash == refresh_digest(refresh_token),
                            RefreshToken.user_id == claims.user_id,
                        )
                    )
                ).scalar_one_or_none()
                if row is not None:
                    await self._revoke_family(session, row.family_id, now)

    def check_registration_open(self) -> None:
        if not self.settings.registration_open:
            raise Forbidden("registration is closed: ask an admin for an account")

    async def _issue(self, session: AsyncSession, user_id: int, family_id: str) -> TokenPair:
        return (await self._issue_row(session, user_id, family_id))[0]

    async def _issue_row(
        self, session: AsyncSession, user_id: int, family_id: str
    ) -> tuple[TokenPair, str]:
        now = datetime.now(UTC)
        access, _ = issue_access_token(self.settings, user_id, now=now)
        refresh, digest = new_refresh_token()
        row_id = uuid.uuid4().hex
        session.add(
            RefreshToken(
                id=row_id,
                user_id=user_id,
                token_hash=digest,
                family_id=family_id,
                created_at=now,
                expires_at=now + timedelta(days=self.settings.refresh_token_days),
            )
        )
        await session.flush()
        pair = TokenPair(access, refresh, self.settings.access_token_minutes * 60)
        return pair, row_id

    @staticmethod
    async def _revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def prune(db: Database, settings: Settings, *, now: datetime | None = None) -> int:
    """Delete what can no longer matter: revocations of access tokens that have expired
    anyway, expired refresh tokens, and counters of past windows. Returns rows removed."""
    now = now or datetime.now(UTC)
    oldest_window = ratelimit.window_of(now.timestamp(), settings.login_window_seconds)
    removed = 0
    async with db.write() as session:
        for stmt in (
            delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now),
            # Revoked ones stay until they expire: their reuse must still revoke the family.
            delete(RefreshToken).where(RefreshToken.expires_at < now),
            delete(RateCounter).where(RateCounter.window_start < oldest_window),
        ):
            removed += (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
    return removed
