"""Hunks: one side's changes against the base, and the ways to rewrite them equivalently.

A hunk says "``base[start:end]`` became ``tokens``". The same edit can often be written
several ways (deleting "``S2`` + space" is deleting "space + ``S2``"; replacing two
sentences is replacing one and deleting the other), and a three-way merge goes better when
both sides' hunks are written alike: :func:`pushed`, :func:`slides` and :func:`split_on`
give the alternatives, :func:`pair_twins` folds a change both sides made into one ``BOTH``
hunk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gitwrite.prose._engine import diff_anchored
from gitwrite.prose.tokens import is_word, split_words

if TYPE_CHECKING:
    from collections.abc import Sequence

OURS, THEIRS, BOTH = 0, 1, 2
MAX_SLIDE = 4
_REACH = 16


@dataclass(frozen=True, slots=True)
class Hunk:
    """A change by ``side`` (``BOTH`` when the two sides made it alike)."""

    side: int
    start: int
    end: int
    tokens: tuple[str, ...]

    def same_edit(self, other: Hunk) -> bool:
        return (self.start, self.end, self.tokens) == (other.start, other.end, other.tokens)


def order(hunk: Hunk) -> tuple[int, int, int]:
    """Sort key: by position; an insertion before a change starting at the same place."""
    return hunk.start, hunk.end, hunk.side


def hunks_of(
    side: int, base: Sequence[str], other: Sequence[str], deadline: float, *, words: bool
) -> list[Hunk]:
    """The hunks turning ``base`` into ``other``, in order, never touching one another.

    Words are matched before the spaces and punctuation between them, with semantic
    cleanup (changes read as a person's edits); sentences are matched before paragraph
    breaks, and those before the spaces between sentences (see
    :func:`~gitwrite.prose._engine.diff_anchored`).
    """
    if words:
        ops = diff_anchored(base, other, deadline, (is_word,), semantic=True)
    else:
        ops = diff_anchored(base, other, deadline, (_is_text, _is_paragraph_break))
    return [
        Hunk(side, op.a_start, op.a_end, tuple(other[op.b_start : op.b_end]))
        for op in ops
        if not op.equal
    ]


def pushed(hunks: list[Hunk], base: Sequence[str], step: int) -> list[Hunk]:
    """The same edits (of one side, in order) with each insertion and deletion slid as far
    as it goes to the left (``step`` -1) or right (+1): up to ``MAX_SLIDE`` tokens, and not
    into the side's neighbouring hunk.

    Both sides then write a deleted or added sentence alike, with the space on the same
    side of it: deleting "B" and "C" from "A B C." reads as deleting " B" and " C" (pushed
    left), not "B " and " C", which would both claim the space between. Deleting "A" and
    "B" from "A B C." only works pushed right: "A " and "B ".
    """
    out: list[Hunk] = []
    ordered = hunks if step < 0 else hunks[::-1]
    for hunk in ordered:
        for _ in range(MAX_SLIDE):
            moved = _slide_once(hunk, base, step)
            if moved is None or (out and collide(moved, out[-1])):
                break
            hunk = moved
        out.append(hunk)
    return out if step < 0 else out[::-1]


def collide(one: Hunk, two: Hunk) -> bool:
    """Whether hunks of one side overlap or insert at the same place."""
    if one.start < two.end and two.start < one.end:
        return True
    return one.start == one.end == two.start == two.end


def _is_text(unit: str) -> bool:
    return not unit.isspace()


def _is_paragraph_break(unit: str) -> bool:
    return unit.isspace() and unit.count("\n") > 1


def interact(one: Hunk, two: Hunk, base: Sequence[str], strict: bool) -> bool:
    """Whether hunks of the two sides touch the same text, so that they cannot both be kept
    without a decision.

    Args:
        one: A hunk of one side.
        two: A hunk of the other side.
        base: The base tokens.
        strict: Hunks interact as soon as they touch (no unchanged token between them).
            Otherwise they interact when they overlap, when both insert at one place, or
            when one inserts inside, or right against a non-blank token of, what the other
            changed: a sentence added after a sentence the other side rewrote is fine, one
            added after a sentence the other side deleted is not.

    Two insertions interact when they could be written at the same place (sliding along
    equal tokens): which comes first is then anyone's guess.
    """
    if one.start == one.end and two.start == two.end:
        low_one, high_one = _reach(one, base)
        low_two, high_two = _reach(two, base)
        return low_one <= high_two and low_two <= high_one
    if strict:
        return one.start <= two.end and two.start <= one.end
    if one.start < two.end and two.start < one.end:
        return True  # overlapping ranges, or an insertion strictly inside the other's range
    if one.start == one.end:
        return _insertion_meets(one.start, two, base)
    if two.start == two.end:
        return _insertion_meets(two.start, one, base)
    return False


def _reach(insertion: Hunk, base: Sequence[str]) -> tuple[int, int]:
    """The leftmost and rightmost places the insertion can slide to (within ``_REACH``)."""
    ends = []
    for step in (-1, 1):
        moved = insertion
        for _ in range(_REACH):
            further = _slide_once(moved, base, step)
            if further is None:
                break
            moved = further
        ends.append(moved.start)
    return ends[0], ends[1]


def _insertion_meets(point: int, hunk: Hunk, base: Sequence[str]) -> bool:
    if point == hunk.end:
        return not base[hunk.end - 1].isspace()
    if point == hunk.start:
        return not base[hunk.start].isspace()
    return False


def pair_twins(hunks: list[Hunk]) -> list[Hunk]:
    """Sorted hunks with each pair of identical changes of the two sides made one ``BOTH``."""
    out: list[Hunk] = []
    for hunk in sorted(hunks, key=order):
        twin = next(
            (
                i
                for i in range(len(out) - 1, max(-1, len(out) - 3), -1)
                if {out[i].side, hunk.side} == {OURS, THEIRS} and out[i].same_edit(hunk)
            ),
            None,
        )
        if twin is None:
            out.append(hunk)
        else:
            out[twin] = replace(hunk, side=BOTH)
    return sorted(out, key=order)


def split_on(hunk: Hunk, other: Hunk, base: Sequence[str]) -> list[Hunk] | None:
    """``hunk`` rewritten as two hunks, one of them the same edit as ``other`` (of the other
    side), when ``other`` changes a part at the start or the end of what ``hunk`` changes
    into the start or the end of what ``hunk`` puts there. None when it does not.

    Replacing "S3 S4" by "X3" includes deleting "S4": it is replacing "S3" by "X3", then
    deleting "S4". Replacing "S3" by "N X3" includes replacing "S3" by "X3": it is inserting
    "N", then replacing "S3" by "X3". But replacing "S3 S4" by "N S3 X4" is not deleting
    "S3" and more: the rest of the edit may not put back any text the shared part removed,
    nor most of its words (then "S3 S4" became "X" may be S4 worked into S3, not deleted).
    """
    if hunk.start == hunk.end or hunk.same_edit(other):
        return None
    if not (hunk.start <= other.start and other.end <= hunk.end):
        return None
    size = len(other.tokens)
    if size > len(hunk.tokens):
        return None
    twin = replace(other, side=hunk.side)
    if other.start == hunk.start and hunk.tokens[:size] == other.tokens:
        parts = [twin, Hunk(hunk.side, other.end, hunk.end, hunk.tokens[size:])]
    elif other.end == hunk.end and hunk.tokens[len(hunk.tokens) - size :] == other.tokens:
        rest = Hunk(hunk.side, hunk.start, other.start, hunk.tokens[: len(hunk.tokens) - size])
        parts = [rest, twin]
    else:
        return None
    removed = [unit for unit in base[other.start : other.end] if not unit.isspace()]
    rest = parts[1] if parts[0] is twin else parts[0]
    if set(removed) & set(rest.tokens) or _reworded(removed, rest.tokens):
        return None
    return parts


def _reworded(removed: Sequence[str], added: Sequence[str]) -> bool:
    """Whether ``added`` carries over most of the longer words of ``removed`` (so it may be
    the removed text rewritten, rather than something else)."""
    gone = _long_words(removed)
    return bool(gone) and 2 * len(gone & _long_words(added)) > len(gone)


def _long_words(units: Sequence[str]) -> set[str]:
    return {w.lower() for unit in units for w in split_words(unit) if len(w) > 3 and is_word(w)}


def slides(hunk: Hunk, base: Sequence[str]) -> list[Hunk]:
    """The hunk and the same edit placed up to ``MAX_SLIDE`` tokens either way, nearest
    first. Only pure insertions and deletions move, along runs of equal tokens."""
    found = [hunk]
    for step in (1, -1):
        moved: Hunk | None = hunk
        for _ in range(MAX_SLIDE):
            moved = _slide_once(moved, base, step) if moved else None
            if moved is None:
                break
            found.append(moved)
    return sorted(found, key=lambda h: abs(h.start - hunk.start))


def _slide_once(hunk: Hunk, base: Sequence[str], step: int) -> Hunk | None:
    start, end, tokens = hunk.start, hunk.end, hunk.tokens
    if start == end and tokens:  # an insertion rotates through the equal tokens beside it
        if step > 0 and start < len(base) and tokens[0] == base[start]:
            return replace(hunk, start=start + 1, end=end + 1, tokens=(*tokens[1:], base[start]))
        if step < 0 and start > 0 and tokens[-1] == base[start - 1]:
            moved = (base[start - 1], *tokens[:-1])
            return replace(hunk, start=start - 1, end=end - 1, tokens=moved)
        return None
    if not tokens and start < end:  # a deletion moves along a run of equal tokens
        if step > 0 and end < len(base) and base[start] == base[end]:
            return replace(hunk, start=start + 1, end=end + 1)
        if step < 0 and start > 0 and base[start - 1] == base[end - 1]:
            return replace(hunk, start=start - 1, end=end - 1)
    return None
