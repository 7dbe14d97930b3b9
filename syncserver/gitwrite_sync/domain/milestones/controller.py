"""``/repositories/{name}/milestones``: list and create."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from gitwrite_sync.domain.milestones.schemas import CreateMilestone, Milestone
from gitwrite_sync.web.deps import ServicesDep, UserDep


class MilestoneController(Controller):
    path = "/repositories/{name:str}/milestones"
    tags = ("milestones",)

    @get("/", summary="Every milestone, newest first")
    async def list_milestones(
        self, name: FromPath[str], user: UserDep, services: ServicesDep
    ) -> list[Milestone]:
        return await services.milestones.list(user, name)

    @post("/", status_code=201, summary="Mark a save as a milestone (owners and editors)")
    async def create_milestone(
        self,
        name: FromPath[str],
        data: JSONBody[CreateMilestone],
        user: UserDep,
        services: ServicesDep,
    ) -> Milestone:
        return await services.milestones.create(user, name, data.name, data.message, data.at)
