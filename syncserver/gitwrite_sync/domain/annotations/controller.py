"""``/repositories/{name}/annotations``: list (paged), one thread, create, reply, status."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from gitwrite.annotation_store import AnnotationStatus
from gitwrite_sync.domain.annotations.schemas import (
    Annotation,
    ChangeStatus,
    CreateAnnotation,
    CreateReply,
    Thread,
    ThreadPage,
)
from gitwrite_sync.web.deps import ServicesDep, UserDep
from gitwrite_sync.web.pages import page_url

MAX_PAGE = 200


class AnnotationController(Controller):
    path = "/repositories/{name:str}/annotations"
    tags = ("annotations",)

    @get("/", summary="Threads by file and position, a page at a time")
    async def list_annotations(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        path: Annotated[str | None, QueryParameter(description="only on this file")] = None,
        status: Annotated[AnnotationStatus | None, QueryParameter(description="only these")] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
    ) -> ThreadPage:
        found = await services.annotations.list_threads(user, name, path=path, status=status)
        start = (page - 1) * limit
        more = start + limit < len(found)
        following = page_url(request, page=page + 1) if more else None
        return ThreadPage(found[start : start + limit], len(found), page, following)

    @get("/{annotation_id:str}", summary="The thread an annotation or reply belongs to")
    async def get_thread(
        self,
        name: FromPath[str],
        annotation_id: FromPath[str],
        user: UserDep,
        services: ServicesDep,
    ) -> Thread:
        return await services.annotations.thread(user, name, annotation_id)

    @post("/", status_code=201, summary="Annotate a range of a file (everyone on the project)")
    async def create_annotation(
        self,
        name: FromPath[str],
        data: JSONBody[CreateAnnotation],
        user: UserDep,
        services: ServicesDep,
    ) -> Annotation:
        return await services.annotations.create(user, name, data)

    @post("/{annotation_id:str}/replies", status_code=201, summary="Reply in a thread")
    async def reply(
        self,
        name: FromPath[str],
        annotation_id: FromPath[str],
        data: JSONBody[CreateReply],
        user: UserDep,
        services: ServicesDep,
    ) -> Annotation:
        return await services.annotations.reply(user, name, annotation_id, data.body)

    @put("/{annotation_id:str}/status", summary="Set a thread's status")
    async def set_status(
        self,
        name: FromPath[str],
        annotation_id: FromPath[str],
        data: JSONBody[ChangeStatus],
        user: UserDep,
        services: ServicesDep,
    ) -> Annotation:
        return await services.annotations.set_status(user, name, annotation_id, data.status)
