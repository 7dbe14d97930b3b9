"""People, repositories and connections on a real server, for the end-to-end tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from dulwich.repo import Repo

from gitwrite.client import SyncClient
from gitwrite.rest import ServerApi, Tokens
from tests.serverproc import SECRET, ServerProcess

PASSWORD = "correct horse battery staple"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Person:
    name: str
    email: str
    id: int
    tokens: Tokens

    @property
    def token(self) -> str:
        return self.tokens.access_token


async def person(api: ServerApi, name: str) -> Person:
    """A new account, signed in."""
    email = f"{unique(name)}@example.com"
    made = await api.register(email, PASSWORD, name)
    tokens = await api.login(email, PASSWORD)
    return Person(name, email, int(made["id"]), tokens)


async def shared_repository(api: ServerApi, owner: Person, *shares: tuple[Person, str]) -> str:
    """A new repository of ``owner``, shared with each ``(person, role)``."""
    name = unique("novel")
    await api.create_repository(owner.token, name)
    for someone, role in shares:
        await api.add_collaborator(owner.token, name, someone.email, role)
    return name


async def connect(server: ServerProcess, who: Person | str, **options: object) -> SyncClient:
    token = who.token if isinstance(who, Person) else who
    return await SyncClient.connect(server.ws_url, token, timeout=60, **options)  # type: ignore[arg-type]


def expired_token(user_id: int) -> str:
    """An access token exactly like the server's, signed with its key, expired an hour ago."""
    now = int(time.time())
    payload = {"sub": str(user_id), "jti": uuid.uuid4().hex, "iat": now - 7200}
    payload |= {"exp": now - 3600, "type": "access"}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def fresh_repo(path: Path) -> Repo:
    return Repo.init(str(path), mkdir=True)
