"""Password hashing with argon2id (argon2-cffi), off the event loop.

Hashing costs a quarter of a second with the default parameters on a small server, by
design; it runs in a thread so the event loop keeps serving. The parameters come from
settings (``GITWRITE_ARGON2_*``); a hash made with older parameters is upgraded at the next
successful login (`Passwords.needs_rehash`).
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gitwrite_sync.settings import Settings

MIN_LENGTH = 8
MAX_LENGTH = 1024


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )

    @functools.cached_property
    def _dummy(self) -> str:
        """Verified against when the account does not exist, so that "no such account" takes
        as long as "wrong password" and timing does not reveal which emails exist."""
        return self._hasher.hash("not the password of any account")

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify_sync(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash_sync, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; ``None`` (no account) verifies a dummy: False."""
        ok = await asyncio.to_thread(self.verify_sync, password_hash, password)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
