"""Response bodies about files."""

from __future__ import annotations

import msgspec


class FileEntry(msgspec.Struct, frozen=True):
    path: str
    id: str
    """The id of its content (``GET /repositories/{name}/blobs/{id}``)."""
    size: int
    words: int | None
    """Words in the text; None for a file that is not text (an image)."""
