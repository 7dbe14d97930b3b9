"""``GET /repositories/{name}/history`` (paged) and ``GET /repositories/{name}/compare``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from gitwrite_sync.domain.history.schemas import Comparison, HistoryPage
from gitwrite_sync.domain.history.service import MAX_PAGE
from gitwrite_sync.web.caching import cached, etag_of
from gitwrite_sync.web.deps import ServicesDep, UserDep
from gitwrite_sync.web.pages import page_url

Revision = Annotated[
    str | None,
    QueryParameter(description="a save id, an exploration or a milestone", max_length=400),
]
FilePath = Annotated[str | None, QueryParameter(description="only this file", max_length=4096)]


class HistoryController(Controller):
    path = "/repositories/{name:str}"
    tags = ("history",)

    @get("/history", summary="Saves newest first, a page at a time (optionally of one file)")
    async def history(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        at: Revision = None,
        path: FilePath = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[
            str | None, QueryParameter(description="the id of the last save of the previous page")
        ] = None,
    ) -> Response[HistoryPage]:
        head, items, following = await services.history.page(
            user, name, at=at, path=path, limit=limit, cursor=cursor
        )
        link = page_url(request, cursor=following) if following else None
        page = HistoryPage(head, items, following, link)
        # The saves a save leads to never change: the page is named by its head.
        etag = etag_of("history", head, path, limit, cursor)
        return cached(request, page, etag, immutable=False)

    @get("/compare", summary="Word-level changes between two saves")
    async def compare(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        old: Annotated[
            str | None,
            QueryParameter(
                name="from",
                description="the older save (default: the first parent of `to`)",
                max_length=400,
            ),
        ] = None,
        new: Annotated[
            str | None,
            QueryParameter(
                name="to",
                description="the newer save (default: the main story's last save)",
                max_length=400,
            ),
        ] = None,
        path: FilePath = None,
    ) -> Response[Comparison]:
        comparison, immutable = await services.history.compare(
            user, name, old=old, new=new, path=path
        )
        etag = etag_of("compare", comparison.from_, comparison.to, path)
        return cached(request, comparison, etag, immutable=immutable)
