"""Three-way merge of token sequences: both sides' changes, each kept once, or a conflict.

Each side's changes against the base are found as hunks. Hunks of the two sides that
*interact* (see :func:`~gitwrite.prose._hunks.interact`) form a cluster. A cluster changed
by one side takes that side's version; a cluster both sides changed alike takes it once; any
other cluster is a conflict. Before a cluster is called a conflict, its hunks are rewritten
as equivalent edits (a change split so that the part the other side also made stands alone;
insertions and deletions slid along equal tokens) looking for a way to write them where
they stop interacting or become the same edit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite.prose._hunks import (
    BOTH,
    MAX_SLIDE,
    OURS,
    THEIRS,
    Hunk,
    collide,
    hunks_of,
    interact,
    order,
    pair_twins,
    pushed,
    slides,
    split_on,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

_MAX_COMBINATIONS = 256


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
    words: bool,
    deadline: float,
) -> list[Segment] | None:
    """Merge two edited versions of a token sequence.

    Args:
        base: The common ancestor's tokens.
        ours: Our version's tokens.
        theirs: Their version's tokens.
        words: Whether the tokens are words (else sentences and the spaces between them).
            Changes to words conflict as soon as they touch (see
            :func:`~gitwrite.prose._hunks.interact`), and are diffed with semantic cleanup.
        deadline: For the diffs (see :func:`~gitwrite.prose._engine.deadline_in`).

    Returns:
        Segments covering the three sequences in order, or None if they would not reassemble
        the three inputs exactly (which would be a bug, reported as a conflict by the caller).
    """
    strict = words
    found = [
        hunks_of(side, base, version, deadline, words=words)
        for side, version in ((OURS, ours), (THEIRS, theirs))
    ]
    best: list[Segment] | None = None
    for step in (-1, 1):  # write insertions and deletions leftmost, else rightmost
        hunks = pair_twins([h for side in found for h in pushed(side, base, step)])
        segments = _merged(hunks, base, strict)
        if segments is None or not _reassembles(segments, base, ours, theirs):
            continue
        if best is None or _conflicts(segments) < _conflicts(best):
            best = segments
        if not _conflicts(best):
            break
    return best


def _conflicts(segments: list[Segment]) -> int:
    return sum(segment.merged is None for segment in segments)


def _merged(hunks: list[Hunk], base: Sequence[str], strict: bool) -> list[Segment] | None:
    """The segments of a merge of these hunks, after rewriting those that interact."""
    for rewrite in (_split_shared_parts, _slide_apart):
        for cluster in _clusters(hunks, base, strict):
            current = set(hunks)  # a rewrite may have moved hunks of later clusters
            if all(hunk in current for hunk in cluster) and (
                _two_sided(cluster) and not _same_result(cluster, base)
            ):
                hunks = pair_twins(rewrite(hunks, cluster, base, strict))
    segments: list[Segment] = []
    position = 0
    shared = [[hunk] for hunk in hunks if hunk.side == BOTH]
    for cluster in sorted(_clusters(hunks, base, strict) + shared, key=lambda c: order(c[0])):
        start = min(hunk.start for hunk in cluster)
        end = max(hunk.end for hunk in cluster)
        if start < position:
            return None  # a shared change inside another cluster: cannot happen, by design
        if position < start:
            segments.append(_unchanged("".join(base[position:start])))
        segments.append(_segment(cluster, base, start, end))
        position = end
    if position < len(base):
        segments.append(_unchanged("".join(base[position:])))
    return segments


def _unchanged(text: str) -> Segment:
    return Segment(text, text, text, text)


def _clusters(hunks: list[Hunk], base: Sequence[str], strict: bool) -> list[list[Hunk]]:
    """The ``OURS`` and ``THEIRS`` hunks grouped into clusters of (transitively)
    interacting hunks, in order. ``BOTH`` hunks are left out: they interact with nothing."""
    sided = sorted((h for h in hunks if h.side != BOTH), key=order)
    parent = list(range(len(sided)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, hunk in enumerate(sided):
        for j in range(i + 1, len(sided)):
            other = sided[j]
            if other.start > hunk.end:
                break  # sorted by start: no later hunk can reach back to this one
            if other.side != hunk.side and interact(hunk, other, base, strict):
                parent[root(j)] = root(i)
    groups: dict[int, list[Hunk]] = {}
    for i, hunk in enumerate(sided):
        groups.setdefault(root(i), []).append(hunk)
    return sorted(groups.values(), key=lambda group: order(group[0]))


def _two_sided(cluster: list[Hunk]) -> bool:
    return {OURS, THEIRS} <= {hunk.side for hunk in cluster}


def _apply(cluster: list[Hunk], side: int, base: Sequence[str], start: int, end: int) -> str:
    """The text ``side`` has in place of ``base[start:end]``."""
    parts: list[str] = []
    position = start
    for hunk in cluster:
        if hunk.side in (side, BOTH):
            parts += base[position : hunk.start]
            parts += hunk.tokens
            position = hunk.end
    parts += base[position:end]
    return "".join(parts)


def _same_result(cluster: list[Hunk], base: Sequence[str]) -> bool:
    start = min(hunk.start for hunk in cluster)
    end = max(hunk.end for hunk in cluster)
    return _apply(cluster, OURS, base, start, end) == _apply(cluster, THEIRS, base, start, end)


def _segment(cluster: list[Hunk], base: Sequence[str], start: int, end: int) -> Segment:
    ours = _apply(cluster, OURS, base, start, end)
    theirs = _apply(cluster, THEIRS, base, start, end)
    sides = {hunk.side for hunk in cluster}
    merged: str | None = None
    if THEIRS not in sides or ours == theirs:
        merged = ours
    elif OURS not in sides:
        merged = theirs
    return Segment("".join(base[start:end]), ours, theirs, merged)


def _split_shared_parts(
    hunks: list[Hunk], cluster: list[Hunk], base: Sequence[str], strict: bool
) -> list[Hunk]:
    """Split each hunk of the cluster that includes a hunk of the other side (see
    :func:`~gitwrite.prose._hunks.split_on`) so that the shared part can pair up."""
    out = [hunk for hunk in hunks if hunk not in cluster]
    for hunk in cluster:
        for other in cluster:
            if other.side != hunk.side and (parts := split_on(hunk, other, base)) is not None:
                out += parts
                break
        else:
            out.append(hunk)
    return out


def _slide_apart(
    hunks: list[Hunk], cluster: list[Hunk], base: Sequence[str], strict: bool
) -> list[Hunk]:
    """The hunks with the cluster's insertions and deletions, and those of hunks right
    beside it, moved (within ``MAX_SLIDE`` tokens) to the nearest placement where no hunk of
    one side interacts with a different hunk of the other; unchanged if there is none."""
    low = min(hunk.start for hunk in cluster) - 2 * MAX_SLIDE - 1
    high = max(hunk.end for hunk in cluster) + 2 * MAX_SLIDE + 1
    nearby = [h for h in hunks if h not in cluster and h.end >= low and h.start <= high]
    beside = [h for h in nearby if any(h.start <= c.end and c.start <= h.end for c in cluster)]
    movable = [*cluster, *(h for h in beside if h.side != BOTH)]
    fixed = [h for h in nearby if h not in movable]
    options = [slides(hunk, base) for hunk in movable]
    while _count(options) > _MAX_COMBINATIONS:
        longest = max(range(len(options)), key=lambda i: len(options[i]))
        options[longest] = options[longest][:-1]
    if _count(options) == 1:
        return hunks
    combinations = sorted(
        itertools.product(*options),
        key=lambda combo: sum(abs(h.start - o.start) for h, o in zip(combo, movable, strict=True)),
    )
    for combo in combinations[1:]:
        if _separate(list(combo), fixed, base, strict):
            return [hunk for hunk in hunks if hunk not in movable] + list(combo)
    return hunks


def _count(options: list[list[Hunk]]) -> int:
    total = 1
    for choices in options:
        total *= len(choices)
    return total


def _separate(moved: list[Hunk], nearby: list[Hunk], base: Sequence[str], strict: bool) -> bool:
    """Whether the moved hunks interact with no different hunk of the other side, and
    neither overlap nor insert at the same place as the other hunks of their own side."""
    for hunk in moved:
        for other in itertools.chain(moved, nearby):
            if other is hunk:
                continue
            if {hunk.side, other.side} == {OURS, THEIRS}:
                if not hunk.same_edit(other) and interact(hunk, other, base, strict):
                    return False
            elif collide(hunk, other):
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
