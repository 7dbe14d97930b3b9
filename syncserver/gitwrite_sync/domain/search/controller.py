"""``GET /repositories/{name}/search``: full-text search of a repository's current text."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from gitwrite_sync.domain.search.query import MAX_QUERY_CHARS
from gitwrite_sync.domain.search.schemas import SearchResponse
from gitwrite_sync.domain.search.service import DEFAULT_LIMIT, MAX_LIMIT
from gitwrite_sync.web.deps import ServicesDep, UserDep


class SearchController(Controller):
    path = "/repositories"
    tags = ("search",)

    @get(
        "/{name:str}/search",
        summary="Search the current text of every exploration",
        description=(
            'Words must all appear; "quoted words" are a phrase; -word excludes; '
            "`or` offers alternatives. Results are files (with every exploration holding "
            "that same text), best first."
        ),
    )
    async def search(
        self,
        name: FromPath[str],
        user: UserDep,
        services: ServicesDep,
        q: Annotated[str, QueryParameter(max_length=MAX_QUERY_CHARS, description="What to find")],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> SearchResponse:
        return await services.search.search(user, name, q, limit)
