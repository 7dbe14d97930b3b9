"""Access tokens (JWT, HS256, minutes long) and refresh tokens (random, stored hashed).

An access token carries ``sub`` (the user id), ``jti`` (its id, for revocation at logout),
``iat``, ``exp`` and ``type: "access"``. A refresh token is 32 random bytes; the database
keeps only its SHA-256, so a leaked table does not hand out sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from gitwrite_sync.errors import Unauthenticated
from gitwrite_sync.settings import Settings

ALGORITHM = "HS256"
ACCESS = "access"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: datetime


def issue_access_token(
    settings: Settings, user_id: int, *, now: datetime | None = None
) -> tuple[str, AccessClaims]:
    now = now or datetime.now(UTC)
    expires = now + timedelta(minutes=settings.access_token_minutes)
    claims = AccessClaims(user_id=user_id, jti=uuid.uuid4().hex, expires_at=expires)
    payload = {
        "sub": str(user_id),
        "jti": claims.jti,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "type": ACCESS,
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM), claims


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid, unexpired access token; `Unauthenticated` otherwise.

    Revocation is not checked here (it needs the database): see `service.authenticate`.
    """
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "jti", "exp", "iat", "type"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the access token has expired", reason="expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("the access token is not valid", reason="invalid") from exc
    sub, jti = payload.get("sub"), payload.get("jti")
    if payload.get("type") != ACCESS or not isinstance(jti, str) or not str(sub).isdigit():
        raise Unauthenticated("the access token is not valid", reason="invalid")
    expires = datetime.fromtimestamp(int(payload["exp"]), UTC)
    return AccessClaims(user_id=int(str(sub)), jti=jti, expires_at=expires)


def new_refresh_token() -> tuple[str, str]:
    """A new refresh token and the digest to store for it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_digest(token)


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
