"""Request and response bodies of ``/auth``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gitwrite_sync.db.models import User

# No control characters: PostgreSQL refuses NUL in text (a 500 before), and no address has any.
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern="^[^\\x00-\\x1f\\x7f]*$")]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
Token = Annotated[str, msgspec.Meta(max_length=4096)]


class LoginRequest(msgspec.Struct, frozen=True):
    email: Email
    password: Password


class RegisterRequest(msgspec.Struct, frozen=True):
    email: Email
    password: Password
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class RefreshRequest(msgspec.Struct, frozen=True):
    refresh_token: Token


class LogoutRequest(msgspec.Struct, frozen=True):
    refresh_token: Token | None = None


class TokenResponse(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class UserResponse(msgspec.Struct, frozen=True):
    id: int
    email: str
    display_name: str
    is_admin: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(user.id, user.email, user.display_name, user.is_admin, user.created_at)
