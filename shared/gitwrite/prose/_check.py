"""An independent check that a finer merge keeps every change of both sides exactly once.

The finer merge (:mod:`gitwrite.prose._threeway`) builds its result from hunks; this module
looks only at the texts of the result's segments, so a slip in the bookkeeping there turns a
clean merge into a conflict here instead of losing or repeating a writer's words.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from gitwrite.prose.tokens import split_words

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitwrite.prose._threeway import Segment


def keeps_each_change_once(group: Sequence[Segment]) -> bool:
    """Whether merged segments keep each side's changes once and nothing else.

    Every segment must take the version of the side that changed it, or the one version
    both sides made. Over the whole group, the merged words must then be ours + theirs -
    base, where a change both sides made counts once.
    """
    expected: Counter[str] = Counter()
    for segment in group:
        merged = segment.merged
        if merged is None:
            return False
        if segment.theirs == segment.base:
            taken_right = merged == segment.ours
        elif segment.ours == segment.base:
            taken_right = merged == segment.theirs
        elif segment.ours == segment.theirs:
            taken_right = merged == segment.ours
            expected.update(split_words(segment.base))  # the change both made, counted once
            expected.subtract(split_words(segment.ours))
        else:  # both sides changed it differently: there is nothing right to take
            return False
        if not taken_right:
            return False
    expected.update(split_words("".join(s.ours for s in group)))
    expected.update(split_words("".join(s.theirs for s in group)))
    expected.subtract(split_words("".join(s.base for s in group)))
    merged_words = Counter(split_words("".join(s.merged or "" for s in group)))
    return {word: n for word, n in expected.items() if n} == dict(merged_words)
