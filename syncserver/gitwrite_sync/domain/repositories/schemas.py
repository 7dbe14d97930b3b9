"""Request and response bodies of ``/repositories``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gitwrite_sync.domain.access import Role


class CreateRepository(msgspec.Struct, frozen=True):
    name: str
    """Checked by `service.check_name` (one clear message for every rule)."""
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


class AddCollaborator(msgspec.Struct, frozen=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    role: Role


class Person(msgspec.Struct, frozen=True):
    id: int
    email: str
    display_name: str


class RepositoryResponse(msgspec.Struct, frozen=True):
    name: str
    description: str
    default_branch: str
    role: Role
    """The caller's role on this repository."""
    owner: Person
    seq: int
    """Number of the newest event (ref change): a client behind this should fetch."""
    created_at: datetime
    updated_at: datetime


class CollaboratorResponse(msgspec.Struct, frozen=True):
    user: Person
    role: Role
    added_at: datetime
