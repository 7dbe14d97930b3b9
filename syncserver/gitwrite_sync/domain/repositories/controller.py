"""``/repositories``: create, list, look up, delete, and share repositories."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from gitwrite_sync.domain.repositories.schemas import (
    AddCollaborator,
    ChangeRole,
    CollaboratorResponse,
    CreateRepository,
    RepositoryDetail,
    RepositoryResponse,
)
from gitwrite_sync.web.caching import cached, etag_of
from gitwrite_sync.web.deps import ServicesDep, UserDep

# Bounded: a larger number cannot be an id and overflowed the database driver (a 500).
UserId = Annotated[int, PathParameter(ge=1, le=2**63 - 1, description="an account's id")]


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

    @get(
        "/{name:str}",
        summary="One repository: explorations, newest saves, files with word counts",
    )
    async def get_repository(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        user: UserDep,
        services: ServicesDep,
        at: Annotated[
            str | None,
            QueryParameter(description="a save, exploration or milestone (default: main story)"),
        ] = None,
    ) -> Response[RepositoryDetail]:
        detail = await services.overview.detail(user, name, at)
        etag = etag_of("repository", user.id, detail.role, detail.seq, detail.updated_at, detail.at)
        return cached(request, detail, etag, immutable=False)

    @delete("/{name:str}", status_code=204, summary="Delete a repository (owners only)")
    async def delete_repository(
        self, name: FromPath[str], user: UserDep, services: ServicesDep
    ) -> None:
        await services.repositories.delete(user, name)

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

    @patch(
        "/{name:str}/collaborators/{user_id:int}",
        summary="Change a collaborator's role (owners only; a repository keeps an owner)",
    )
    async def change_role(
        self,
        name: FromPath[str],
        user_id: UserId,
        data: JSONBody[ChangeRole],
        user: UserDep,
        services: ServicesDep,
    ) -> CollaboratorResponse:
        return await services.repositories.set_role(user, name, user_id, data.role)

    @delete(
        "/{name:str}/collaborators/{user_id:int}",
        status_code=204,
        summary="Remove a collaborator (owners), or leave (yourself)",
    )
    async def unshare(
        self, name: FromPath[str], user_id: UserId, user: UserDep, services: ServicesDep
    ) -> None:
        await services.repositories.unshare(user, name, user_id)
