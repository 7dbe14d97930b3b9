"""ETags, ``Cache-Control`` and ``304 Not Modified`` for answers that content ids name.

What a save id, a blob id or a pair of them names never changes, so such an answer is
sent with ``Cache-Control: private, max-age=31536000, immutable`` and its id as ETag:
the client keeps it for a year, and ``private`` keeps shared caches (which would hand a
private project to anyone) from storing it.
An answer reached through a name that moves (an exploration, a milestone, "the last
save") still has an ETag built from the ids it was made of, so a client revalidates
cheaply, but it is marked ``no-cache``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request, Response

IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


def etag_of(*parts: object) -> str:
    """A strong ETag: an id itself, or a digest of several values."""
    if len(parts) == 1 and isinstance(parts[0], str) and parts[0].isalnum():
        return f'"{parts[0]}"'
    digest = hashlib.sha1("\x00".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f'"{digest}"'


def matches(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether the request's ``If-None-Match`` names ``etag`` (or is ``*``)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def cache_headers(etag: str, immutable: bool) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": IMMUTABLE if immutable else REVALIDATE}


def cached(
    request: Request[Any, Any, Any],
    content: Any,
    etag: str,
    *,
    immutable: bool,
    media_type: str | None = None,
    headers: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response[Any]:
    """``content`` with its validators, or an empty ``304`` when the client has it."""
    all_headers = {**(headers or {}), **cache_headers(etag, immutable)}
    if matches(request, etag):
        return Response(b"", status_code=304, headers=all_headers)
    if media_type is None:
        return Response(content, status_code=status_code, headers=all_headers)
    return Response(content, status_code=status_code, headers=all_headers, media_type=media_type)
