"""Request and response bodies of saves made through the REST API."""

from __future__ import annotations

from typing import Annotated

import msgspec

SaveId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{40}$", description="a full save id")]


class SaveRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    file_path: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    """Project-relative, with ``/`` between folders; no ``..`` and no ``.git``."""
    content: str
    """The whole new text of the file (UTF-8)."""
    message: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    """The save's message; empty for a generated one ("chapter-01.md: +12 words")."""
    exploration: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """The exploration to save on (default: the main story)."""
    expected_head: SaveId | None = None
    """Save only if the exploration's last save is this one (else 409 ``stale``)."""


class SaveResponse(msgspec.Struct, frozen=True):
    id: str
    """The new save (or, when ``saved`` is false, the last save, which already holds it)."""
    saved: bool
    """False when the file already had this content: nothing was saved."""
    exploration: str
    branch: str
    file_path: str
    file_id: str | None
    """The id of the file's content (``GET /repositories/{name}/blobs/{id}``); None when
    the save deleted it."""
    parents: list[str]
    message: str
    words_added: int
    words_removed: int
    seq: int
    """The repository's event number after the save."""
