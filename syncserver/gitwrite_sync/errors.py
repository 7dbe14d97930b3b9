"""Domain errors of the sync server.

Services raise these and nothing else (third-party exceptions are translated where they
are caught, ``raise ... from exc``). The app turns them into JSON responses in ONE place
(`gitwrite_sync.web.errors`); the WebSocket turns them into protocol ``Error`` messages
with the same ``code``. Each carries a stable ``code`` (the protocol's `ErrorCode` values
where one fits), a message for people and structured ``details``::

    ServerError                       code
     ├── Malformed                    malformed        (not JSON, wrong types)
     ├── InvalidInput                 invalid          (well-formed, value not allowed)
     ├── Unauthenticated              unauthenticated  (no, bad, expired, revoked token)
     ├── Forbidden                    forbidden        (the role does not allow it)
     │    └── RefNotAllowed           invalid_ref      (no one may push to that ref)
     ├── NotFound                     not_found        (or not visible to this user)
     ├── Conflict                     conflict         (already exists, last owner)
     ├── TooLarge                     too_large
     ├── RateLimited                  rate_limited     (``retry_after`` seconds)
     └── Unavailable                  unavailable      (database unreachable)
"""

from __future__ import annotations

from typing import Any, ClassVar

from gitwrite.protocol import ErrorCode


class ServerError(Exception):
    """Base of every domain error: ``code``, ``message`` and ``details``."""

    code: ClassVar[str] = ErrorCode.INTERNAL.value

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


class Malformed(ServerError):
    code = ErrorCode.MALFORMED.value


class InvalidInput(ServerError):
    code = "invalid"


class Unauthenticated(ServerError):
    code = ErrorCode.UNAUTHENTICATED.value


class Forbidden(ServerError):
    code = ErrorCode.FORBIDDEN.value


class RefNotAllowed(Forbidden):
    """No role may write this ref (not a branch, tag or the annotations ref, or a bad name)."""

    code = ErrorCode.INVALID_REF.value

    def __init__(self, ref: str, reason: str = "not a ref GitWrite accepts") -> None:
        super().__init__(f"ref {ref!r}: {reason}", ref=ref)
        self.ref = ref


class NotFound(ServerError):
    code = ErrorCode.NOT_FOUND.value


class Conflict(ServerError):
    code = "conflict"


class TooLarge(ServerError):
    code = ErrorCode.TOO_LARGE.value


class RateLimited(ServerError):
    code = ErrorCode.RATE_LIMITED.value

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(ServerError):
    code = "unavailable"


__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "Malformed",
    "NotFound",
    "RateLimited",
    "RefNotAllowed",
    "ServerError",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
]
