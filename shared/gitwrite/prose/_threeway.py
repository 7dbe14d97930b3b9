"""Three-way merge of token sequences: both sides' changes, each kept once, or a conflict.

Each side's changes against the base are found as hunks (a base range and what replaced
it). Hunks of the two sides that touch the same base tokens *interact*; interacting hunks
form a cluster. A cluster changed by one side only takes that side's version; a cluster both
sides changed identically takes it once; any other cluster is a conflict. Before giving up
on a cluster, pure insertions and deletions are slid along runs of equal tokens (deleting
"``S2`` + space" is the same edit as deleting "space + ``S2``") to find a placement where the
two sides no longer interact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gitwrite.prose._engine import diff_units

if TYPE_CHECKING:
    from collections.abc import Sequence

OURS, THEIRS = 0, 1
_MAX_SLIDE = 4
_MAX_COMBINATIONS = 256


@dataclass(frozen=True, slots=True)
class Hunk:
    """One side's change: ``base[start:end]`` was replaced by ``tokens``."""

    side: int
    start: int
    end: int
    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the merge: its text in each version and in the result.

    ``merged`` is None when both sides changed the stretch differently (a conflict).
    """

    base: str
    ours: str
    theirs: str
    merged: str | None

    @property
    def unchanged(self) -> bool:
        return self.base == self.ours == self.theirs


def merge_tokens(
    base: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    *,
    strict: bool,
    deadline: float,
    semantic: bool = False,
) -> list[Segment] | None:
    """Merge two edited versions of a token sequence.

    Args:
        base: The common ancestor's tokens.
        ours: Our version's tokens.
        theirs: Their version's tokens.
        strict: Hunks of the two sides interact as soon as they touch, so every change must
            be separated from the other side's by at least one unchanged token (used for
            words). When False (sentences), touching hunks stay apart unless one side's
            insertion lands against a non-blank token the other side removed or changed.
        deadline: For the diffs (see :func:`~gitwrite.prose._engine.deadline_in`).
        semantic: Diff with semantic cleanup (coarser, more human hunks).

    Returns:
        Segments in order, or None if they fail to reassemble the three inputs (a bug).
    """
    hunks = _hunks(OURS, base, ours, deadline, semantic) + _hunks(
        THEIRS, base, theirs, deadline, semantic
    )
    hunks.sort(key=_order)
    for cluster in _clusters(hunks, base, strict):
        if _two_sided(cluster) and not _same_change(cluster, base):
            _slide_apart(hunks, cluster, base, strict)
    segments: list[Segment] = []
    position = 0
    for cluster in _clusters(hunks, base, strict):
        start = min(hunk.start for hunk in cluster)
        end = max(hunk.end for hunk in cluster)
        if position < start:
            unchanged = "".join(base[position:start])
            segments.append(Segment(unchanged, unchanged, unchanged, unchanged))
        segments.append(_segment(cluster, base, start, end))
        position = end
    if position < len(base):
        unchanged = "".join(base[position:])
        segments.append(Segment(unchanged, unchanged, unchanged, unchanged))
    if not _reassembles(segments, base, ours, theirs):
        return None
    return segments


def _order(hunk: Hunk) -> tuple[int, int, int]:
    return hunk.start, hunk.end, hunk.side


def _hunks(
    side: int, base: Sequence[str], other: Sequence[str], deadline: float, semantic: bool
) -> list[Hunk]:
    return [
        Hunk(side, op.a_start, op.a_end, tuple(other[op.b_start : op.b_end]))
        for op in diff_units(base, other, deadline, semantic=semantic)
        if not op.equal
    ]


def _interact(one: Hunk, two: Hunk, base: Sequence[str], strict: bool) -> bool:
    """Whether hunks of different sides touch the same text (see :func:`merge_tokens`)."""
    if strict:
        return one.start <= two.end and two.start <= one.end
    if one.start < two.end and two.start < one.end:
        return True  # overlapping ranges, or an insertion strictly inside the other's range
    if one.start == one.end and two.start == two.end:
        return one.start == two.start
    if one.start == one.end:
        return _insertion_meets(one.start, two, base)
    if two.start == two.end:
        return _insertion_meets(two.start, one, base)
    return False


def _insertion_meets(point: int, hunk: Hunk, base: Sequence[str]) -> bool:
    """Whether an insertion at ``point`` is anchored on a non-blank token ``hunk`` changed."""
    if point == hunk.end:
        return not base[hunk.end - 1].isspace()
    if point == hunk.start:
        return not base[hunk.start].isspace()
    return False


def _clusters(hunks: list[Hunk], base: Sequence[str], strict: bool) -> list[list[Hunk]]:
    """Group sorted hunks into clusters of (transitively) interacting hunks, in order."""
    parent = list(range(len(hunks)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_side = [[i for i, h in enumerate(hunks) if h.side == side] for side in (OURS, THEIRS)]
    theirs = by_side[THEIRS]
    first = 0
    for i in by_side[OURS]:
        hunk = hunks[i]
        while first < len(theirs) and hunks[theirs[first]].end < hunk.start:
            first += 1
        for j in theirs[first:]:
            if hunks[j].start > hunk.end:
                break
            if _interact(hunk, hunks[j], base, strict):
                parent[root(j)] = root(i)
    groups: dict[int, list[Hunk]] = {}
    for i, hunk in enumerate(hunks):
        groups.setdefault(root(i), []).append(hunk)
    return sorted(groups.values(), key=lambda group: _order(group[0]))


def _two_sided(cluster: list[Hunk]) -> bool:
    return len({hunk.side for hunk in cluster}) == 2


def _apply(cluster: list[Hunk], side: int, base: Sequence[str], start: int, end: int) -> str:
    """The text ``side`` has in place of ``base[start:end]``."""
    parts: list[str] = []
    position = start
    for hunk in cluster:
        if hunk.side == side:
            parts += base[position : hunk.start]
            parts += hunk.tokens
            position = hunk.end
    parts += base[position:end]
    return "".join(parts)


def _same_change(cluster: list[Hunk], base: Sequence[str]) -> bool:
    start = min(hunk.start for hunk in cluster)
    end = max(hunk.end for hunk in cluster)
    return _apply(cluster, OURS, base, start, end) == _apply(cluster, THEIRS, base, start, end)


def _segment(cluster: list[Hunk], base: Sequence[str], start: int, end: int) -> Segment:
    ours = _apply(cluster, OURS, base, start, end)
    theirs = _apply(cluster, THEIRS, base, start, end)
    sides = {hunk.side for hunk in cluster}
    merged = ours if sides == {OURS} or ours == theirs else theirs if sides == {THEIRS} else None
    return Segment("".join(base[start:end]), ours, theirs, merged)


def _slides(hunk: Hunk, base: Sequence[str]) -> list[Hunk]:
    """The hunk and its equivalent placements, nearest first (replacements never move)."""
    found = [hunk]
    for step in (1, -1):
        moved = hunk
        for _ in range(_MAX_SLIDE):
            moved_or_none = _slide_once(moved, base, step)
            if moved_or_none is None:
                break
            moved = moved_or_none
            found.append(moved)
    return sorted(found, key=lambda h: abs(h.start - hunk.start))


def _slide_once(hunk: Hunk, base: Sequence[str], step: int) -> Hunk | None:
    start, end, tokens = hunk.start, hunk.end, hunk.tokens
    if start == end and tokens:  # an insertion rotates through the equal tokens beside it
        if step > 0 and start < len(base) and tokens[0] == base[start]:
            return replace(hunk, start=start + 1, end=end + 1, tokens=(*tokens[1:], base[start]))
        if step < 0 and start > 0 and tokens[-1] == base[start - 1]:
            return replace(
                hunk, start=start - 1, end=end - 1, tokens=(base[start - 1], *tokens[:-1])
            )
        return None
    if not tokens and start < end:  # a deletion moves along a run of equal tokens
        if step > 0 and end < len(base) and base[start] == base[end]:
            return replace(hunk, start=start + 1, end=end + 1)
        if step < 0 and start > 0 and base[start - 1] == base[end - 1]:
            return replace(hunk, start=start - 1, end=end - 1)
    return None


def _slide_apart(hunks: list[Hunk], cluster: list[Hunk], base: Sequence[str], strict: bool) -> None:
    """Move the cluster's hunks in place (in ``hunks``) so the two sides stop interacting,
    if some combination of equivalent placements achieves that; otherwise leave them."""
    options = [_slides(hunk, base) for hunk in cluster]
    while len(options) > 1 and _count(options) > _MAX_COMBINATIONS:
        longest = max(range(len(options)), key=lambda i: len(options[i]))
        options[longest] = options[longest][:-1]
    if _count(options) == 1:
        return
    low = min(hunk.start for hunk in cluster) - _MAX_SLIDE - 1
    high = max(hunk.end for hunk in cluster) + _MAX_SLIDE + 1
    members = set(cluster)
    nearby = [h for h in hunks if h not in members and h.end >= low and h.start <= high]
    combinations = sorted(
        itertools.product(*options),
        key=lambda combo: sum(abs(h.start - o.start) for h, o in zip(combo, cluster, strict=True)),
    )
    for combo in combinations[1:]:
        placed = sorted([*combo, *nearby], key=_order)
        if _separate(placed, list(combo), base, strict):
            for old, new in zip(cluster, combo, strict=True):
                hunks[hunks.index(old)] = new
            hunks.sort(key=_order)
            return


def _count(options: list[list[Hunk]]) -> int:
    total = 1
    for choices in options:
        total *= len(choices)
    return total


def _separate(placed: list[Hunk], moved: list[Hunk], base: Sequence[str], strict: bool) -> bool:
    """Whether no moved hunk interacts with the other side, nor touches its own side."""
    for hunk in moved:
        for other in placed:
            if other is hunk:
                continue
            if other.side != hunk.side:
                if _interact(hunk, other, base, strict):
                    return False
            elif hunk.start <= other.end and other.start <= hunk.end:
                return False
    return True


def _reassembles(
    segments: list[Segment], base: Sequence[str], ours: Sequence[str], theirs: Sequence[str]
) -> bool:
    return (
        "".join(s.base for s in segments) == "".join(base)
        and "".join(s.ours for s in segments) == "".join(ours)
        and "".join(s.theirs for s in segments) == "".join(theirs)
    )
