"""Links to other pages of a paged answer: the same request with one parameter changed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request


def page_url(request: Request[Any, Any, Any], **changes: object) -> str:
    """This request's path and query with ``changes`` applied (e.g. ``cursor=...``)."""
    query = {k: v for k, v in request.query_params.items() if k not in changes}
    query.update({k: str(v) for k, v in changes.items()})
    return f"{request.url.path}?{urlencode(query)}"
