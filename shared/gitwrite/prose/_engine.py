"""Diffing sequences of text units (paragraphs, sentences, words) with diff-match-patch.

diff-match-patch diffs strings of characters. To diff a sequence of units we give every
distinct unit a character of its own (the library's ``linesToChars`` trick, for any unit)
and diff the encoded strings; the result is mapped back to index ranges of the units.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diff_match_patch import diff_match_patch

from gitwrite.prose.tokens import PARAGRAPH_BREAK

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_FIRST_CODE = 0x100  # keep clear of ASCII, whose whitespace the library's cleanups look at
_SURROGATES = range(0xD800, 0xE000)
_LAST_CODE = 0x10FFFF
_SEARCH_WINDOW = 4096
_PATIENCE_FROM = 64  # units in a diff, both sides together


def deadline_in(seconds: float) -> float:
    """A deadline for :func:`diff_units`, as the ``time.time()`` value diff-match-patch uses.

    Past the deadline diff-match-patch stops looking for the smallest diff and reports the
    rest of the problem as one replacement: diffs get coarser, never wrong.
    """
    return time.time() + seconds


def past(deadline: float) -> bool:
    """Whether the deadline has passed (finer diffs are then not worth starting)."""
    return time.time() > deadline


@dataclass(frozen=True, slots=True)
class Op:
    """One step of a diff: ``a[a_start:a_end]`` became ``b[b_start:b_end]``.

    ``equal`` steps have ranges of the same length holding equal units; other steps are
    changes (an insertion or a deletion has one empty range).
    """

    equal: bool
    a_start: int
    a_end: int
    b_start: int
    b_end: int


class _TooManyUnits(Exception):
    """More distinct units than there are characters to encode them."""


class _Encoder:
    """Gives each distinct unit a character, the same one each time it is seen."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    def encode(self, units: Sequence[str]) -> str:
        codes = self._codes
        chars = []
        for unit in units:
            char = codes.get(unit)
            if char is None:
                code = _FIRST_CODE + len(codes)
                if code >= _SURROGATES.start:
                    code += len(_SURROGATES)
                if code > _LAST_CODE:
                    raise _TooManyUnits
                char = codes[unit] = chr(code)
            chars.append(char)
        return "".join(chars)


def diff_units(
    a: Sequence[str],
    b: Sequence[str],
    deadline: float,
    *,
    semantic: bool = False,
    patience: bool = True,
) -> list[Op]:
    """Diff two sequences of text units.

    Args:
        a: The old units.
        b: The new units.
        deadline: From :func:`deadline_in`; a diff still unfinished by then is coarser.
        semantic: Run diff-match-patch's semantic cleanup, which folds short unchanged
            stretches between changes into the changes, so the steps read as edits a
            person made rather than the smallest possible edit.
        patience: For long sequences (not with ``semantic``), first match the units found
            once on each side, in order (patience diff), then diff the gaps between them
            with diff-match-patch: with many scattered edits (versions far apart), far
            faster than diffing all at once, and it matches whole paragraphs rather than
            blank lines.

    Returns:
        Steps covering both sequences in order; no two neighbouring steps are both changes.
    """
    # Set the common ends aside first: comparing equal strings is a memcmp, encoding them
    # means hashing every one.
    size = min(len(a), len(b))
    head = 0
    while head < size and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < size - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    anchors = _unique_anchors(middle_a, middle_b) if patience and not semantic else []
    if anchors:
        middle = _stitch(
            anchors, middle_a, middle_b, lambda x, y: diff_units(x, y, deadline, patience=False)
        )
    else:
        middle = _diff_middle(middle_a, middle_b, deadline, semantic)
    ops = [Op(True, 0, head, 0, head)]
    ops += (_shifted(op, head, head) for op in middle)
    ops.append(Op(True, len(a) - tail, len(a), len(b) - tail, len(b)))
    return _joined(ops)


def _unique_anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Patience diff's anchors: units found exactly once in each sequence, the longest run of
    them in the same order in both. Empty for short sequences, which Myers's diff suits."""
    if len(a) + len(b) < _PATIENCE_FROM:
        return []
    in_a, in_b = Counter(a), Counter(b)
    where_b = {unit: j for j, unit in enumerate(b) if in_b[unit] == 1}
    pairs = [(i, where_b[unit]) for i, unit in enumerate(a) if in_a[unit] == 1 and unit in where_b]
    # the longest increasing run of b positions (patience sorting)
    tops: list[int] = []  # b position ending the best run of each length
    ends: list[int] = []  # index in pairs of that run's last pair
    before: list[int] = []  # index in pairs of the pair before each pair in its run
    for k, (_, j) in enumerate(pairs):
        length = bisect.bisect_left(tops, j)
        if length == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[length], ends[length] = j, k
        before.append(ends[length - 1] if length else -1)
    run: list[tuple[int, int]] = []
    k = ends[-1] if ends else -1
    while k >= 0:
        run.append(pairs[k])
        k = before[k]
    return run[::-1]


