"""``/repositories/{name}/explorations``: list, create, delete, merge."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from gitwrite_sync.domain.explorations.schemas import (
    CreateExploration,
    Exploration,
    MergeRequest,
    MergeResult,
)
from gitwrite_sync.web.deps import ServicesDep, UserDep


class ExplorationController(Controller):
    path = "/repositories/{name:str}/explorations"
    tags = ("explorations",)

    @get("/", summary="Every exploration, the main story first")
    async def list_explorations(
        self, name: FromPath[str], user: UserDep, services: ServicesDep
    ) -> list[Exploration]:
        return await services.explorations.list(user, name)

    @post("/", status_code=201, summary="Start an exploration at a save (not beta readers)")
    async def create_exploration(
        self,
        name: FromPath[str],
        data: JSONBody[CreateExploration],
        user: UserDep,
        services: ServicesDep,
    ) -> Exploration:
        return await services.explorations.create(user, name, data.name, data.at)

    @delete("/{exploration:str}", status_code=204, summary="Delete an exploration")
    async def delete_exploration(
        self, name: FromPath[str], exploration: FromPath[str], user: UserDep, services: ServicesDep
    ) -> None:
        await services.explorations.delete(user, name, exploration)

    @post(
        "/{exploration:str}/merge",
        status_code=200,
        summary="Merge an exploration into another (owners and editors)",
        description="Made only when clean: otherwise 409 `merge_conflict` with "
        "details.conflicts listing each file and what happened to it, and nothing changes.",
    )
    async def merge_exploration(
        self,
        name: FromPath[str],
        exploration: FromPath[str],
        user: UserDep,
        services: ServicesDep,
        data: JSONBody[MergeRequest | None] = None,
    ) -> MergeResult:
        request = data or MergeRequest()
        return await services.explorations.merge(
            user, name, exploration, request.into, request.message
        )
