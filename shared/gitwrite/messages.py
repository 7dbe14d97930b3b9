"""The messages GitWrite writes for saves when the writer gives none."""

from __future__ import annotations

from gitwrite.model import ChangeKind, FileChange


def default_message(changes: list[FileChange]) -> str:
    """A save message such as ``chapter-03.md: +120 words`` or ``3 files: +40 -12 words``."""
    if not changes:
        return "Save"
    added = sum(c.words_added for c in changes)
    removed = sum(c.words_removed for c in changes)
    words = f"+{added}" + (f" -{removed}" if removed else "") + " words"
    if len(changes) == 1:
        change = changes[0]
        note = {ChangeKind.ADDED: " (new)", ChangeKind.DELETED: " (deleted)"}.get(change.kind, "")
        return f"{change.path}{note}: {words}"
    if len(changes) <= 3:
        return f"{', '.join(c.path for c in changes)}: {words}"
    return f"{len(changes)} files: {words}"
