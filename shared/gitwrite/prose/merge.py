"""Three-way merge of prose: paragraph by paragraph, then sentence and word when needed.

1. The three versions are merged as lists of paragraphs with :class:`merge3.Merge3` (its
   matching done by diff-match-patch rather than difflib).
2. Where both sides changed the same paragraphs, the region is merged again finer:
   sentences (with the spaces between them as tokens of their own), and inside a sentence
   both sides changed, words. A finer merge of a paragraph is taken only if it keeps every
   change of both sides exactly once (checked afresh on the result by
   :func:`gitwrite.prose._check.keeps_each_change_once`).
3. Paragraphs that still conflict are written whole between git-style diff3 markers.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from merge3 import Merge3

from gitwrite.prose._check import keeps_each_change_once
from gitwrite.prose._engine import common_ends, deadline_in, diff_units, past
from gitwrite.prose._threeway import Segment, merge_tokens
from gitwrite.prose.tokens import (
    PARAGRAPH_BREAK,
    split_paragraphs,
    split_sentences,
    split_words,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["MERGE_TIMEOUT", "MergeResult", "merge_text"]

MERGE_TIMEOUT = 2.0
"""Seconds a merge spends looking for the smallest diffs. Past it the diffs get coarser,
which can only turn a clean merge into a conflict, never lose or duplicate text."""

_EDGES = re.compile(r"(\s*)(.*?)(\s*)", re.DOTALL)
_BLANK_TAIL = re.compile(r"\n((?:[^\S\n]*\n)+)\Z")


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The outcome of :func:`merge_text`."""

    text: str
    """The merged text when clean; when conflicted, the proposed text with labelled markers."""
    conflicts: int
    """The number of conflict regions (0 = clean)."""

    @property
    def clean(self) -> bool:
        """Whether the merge needs no decision from the writer."""
        return self.conflicts == 0


@dataclass(frozen=True, slots=True)
class _Conflict:
    base: str
    ours: str
    theirs: str


def merge_text(
    base: str,
    ours: str,
    theirs: str,
    *,
    ours_label: str = "ours",
    theirs_label: str = "theirs",
    base_label: str = "base",
) -> MergeResult:
    """Merge two edited versions of a text.

    Args:
        base: The version both sides started from.
        ours: Our edited version.
        theirs: Their edited version.
        ours_label: Written after ``<<<<<<<`` in conflict markers.
        theirs_label: Written after ``>>>>>>>``.
        base_label: Written after ``|||||||``.

    Returns:
        The merged text and the number of conflicts. Each conflict covers whole paragraphs
        and is written as ``<<<<<<< ours`` / our text / ``||||||| base`` / base text /
        ``=======`` / their text / ``>>>>>>> theirs``, each marker on a line of its own.
        Keeping one side's lines in place of the block restores that side's paragraphs.
    """
    if ours == theirs or theirs == base:
        return MergeResult(ours, 0)
    if ours == base:
        return MergeResult(theirs, 0)
    labels = (ours_label, base_label, theirs_label)
    newline = _converted_newline(base, ours, theirs)
    if newline is None:
        return _merge(base, ours, theirs, labels, _newline(base, ours, theirs))
    base, ours, theirs = (text.replace("\r\n", "\n") for text in (base, ours, theirs))
    merged = _merge(base, ours, theirs, labels, "\n")
    return MergeResult(merged.text.replace("\n", newline), merged.conflicts)


def _merge(
    base: str, ours: str, theirs: str, labels: tuple[str, str, str], newline: str
) -> MergeResult:
    deadline = deadline_in(MERGE_TIMEOUT)
    head, tail = common_ends((base, ours, theirs))
    base_part, ours_part, theirs_part = (
        split_paragraphs(text[head : len(text) - tail]) for text in (base, ours, theirs)
    )
    pieces: list[str | _Conflict] = [base[:head]]
    merger = Merge3(base_part, ours_part, theirs_part, sequence_matcher=_matcher_until(deadline))
    for group in merger.merge_groups():
        if group[0] == "conflict":
            pieces += _refine(*("".join(part) for part in group[1:]), deadline=deadline)
        else:
            pieces.append("".join(group[1]))
    pieces.append(base[len(base) - tail :])
    pieces = _coalesce(pieces)
    if not any(isinstance(piece, _Conflict) for piece in pieces):
        return MergeResult("".join(piece for piece in pieces if isinstance(piece, str)), 0)
    return _render(pieces, labels, newline)


def _line_ending(text: str) -> str | None:
    """``\\n`` or ``\\r\\n`` when every line break of the text is that, None when it has
    no line break, ``mixed`` otherwise."""
    if "\n" not in text:
        return None
    if "\r" not in text:  # one character: a fast search, unlike "\r\n"
        return "\n"
    crlf = text.count("\r\n")
    return "\r\n" if crlf == text.count("\n") else "\n" if not crlf else "mixed"


def _converted_newline(base: str, ours: str, theirs: str) -> str | None:
    """The line ending a merge should end with, when the texts are to be merged with plain
    ``\\n`` line breaks and converted back: when each text keeps to one kind of line break
    and some use ``\\r\\n``. A side that converted its line endings wins (``\\n`` if the sides
    went opposite ways).

    Without this, converting a file's line endings would conflict with every other edit.
    """
    endings = [_line_ending(text) for text in (base, ours, theirs)]
    if "mixed" in endings or "\r\n" not in endings:
        return None
    old = endings[0]
    changed = {ending for ending in endings[1:] if ending is not None and ending != old}
    if len(changed) > 1:
        return "\n"  # the two sides went opposite ways
    return changed.pop() if changed else old


