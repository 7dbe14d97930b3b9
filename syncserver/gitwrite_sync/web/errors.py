"""The ONE place where exceptions become HTTP responses.

Every error response is JSON ``{"code", "message", "details"}`` (`ErrorBody`). Domain
errors (`gitwrite_sync.errors`) map by class to a status; Litestar's own errors (bad JSON,
wrong types, unknown route, body too large) get the same shape with a code for their
status; anything else is logged and answered ``500 internal`` without internals.
`document_errors` writes those statuses and that body into every operation's OpenAPI.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.types import ExceptionHandlersMap
from sqlalchemy import exc as sa_exc

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


class ErrorBody(msgspec.Struct, frozen=True):
    """The body of every error response."""

    code: str
    """Stable and machine-readable: ``not_found``, ``invalid``, ``stale``..."""
    message: str
    """For people."""
    details: dict[str, Any]
    """Structured fields of the error (``{"errors": [...]}`` for bad parameters)."""


ERROR_STATUSES = sorted((set(STATUS.values()) | set(HTTP_CODES)) - {405})
"""What an operation may answer besides its success (405 concerns methods it lacks)."""


def document_errors(app: Litestar) -> None:
    """Document the error statuses and `ErrorBody` on every operation of ``app`` (a
    handler's own ``responses`` win)."""
    specs = {
        status: ResponseSpec(
            ErrorBody,
            description=f"{HTTPStatus(status).phrase}: {HTTP_CODES.get(status, 'error')}",
        )
        for status in ERROR_STATUSES
    }
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                handler.responses = {**specs, **(handler.responses or {})}


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


def on_database_error(request: Request[Any, Any, Any], exc: sa_exc.DBAPIError) -> Response[Any]:
    """A value the database refuses (SQLSTATE class 22, "data exception": PostgreSQL's text
    refuses NUL characters, a number out of range) is the request's fault: 422, not 500.
    Schemas refuse what they can first; this catches the rest (logged with its trace, in
    case a query of ours is the culprit). Any other database error is unexpected."""
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if not (isinstance(exc, sa_exc.DataError) or sqlstate.startswith("22")):
        return on_unexpected(request, exc)
    log.warning("database refused a value on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        422,
        InvalidInput.code,
        "the database refuses a value of this request (a NUL character, or a number out of range)",
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "internal server error")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServerError: on_domain_error,
    HTTPException: on_http_error,
    UnicodeDecodeError: on_bad_encoding,
    sa_exc.DBAPIError: on_database_error,
    Exception: on_unexpected,
}
