"""Request and response bodies of ``/repositories``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gitwrite_sync.domain.access import Role
from gitwrite_sync.domain.explorations.schemas import Exploration
from gitwrite_sync.domain.files.schemas import FileEntry
from gitwrite_sync.domain.history.schemas import SaveSummary


class CreateRepository(msgspec.Struct, frozen=True):
    name: str
    """Checked by `service.check_name` (one clear message for every rule)."""
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


class AddCollaborator(msgspec.Struct, frozen=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    role: Role


class ChangeRole(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
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


class RepositoryDetail(msgspec.Struct, frozen=True):
    """A repository with what a writer opening it sees first."""

    name: str
    description: str
    default_branch: str
    role: Role
    owner: Person
    seq: int
    created_at: datetime
    updated_at: datetime
    at: str | None
    """The save shown (the main story's last save unless ``?at=`` names another; None
    before the first save)."""
    explorations: list[Exploration]
    latest_saves: list[SaveSummary]
    """The newest saves leading to ``at``, newest first (the history has the rest)."""
    files: list[FileEntry]
    """Every file at ``at`` with its size and word count."""
    words: int
    """Words in all the text files at ``at``."""
