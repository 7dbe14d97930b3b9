"""``/repositories``: create, list, look up, and share repositories."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from gitwrite_sync.domain.repositories.schemas import (
    AddCollaborator,
    CollaboratorResponse,
    CreateRepository,
    RepositoryResponse,
)
from gitwrite_sync.web.deps import ServicesDep, UserDep


class RepositoryController(Controller):
    path = "/repositories"
    tags = ("repositories",)

    @post("/", status_code=201, summary="Create a repository (you become its owner)")
    async def create_repository(
        self, data: JSONBody[CreateRepository], user: UserDep, services: ServicesDep
    ) -> RepositoryResponse:
        return await services.repositories.create(user, data.name, data.description)

    @get("/", summary="Repositories you own or collaborate on, newest first")
    async def list_repositories(
        self, user: UserDep, services: ServicesDep
    ) -> list[RepositoryResponse]:
        return await services.repositories.list_for(user)

    @get("/{name:str}", summary="One repository")
    async def get_repository(
        self, name: FromPath[str], user: UserDep, services: ServicesDep
    ) -> RepositoryResponse:
        return await services.repositories.get(user, name)

    @get("/{name:str}/collaborators", summary="Who works on this repository")
    async def list_collaborators(
        self, name: FromPath[str], user: UserDep, services: ServicesDep
    ) -> list[CollaboratorResponse]:
        return await services.repositories.collaborators(user, name)

    @post(
        "/{name:str}/collaborators",
        summary="Share with an account, or change its role (owners only)",
    )
    async def share(
        self,
        name: FromPath[str],
        data: JSONBody[AddCollaborator],
        user: UserDep,
        services: ServicesDep,
    ) -> Response[CollaboratorResponse]:
        added, created = await services.repositories.share(user, name, data.email, data.role)
        return Response(added, status_code=201 if created else 200)

    @delete(
        "/{name:str}/collaborators/{user_id:int}",
        status_code=204,
        summary="Remove a collaborator (owners), or leave (yourself)",
    )
    async def unshare(
        self, name: FromPath[str], user_id: FromPath[int], user: UserDep, services: ServicesDep
    ) -> None:
        await services.repositories.unshare(user, name, user_id)
