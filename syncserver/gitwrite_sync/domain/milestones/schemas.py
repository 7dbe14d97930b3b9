"""Request and response bodies of milestones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gitwrite_sync.domain.history.schemas import Identity


class Milestone(msgspec.Struct, frozen=True):
    name: str
    """As typed ("sent to editor"); ``tag`` is its git name (``sent-to-editor``)."""
    tag: str
    message: str
    save: str
    """The save it marks."""
    time: datetime
    tagger: Identity | None
    """Who set it (None for a lightweight tag made with git)."""
    annotated: bool


class CreateMilestone(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    message: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    at: Annotated[str, msgspec.Meta(max_length=400)] | None = None
    """The save to mark: a save, an exploration or a milestone (default: the main story)."""
