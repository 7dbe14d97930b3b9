"""Accounts' sign-in: argon2 passwords, JWT access tokens, rotating refresh tokens,
atomic login rate limits, and `authenticate` for REST guards and the WebSocket."""

from gitwrite_sync.domain.auth.passwords import Passwords
from gitwrite_sync.domain.auth.service import (
    Authenticated,
    AuthService,
    TokenPair,
    authenticate,
    authenticate_token,
    prune,
)
from gitwrite_sync.domain.auth.tokens import AccessClaims

__all__ = [
    "AccessClaims",
    "AuthService",
    "Authenticated",
    "Passwords",
    "TokenPair",
    "authenticate",
    "authenticate_token",
    "prune",
]