def _stitch(
    matched: list[tuple[int, int]],
    a: Sequence[str],
    b: Sequence[str],
    gap: Callable[[Sequence[str], Sequence[str]], list[Op]],
) -> list[Op]:
    """Steps for ``a`` and ``b`` given pairs of equal units (in order in both), with ``gap``
    diffing the units between two pairs."""
    ops: list[Op] = []
    i0 = j0 = 0
    for i, j in [*matched, (len(a), len(b))]:
        if i > i0 or j > j0:
            ops += (_shifted(op, i0, j0) for op in gap(a[i0:i], b[j0:j]))
        if i < len(a):
            ops.append(Op(True, i, i + 1, j, j + 1))
        i0, j0 = i + 1, j + 1
    return _joined(ops)


def _shifted(op: Op, di: int, dj: int) -> Op:
    return Op(op.equal, op.a_start + di, op.a_end + di, op.b_start + dj, op.b_end + dj)


def diff_anchored(
    a: Sequence[str],
    b: Sequence[str],
    deadline: float,
    anchors: Sequence[Callable[[str], bool]],
    *,
    semantic: bool = False,
) -> list[Op]:
    """Diff two sequences of units matching only the units of the first anchor kind (say,
    sentences and not the spaces between them), then diffing what lies between each two
    matched anchors the same way with the remaining anchor kinds, then plainly.

    A plain diff may just as well match a space as a sentence; this one never gives up a
    sentence to keep a space, and a changed space never makes the word beside it change.
    ``semantic`` applies the semantic cleanup (see :func:`diff_units`) at every stage.
    """
    if not anchors:
        return diff_units(a, b, deadline, semantic=semantic)
    anchor, rest = anchors[0], anchors[1:]
    a_anchors = [i for i, unit in enumerate(a) if anchor(unit)]
    b_anchors = [j for j, unit in enumerate(b) if anchor(unit)]
    matched = [
        (a_anchors[op.a_start + k], b_anchors[op.b_start + k])
        for op in diff_units(
            [a[i] for i in a_anchors], [b[j] for j in b_anchors], deadline, semantic=semantic
        )
        if op.equal
        for k in range(op.a_end - op.a_start)
    ]
    return _stitch(
        matched, a, b, lambda x, y: diff_anchored(x, y, deadline, rest, semantic=semantic)
    )


def _joined(ops: list[Op]) -> list[Op]:
    """The steps without empty ones, neighbouring steps of the same kind made one."""
    out: list[Op] = []
    for op in ops:
        if op.a_start == op.a_end and op.b_start == op.b_end:
            continue
        if out and out[-1].equal == op.equal:
            last = out.pop()
            op = Op(op.equal, last.a_start, op.a_end, last.b_start, op.b_end)
        out.append(op)
    return out


def _diff_middle(a: Sequence[str], b: Sequence[str], deadline: float, semantic: bool) -> list[Op]:
    """Diff units with no common first or last unit with diff-match-patch."""
    if not a and not b:
        return []
    try:
        encoder = _Encoder()
        text_a, text_b = encoder.encode(a), encoder.encode(b)
    except _TooManyUnits:
        return [Op(False, 0, len(a), 0, len(b))]
    if set(text_a).isdisjoint(text_b):  # nothing to match: spare the search its worst case
        return [Op(False, 0, len(a), 0, len(b))]
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0  # any positive value: enables the half-match speed-up
    diffs = dmp.diff_main(text_a, text_b, False, deadline)
    if semantic:
        dmp.diff_cleanupSemantic(diffs)
    ops: list[Op] = []
    i = j = 0
    for kind, chunk in diffs:
        size = len(chunk)
        equal = kind == dmp.DIFF_EQUAL
        start_i, start_j = i, j
        if ops and ops[-1].equal == equal:  # extend the previous step of the same kind
            start_i, start_j = ops[-1].a_start, ops[-1].b_start
            ops.pop()
        if kind != dmp.DIFF_INSERT:
            i += size
        if kind != dmp.DIFF_DELETE:
            j += size
        ops.append(Op(equal, start_i, i, start_j, j))
    return ops


def common_ends(texts: Sequence[str]) -> tuple[int, int]:
    """How much all the texts share at their start and at their end, cut at paragraph breaks.

    Returns:
        ``(head, tail)``: every text starts with ``texts[0][:head]`` and ends with the last
        ``tail`` characters of ``texts[0]``, the two do not overlap in any text, and each cut
        lies just after a paragraph break (or at the very start or end).
    """
    first = texts[0]
    dmp = diff_match_patch()
    prefix = min(dmp.diff_commonPrefix(first, other) for other in texts[1:])
    head = _last_break_end(first, prefix)
    suffix = min(dmp.diff_commonSuffix(first, other) for other in texts[1:])
    suffix = min(suffix, *(len(text) - head for text in texts))
    found = PARAGRAPH_BREAK.search(first, len(first) - suffix)
    return head, len(first) - found.end() if found else 0


def _last_break_end(text: str, limit: int) -> int:
    """The end of the last paragraph break within ``text[:limit]``, or 0."""
    window = _SEARCH_WINDOW
    while True:
        start = max(0, limit - window)
        end = 0
        for match in PARAGRAPH_BREAK.finditer(text, start, limit):
            end = match.end()
        if end or start == 0:
            return end
        window *= 8
