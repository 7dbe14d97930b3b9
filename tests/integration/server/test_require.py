"""`require` on the real databases: NotFound for strangers, Forbidden by role."""

from __future__ import annotations

import pytest

from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import Action, Role, allowed, require
from gitwrite_sync.errors import Forbidden, NotFound
from gitwrite_sync.services import Services
from tests.integration.server.conftest import PASSWORD

pytestmark = pytest.mark.anyio


async def people(services: Services) -> dict[str, User]:
    users = {
        name: await services.users.create(f"{name}@example.com", PASSWORD)
        for name in ("owner", "editor", "writer", "beta_reader", "stranger")
    }
    await services.repositories.create(users["owner"], "novel")
    for role in (Role.EDITOR, Role.WRITER, Role.BETA_READER):
        await services.repositories.share(users["owner"], "novel", f"{role}@example.com", role)
    return users


async def test_require_follows_the_matrix(services: Services) -> None:
    users = await people(services)
    for role in Role:
        for action in Action:
            async with services.db.read() as session:
                if allowed(role, action):
                    repo, got = await require(session, users[role.value], "novel", action)
                    assert (repo.name, got) == ("novel", role)
                else:
                    with pytest.raises(Forbidden) as caught:
                        await require(session, users[role.value], "novel", action)
                    assert caught.value.details["role"] == role.value


async def test_strangers_cannot_tell_a_private_repository_from_a_missing_one(
    services: Services,
) -> None:
    users = await people(services)
    async with services.db.read() as session:
        with pytest.raises(NotFound) as private:
            await require(session, users["stranger"], "novel", Action.READ)
        with pytest.raises(NotFound) as missing:
            await require(session, users["stranger"], "no-such-novel", Action.READ)
    assert private.value.message == "no repository named 'novel'"
    assert missing.value.message == "no repository named 'no-such-novel'"
