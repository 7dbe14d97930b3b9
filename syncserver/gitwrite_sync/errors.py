"""Domain errors of the sync server.

Services raise these and nothing else (third-party exceptions are translated where they
are caught, ``raise ... from exc``). The app turns them into JSON responses in ONE place
(`gitwrite_sync.web.errors`); the WebSocket turns them into protocol ``Error`` messages
with the same ``code``. Each carries a stable ``code`` (the protocol's `ErrorCode` values
where one fits), a message for people and structured ``details``::

    ServerError                       code
     ├── Malformed                    malformed        (not JSON, wrong types)
     ├── InvalidInput                 invalid          (well-formed, value not allowed)
     │    ├── InvalidPack             invalid_pack     (pack does not parse, bad objects)
     │    └── MissingObjects          missing_objects  (a new history is not complete)
     ├── Unauthenticated              unauthenticated  (no, bad, expired, revoked token)
     ├── Forbidden                    forbidden        (the role does not allow it)
     │    └── RefNotAllowed           invalid_ref      (no one may push to that ref)
     ├── NotFound                     not_found        (or not visible to this user)
     ├── Conflict                     conflict         (already exists, last owner)
     │    ├── NotFastForward          not_fast_forward (would drop saves; force refused)
     │    ├── StaleRef                stale            (a ref moved: compare-and-swap lost)
     │    └── MergeConflict           merge_conflict   (a merge needs a writer's decisions)
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


class InvalidPack(InvalidInput):
    """A pack that does not parse, fails its checksum, or holds an object git would refuse."""

    code = ErrorCode.INVALID_PACK.value


class MissingObjects(InvalidInput):
    """Objects a new history needs are in neither the pack nor the repository."""

    code = ErrorCode.MISSING_OBJECTS.value

    def __init__(self, message: str, missing: list[str] | tuple[str, ...] = ()) -> None:
        shown = sorted(missing)[:20]
        super().__init__(message, missing=" ".join(shown), count=str(len(missing)))
        self.missing = tuple(missing)


class Conflict(ServerError):
    code = "conflict"


class NotFastForward(Conflict):
    """The update would drop saves from a ref and the push did not (or may not) force it."""

    code = ErrorCode.NOT_FAST_FORWARD.value


class StaleRef(Conflict):
    """A ref no longer has the id a compare-and-swap expected; ``current`` holds where the
    refs are now (a push answers ``stale`` with them rather than an error)."""

    code = "stale"

    def __init__(self, ref: str, expected: str, current: str | None) -> None:
        super().__init__(
            f"ref {ref!r} moved: expected {expected}, it is at {current or 'nothing'}",
            ref=ref,
            expected=expected,
            current=current or "",
        )
        self.ref = ref
        self.expected = expected
        self.current = current


class MergeConflict(Conflict):
    """A merge that is not clean; ``conflicts`` lists each file and what happened to it
    on each side (nothing was changed)."""

    code = "merge_conflict"

    def __init__(self, message: str, conflicts: list[dict[str, str]]) -> None:
        super().__init__(message, conflicts=conflicts)
        self.conflicts = conflicts


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
    "InvalidPack",
    "Malformed",
    "MergeConflict",
    "MissingObjects",
    "NotFastForward",
    "NotFound",
    "RateLimited",
    "RefNotAllowed",
    "ServerError",
    "StaleRef",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
]
