"""The ONE place where exceptions become HTTP responses.

Every error response is JSON ``{"code", "message", "details"}``. Domain errors
(`gitwrite_sync.errors`) map by class to a status; Litestar's own errors (bad JSON, wrong
types, unknown route, body too large) get the same shape with a code for their status;
anything else is logged and answered ``500 internal`` without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from gitwrite_sync.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Malformed,
    NotFound,
    RateLimited,
    ServerError,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

STATUS: dict[type[ServerError], int] = {
    Malformed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    InvalidInput: 422,
    RateLimited: 429,
    Unavailable: 503,
}

HTTP_CODES = {
    400: Malformed.code,
    401: Unauthenticated.code,
    403: Forbidden.code,
    404: NotFound.code,
    405: "method_not_allowed",
    409: Conflict.code,
    413: TooLarge.code,
    415: Malformed.code,
    422: InvalidInput.code,
    429: RateLimited.code,
    503: Unavailable.code,
}


def status_for(exc: ServerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    return Response(
        {"code": code, "message": message, "details": details or {}},
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def on_domain_error(request: Request[Any, Any, Any], exc: ServerError) -> Response[Any]:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(status_for(exc), exc.code, exc.message, exc.details, headers)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    details: Any = {}
    if isinstance(exc, ValidationException) and exc.extra:
        details = {"errors": exc.extra}
    message = exc.detail
    if status >= 500:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
        if status != 503:
            message, details = "internal server error", {}  # no internals in the answer
    code = HTTP_CODES.get(status) or ("internal" if status >= 500 else "http_error")
    return error_response(status, code, message, details, exc.headers)


def on_bad_encoding(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A body that is not UTF-8 where JSON (or text) is expected: Litestar's JSON decoding
    lets this through instead of its own 400. Services never raise it (they translate)."""
    return error_response(400, Malformed.code, "the request body is not valid UTF-8 text")


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "internal server error")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServerError: on_domain_error,
    HTTPException: on_http_error,
    UnicodeDecodeError: on_bad_encoding,
    Exception: on_unexpected,
}
