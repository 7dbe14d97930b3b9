"""Word counts travel in each save's message as a git trailer: ``GitWrite-Words: +120 -4``.

Keeping them in the commit means history shows words added and removed without diffing
every save again, on every machine the project is synced to.
"""

from __future__ import annotations

import re

_TRAILER = re.compile(r"\n*^GitWrite-Words: \+(\d+) -(\d+)\s*\Z", re.MULTILINE)


def add_word_trailer(message: str, added: int, removed: int) -> str:
    body = message.rstrip("\n")
    return f"{body}\n\nGitWrite-Words: +{added} -{removed}\n"


def split_word_trailer(message: str) -> tuple[str, tuple[int, int] | None]:
    """The message without its trailer, and the (added, removed) it records if any."""
    match = _TRAILER.search(message)
    if match is None:
        return message.rstrip("\n"), None
    return message[: match.start()].rstrip("\n"), (int(match[1]), int(match[2]))
