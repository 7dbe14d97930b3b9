"""Accounts. Emails are stored trimmed and lower-cased, so sign-in ignores case."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import RefreshToken, User
from gitwrite_sync.domain.auth.passwords import MAX_LENGTH, MIN_LENGTH, Passwords
from gitwrite_sync.errors import Conflict, InvalidInput, NotFound

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL = 320
MAX_NAME = 200


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput(f"{raw!r} is not an email address", field="email")
    return email


def check_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters", field="password"
        )


class UserService:
    def __init__(self, db: Database, passwords: Passwords) -> None:
        self.db = db
        self.passwords = passwords

    async def create(
        self,
        email: str,
        password: str,
        display_name: str | None = None,
        *,
        is_admin: bool = False,
    ) -> User:
        """A new active account. `Conflict` when the email is taken."""
        email = normalize_email(email)
        check_password(password)
        name = (display_name or "").strip() or email.split("@", 1)[0]
        if len(name) > MAX_NAME:
            raise InvalidInput(f"a name has at most {MAX_NAME} characters", field="display_name")
        password_hash = await self.passwords.hash(password)
        user = User(
            email=email,
            display_name=name,
            password_hash=password_hash,
            is_active=True,
            is_admin=is_admin,
            created_at=datetime.now(UTC),
        )
        try:
            async with self.db.write() as session:
                taken = await session.execute(select(User.id).where(User.email == email))
                if taken.first() is not None:
                    raise Conflict(f"an account for {email} exists already", field="email")
                session.add(user)
        except sa_exc.IntegrityError as exc:  # created by someone else since the check
            raise Conflict(f"an account for {email} exists already", field="email") from exc
        return user

    async def list(self) -> list[User]:
        async with self.db.read() as session:
            return list((await session.execute(select(User).order_by(User.id))).scalars())

    async def by_email(self, email: str) -> User:
        async with self.db.read() as session:
            user = (
                await session.execute(select(User).where(User.email == email.strip().lower()))
            ).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no account for {email}", email=email)
        return user

    async def set_active(self, email: str, active: bool) -> User:
        """Enable or disable an account. Disabling signs it out everywhere at once: its
        refresh tokens are revoked, and access tokens are refused for a disabled user."""
        async with self.db.write() as session:
            user = (
                await session.execute(select(User).where(User.email == email.strip().lower()))
            ).scalar_one_or_none()
            if user is None:
                raise NotFound(f"no account for {email}", email=email)
            user.is_active = active
            if not active:
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC))
                )
        return user
