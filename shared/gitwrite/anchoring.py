"""Where an annotation's quoted text is now: ranges in a text and re-anchoring after edits.

Offsets count Unicode code points in the file's text decoded as UTF-8 (Python string
indices), not bytes and not UTF-16 units (a Qt front end converts). Line numbers count
from 1; ``end_line`` is the line of the range's last character.

Re-anchoring looks for the exact quoted text in the current text. The old start is
first carried through a character diff of the text the annotation was made on against
the current text (so text added or removed before the quote moves it by just that
much); among the places the quote appears, the one nearest that expected position wins.
When the quote appears nowhere, the annotation cannot be anchored: its anchor says
``found=False`` and the writer is shown it as detached.

When the annotated file is gone from the working folder, the quote is looked for in the
files that are new since the annotation's save (where a renamed file went): found in
exactly one, the anchor follows it there; otherwise the annotation is detached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from diff_match_patch import diff_match_patch

from gitwrite.errors import GitWriteError

if TYPE_CHECKING:
    from gitwrite.annotation_store import Annotation
    from gitwrite.project import Project

NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
DIFF_TIMEOUT = 0.5
"""Seconds a position-mapping diff may take before it settles for a coarser answer."""


class Range(msgspec.Struct, frozen=True, kw_only=True):
    """A non-empty span of a file's text: offsets ``[start, end)`` and its lines."""

    start: NonNegative
    end: NonNegative
    start_line: Positive
    end_line: Positive

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a range must end after it starts")
        if self.end_line < self.start_line:
            raise ValueError("a range's end line must not be before its start line")


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    """Where an annotation's quoted text is in the current text of the project.

    ``found`` is False when the quote can no longer be found (the text was rewritten or
    the file deleted); ``range`` is then None and ``reason`` says why. ``path`` differs
    from the annotation's when its file was renamed; ``moved`` is True when the range
    differs from the one the annotation recorded.
    """

    annotation_id: str
    found: bool
    path: str
    range: Range | None
    moved: bool = False
    reason: str | None = None


def line_of(text: str, offset: int) -> int:
    """The 1-based line of the character at ``offset``."""
    return text.count("\n", 0, offset) + 1


def text_range(text: str, start: int, end: int) -> Range:
    """The range ``[start, end)`` of ``text`` with its line numbers (``start < end``)."""
    return Range(
        start=start, end=end, start_line=line_of(text, start), end_line=line_of(text, end - 1)
    )


def occurrences(text: str, quote: str) -> list[int]:
    """Every offset where ``quote`` starts in ``text``, overlapping ones included."""
    found = []
    at = text.find(quote)
    while at != -1:
        found.append(at)
        at = text.find(quote, at + 1)
    return found


def map_offset(old: str, new: str, offset: int) -> int:
    """Where ``offset`` in ``old`` is in ``new``, following a character diff."""
    if old == new:
        return offset
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(old, new, True)
    return int(dmp.diff_xIndex(diffs, offset))


def locate(quote: str, text: str, old_start: int, old_text: str | None = None) -> int | None:
    """Where ``quote`` now starts in ``text``: the occurrence nearest its expected place.

    The expected place is ``old_start`` carried through the edits from ``old_text`` (the
    text the range was made on) to ``text``; without ``old_text`` it is ``old_start``.
    None when the quote appears nowhere.
    """
    if not quote:
        return None
    places = occurrences(text, quote)
    if not places:
        return None
    if len(places) == 1:
        return places[0]
    expected = map_offset(old_text, text, old_start) if old_text is not None else old_start
    return min(places, key=lambda place: (abs(place - expected), place))


def find_quote(project: Project, record: Annotation) -> Anchor:
    """Where an annotation's quoted text is in the text on disk now."""
    try:
        old_text: str | None = project.read(record.path, record.save)
    except GitWriteError:
        old_text = None  # the save is not here (yet): go by the old offset alone
    text = _disk_text(project, record.path)
    if text is None:
        return _follow_rename(project, record, old_text)
    start = locate(record.quote, text, record.range.start, old_text)
    if start is None:
        return Anchor(
            annotation_id=record.id,
            found=False,
            path=record.path,
            range=None,
            reason="the quoted text was changed or removed",
        )
    found = text_range(text, start, start + len(record.quote))
    return Anchor(
        annotation_id=record.id,
        found=True,
        path=record.path,
        range=found,
        moved=found != record.range,
    )


def _disk_text(project: Project, path: str) -> str | None:
    return project.read(path) if (project.root / path).is_file() else None


def _follow_rename(project: Project, record: Annotation, old_text: str | None) -> Anchor:
    """The quote in the one file that is new since the annotation's save, if exactly one."""
    try:
        before = set(project.files(record.save))
    except GitWriteError:
        before = set()
    on_disk = set(project.files()) | set(project.unsaved_paths())
    places = []
    for path in sorted(on_disk - before):
        text = _disk_text(project, path)
        if text is None:
            continue
        start = locate(record.quote, text, record.range.start, old_text)
        if start is not None:
            places.append((path, text_range(text, start, start + len(record.quote))))
    if len(places) == 1:
        path, found = places[0]
        return Anchor(annotation_id=record.id, found=True, path=path, range=found, moved=True)
    reason = (
        "the file was deleted or renamed"
        if not places
        else "the file was renamed and the quoted text is in several new files"
    )
    return Anchor(annotation_id=record.id, found=False, path=record.path, range=None, reason=reason)