class _Matcher:
    """The part of :class:`difflib.SequenceMatcher` that Merge3 uses, on diff-match-patch."""

    deadline = 0.0

    def __init__(
        self,
        isjunk: Callable[[str], bool] | None = None,
        a: Sequence[str] = (),
        b: Sequence[str] = (),
        autojunk: bool = True,
    ) -> None:
        self.a, self.b = a, b

    def get_matching_blocks(self) -> list[tuple[int, int, int]]:
        blocks = [
            (op.a_start, op.b_start, op.a_end - op.a_start)
            for op in diff_units(self.a, self.b, self.deadline)
            if op.equal
        ]
        return [*blocks, (len(self.a), len(self.b), 0)]


def _matcher_until(when: float) -> type[_Matcher]:
    class _MatcherUntil(_Matcher):
        deadline = when

    return _MatcherUntil


def _sentence_units(text: str) -> list[str]:
    """Sentences without their surrounding whitespace, and that whitespace, as tokens."""
    units: list[str] = []
    for paragraph in split_paragraphs(text):
        for sentence in split_sentences(paragraph):
            edges = _EDGES.fullmatch(sentence)
            assert edges is not None  # the pattern matches any string
            units += (part for part in edges.groups() if part)
    return units


def _refine(base: str, ours: str, theirs: str, *, deadline: float) -> list[str | _Conflict]:
    """Merge a region both sides changed by sentences, then words; whole paragraphs that
    still conflict become conflicts."""
    segments = merge_tokens(
        _sentence_units(base),
        _sentence_units(ours),
        _sentence_units(theirs),
        words=False,
        deadline=deadline,
    )
    if segments is None:
        return [_Conflict(base, ours, theirs)]
    finer: list[Segment] = []
    for segment in segments:
        if segment.merged is None and not past(deadline):
            words = merge_tokens(
                split_words(segment.base),
                split_words(segment.ours),
                split_words(segment.theirs),
                words=True,
                deadline=deadline,
            )
            finer += words if words is not None else [segment]
        else:
            finer.append(segment)
    return [_piece(group) for group in _paragraph_groups(finer)]


def _paragraph_groups(segments: list[Segment]) -> list[list[Segment]]:
    """Cut the segments into groups at paragraph breaks that neither side touched."""
    groups: list[list[Segment]] = [[]]
    for segment in segments:
        if not segment.unchanged:
            groups[-1].append(segment)
            continue
        text, start = segment.base, 0
        for match in PARAGRAPH_BREAK.finditer(text):
            part = text[start : match.end()]
            groups[-1].append(Segment(part, part, part, part))
            groups.append([])
            start = match.end()
        if start < len(text):
            rest = text[start:]
            groups[-1].append(Segment(rest, rest, rest, rest))
    return [group for group in groups if group]


def _piece(group: list[Segment]) -> str | _Conflict:
    if keeps_each_change_once(group):
        return "".join(segment.merged or "" for segment in group)
    return _Conflict(
        "".join(s.base for s in group),
        "".join(s.ours for s in group),
        "".join(s.theirs for s in group),
    )


def _coalesce(pieces: list[str | _Conflict]) -> list[str | _Conflict]:
    """Join neighbouring clean texts, and neighbouring conflicts into one."""
    out: list[str | _Conflict] = []
    kept = (piece for piece in pieces if piece != "")
    for clean, run in itertools.groupby(kept, key=lambda piece: isinstance(piece, str)):
        items = list(run)
        if clean:
            out.append("".join(item for item in items if isinstance(item, str)))
        else:
            conflicts = [item for item in items if isinstance(item, _Conflict)]
            out.append(
                _Conflict(
                    "".join(c.base for c in conflicts),
                    "".join(c.ours for c in conflicts),
                    "".join(c.theirs for c in conflicts),
                )
            )
    return out


def _newline(*texts: str) -> str:
    """``\\r\\n`` if most line breaks of the texts are ``\\r\\n``, else ``\\n``."""
    crlf = sum(text.count("\r\n") for text in texts)
    return "\r\n" if crlf and 2 * crlf >= sum(text.count("\n") for text in texts) else "\n"


def _render(
    pieces: list[str | _Conflict], labels: tuple[str, str, str], newline: str
) -> MergeResult:
    out: list[str] = []
    conflicts = 0
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        conflicts += 1
        if out and not out[-1].endswith("\n"):
            out.append(newline)
        out.append(_markers(piece, labels, newline))
    return MergeResult("".join(out), conflicts)


def _markers(conflict: _Conflict, labels: tuple[str, str, str], newline: str) -> str:
    """A diff3-style conflict block, every line of it ending with a line break.

    When all three versions end with the same blank lines, those are written once after the
    block instead of inside each side, so the block reads like git's.
    """
    sides = [conflict.ours, conflict.base, conflict.theirs]
    after = ""
    tails = {_blank_tail(side) for side in sides}
    if all(sides) and len(tails) == 1:
        after = tails.pop()
        sides = [side[: len(side) - len(after)] for side in sides]
    ours, base, theirs = (s if not s or s.endswith("\n") else s + newline for s in sides)
    start, middle, end = (
        " ".join(filter(None, (marker, label)))
        for marker, label in zip(("<<<<<<<", "|||||||", ">>>>>>>"), labels, strict=True)
    )
    return (
        f"{start}{newline}{ours}{middle}{newline}{base}======={newline}"
        f"{theirs}{end}{newline}{after}"
    )


def _blank_tail(text: str) -> str:
    """The blank lines after the final line break of ``text`` ("" if none)."""
    found = _BLANK_TAIL.search(text)
    return found.group(1) if found else ""
