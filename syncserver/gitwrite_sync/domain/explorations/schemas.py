"""Request and response bodies of explorations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Exploration(msgspec.Struct, frozen=True):
    name: str
    """As a writer sees it: "main story", or the branch with spaces for dashes."""
    branch: str
    head: str
    """Its last save."""
    main: bool
    last_saved: datetime
    summary: str
    """The message of its last save."""
    merged: bool
    """Every save of it is in the main story."""


class CreateExploration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Name
    """Typed as a writer types it ("darker ending"); stored as ``darker-ending``."""
    at: Annotated[str, msgspec.Meta(max_length=400)] | None = None
    """Where it starts: a save, an exploration or a milestone (default: the main story)."""


class MergeRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    into: Name | None = None
    """The exploration to merge into (default: the main story)."""
    message: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


class MergeResult(msgspec.Struct, frozen=True):
    status: str
    """``merged`` (``save`` made) or ``up_to_date`` (nothing to merge)."""
    into: str
    save: str | None
    parents: list[str]
    changed: list[str]
    """The files the merge save changed."""
    fast_forward: bool
    """The target had no saves of its own since the two parted (a merge save is made
    anyway, so the merge shows in the history)."""
    words_added: int
    words_removed: int
