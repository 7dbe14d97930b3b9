"""Response bodies of history and compare."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gitwrite.prose import RunKind


class Identity(msgspec.Struct, frozen=True):
    name: str
    email: str


class SaveSummary(msgspec.Struct, frozen=True):
    """One save in a history."""

    id: str
    summary: str
    author: Identity
    time: datetime
    parents: list[str]
    words_added: int
    words_removed: int


class HistoryPage(msgspec.Struct, frozen=True):
    """Saves newest first, a page at a time."""

    head: str
    """The save the history leads to."""
    items: list[SaveSummary]
    cursor: str | None
    """Pass as ``cursor`` for the next page; None on the last page."""
    next: str | None
    """The URL of the next page; None on the last page."""


class TextRun(msgspec.Struct, frozen=True):
    kind: RunKind
    text: str


class FileComparison(msgspec.Struct, frozen=True):
    path: str
    kind: str
    """``added``, ``modified`` or ``deleted``."""
    binary: bool
    """Not text (on either side): no runs."""
    words_added: int
    words_removed: int
    runs: list[TextRun]
    """The text in reading order: same, removed and added runs."""


class Comparison(msgspec.Struct, frozen=True):
    from_: str | None = msgspec.field(name="from")
    """The older save (the empty project when ``to`` has no parent)."""
    to: str
    files: list[FileComparison]
    words_added: int
    words_removed: int
