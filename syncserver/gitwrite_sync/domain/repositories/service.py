"""Repositories and their collaborators: create, list, look up, share.

Names are unique on the server, compared without regard to case (two projects "Novel" and
"novel" would collide on a writer's case-insensitive disk). The creator is the owner;
a repository always keeps at least one owner.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Collaborator, Repository, User
from gitwrite_sync.domain.access import Action, Role, require, role_of
from gitwrite_sync.domain.repositories.schemas import (
    CollaboratorResponse,
    Person,
    RepositoryResponse,
)
from gitwrite_sync.errors import Conflict, InvalidInput, NotFound
from gitwrite_sync.storage import ObjectStore

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def check_name(name: str) -> str:
    """A repository name: letters, digits, '-', '_', '.', 1–100 long, not starting with '.'."""
    if not _NAME.fullmatch(name) or name.startswith("."):
        raise InvalidInput(
            "a repository name has 1 to 100 letters, digits, '-', '_' or '.', "
            "and does not start with '.'",
            field="name",
        )
    return name


def person(user: User) -> Person:
    return Person(user.id, user.email, user.display_name)


def _view(repo: Repository, owner: User, role: Role | str) -> RepositoryResponse:
    return RepositoryResponse(
        name=repo.name,
        description=repo.description,
        default_branch=repo.default_branch,
        role=Role(role),
        owner=person(owner),
        seq=repo.seq,
        created_at=repo.created_at,
        updated_at=repo.updated_at,
    )


class RepositoryService:
    def __init__(self, db: Database, objects: ObjectStore | None = None) -> None:
        self.db = db
        self.objects = objects

    async def create(self, user: User, name: str, description: str = "") -> RepositoryResponse:
        check_name(name)
        now = datetime.now(UTC)
        try:
            async with self.db.write() as session:
                taken = await session.execute(
                    select(Repository.id).where(func.lower(Repository.name) == name.lower())
                )
                if taken.first() is not None:
                    raise Conflict(f"the name {name!r} is taken", field="name")
                repo = Repository(
                    owner_id=user.id,
                    name=name,
                    description=description,
                    default_branch="main",
                    seq=0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(repo)
                await session.flush()
                session.add(
                    Collaborator(
                        repo_id=repo.id, user_id=user.id, role=Role.OWNER.value, created_at=now
                    )
                )
        except sa_exc.IntegrityError as exc:  # created by someone else since the check
            raise Conflict(f"the name {name!r} is taken", field="name") from exc
        return _view(repo, user, Role.OWNER)

    async def list_for(self, user: User) -> list[RepositoryResponse]:
        """The repositories ``user`` owns or was invited to, newest first."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(Repository, User, Collaborator.role)
                .join(Collaborator, Collaborator.repo_id == Repository.id)
                .join(User, User.id == Repository.owner_id)
                .where(Collaborator.user_id == user.id)
                .order_by(Repository.created_at.desc(), Repository.id.desc())
            )
            return [_view(repo, owner, role) for repo, owner, role in rows]

    async def get(self, user: User, name: str) -> RepositoryResponse:
        async with self.db.read() as session:
            repo, role = await require(session, user, name, Action.READ)
            owner = await session.get(User, repo.owner_id)
            assert owner is not None
            return _view(repo, owner, role)

    async def list_all(self) -> list[tuple[Repository, User]]:
        """Every repository with its creator (for admins, from the command line)."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(Repository, User)
                .join(User, User.id == Repository.owner_id)
                .order_by(Repository.created_at.desc(), Repository.id.desc())
            )
            return [(repo, owner) for repo, owner in rows]

    async def collaborators(self, user: User, name: str) -> list[CollaboratorResponse]:
        """Everyone on the repository; any collaborator may see who else is."""
        async with self.db.read() as session:
            repo, _ = await require(session, user, name, Action.READ)
            return await self._collaborators(session, repo)

    async def share(
        self, user: User, name: str, email: str, role: Role
    ) -> tuple[CollaboratorResponse, bool]:
        """Give the account with ``email`` ``role`` (owners only). Returns the collaborator
        and whether they are new (else their role changed)."""
        async with self.db.write() as session:
            repo, _ = await require(session, user, name, Action.MANAGE)
            target = (
                await session.execute(select(User).where(User.email == email.strip().lower()))
            ).scalar_one_or_none()
            if target is None:
                raise NotFound(f"no account for {email}", email=email)
            existing = await session.get(Collaborator, (repo.id, target.id))
            if existing is None:
                existing = Collaborator(
                    repo_id=repo.id,
                    user_id=target.id,
                    role=role.value,
                    created_at=datetime.now(UTC),
                )
                session.add(existing)
                created = True
            else:
                if existing.role == Role.OWNER and role != Role.OWNER:
                    await self._keep_an_owner(session, repo, leaving=target.id)
                existing.role = role.value
                created = False
            await session.flush()
            return CollaboratorResponse(person(target), role, existing.created_at), created

    async def set_role(
        self, user: User, name: str, user_id: int, role: Role
    ) -> CollaboratorResponse:
        """Change a collaborator's role (owners only; the last owner stays an owner)."""
        async with self.db.write() as session:
            repo, _ = await require(session, user, name, Action.MANAGE)
            existing = await session.get(Collaborator, (repo.id, user_id))
            target = await session.get(User, user_id)
            if existing is None or target is None:
                raise NotFound(f"user {user_id} is not a collaborator", user_id=user_id)
            if existing.role == Role.OWNER and role != Role.OWNER:
                await self._keep_an_owner(session, repo, leaving=user_id)
            existing.role = role.value
            return CollaboratorResponse(person(target), role, existing.created_at)

    async def delete(self, user: User, name: str) -> None:
        """Delete a repository and everything in it (owners only): its saves, refs,
        events, collaborators and indexes go with it (the database cascades)."""
        async with self.db.write() as session:
            repo, _ = await require(session, user, name, Action.DELETE)
            await session.execute(delete(Repository).where(Repository.id == repo.id))
        if self.objects is not None:
            self.objects.forget()

    async def unshare(self, user: User, name: str, user_id: int) -> None:
        """Remove a collaborator: owners remove anyone, anyone may leave."""
        async with self.db.write() as session:
            if user_id == user.id:
                repo, _ = await role_of(session, user.id, name)
            else:
                repo, _ = await require(session, user, name, Action.MANAGE)
            existing = await session.get(Collaborator, (repo.id, user_id))
            if existing is None:
                raise NotFound(f"user {user_id} is not a collaborator", user_id=user_id)
            if existing.role == Role.OWNER:
                await self._keep_an_owner(session, repo, leaving=user_id)
            await session.delete(existing)

    @staticmethod
    async def _keep_an_owner(session: AsyncSession, repo: Repository, *, leaving: int) -> None:
        """`Conflict` unless someone other than ``leaving`` stays owner.

        The repository row is locked first (Postgres), so two owners removing each other at
        once are serialized and the second sees the first's change instead of both leaving.
        """
        await session.execute(
            select(Repository.id).where(Repository.id == repo.id).with_for_update()
        )
        others = await session.execute(
            select(Collaborator.user_id)
            .where(
                Collaborator.repo_id == repo.id,
                Collaborator.role == Role.OWNER.value,
                Collaborator.user_id != leaving,
            )
            .limit(1)
        )
        if others.first() is None:
            raise Conflict("a repository keeps at least one owner", repository=repo.name)

    @staticmethod
    async def _collaborators(session: AsyncSession, repo: Repository) -> list[CollaboratorResponse]:
        rows = await session.execute(
            select(Collaborator, User)
            .join(User, User.id == Collaborator.user_id)
            .where(Collaborator.repo_id == repo.id)
            .order_by(Collaborator.created_at, User.id)
        )
        return [CollaboratorResponse(person(u), Role(c.role), c.created_at) for c, u in rows]
