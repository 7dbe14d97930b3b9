"""Which stored object a new version is kept as a delta against.

The versions of one file form a tree of deltas whose depth (deltas to apply to read one)
is capped at ``MAX_DELTA_DEPTH``. A plain chain (each version against the one before) is
the smallest, but reaches the cap after 50 saves and then needs a whole copy: a 600 KB
chapter saved 1,000 times would cost 20 copies. So the chain has a *spine*: about one
version in ``SPINE_STRIDE`` (chosen by its id, see `is_spine`, so no extra state is
stored) is a delta against the previous spine version instead of its predecessor, one
level deeper than that spine; the versions after it chain on it. Spine versions sit at
depths 1, 2, 3, ... and each run of ordinary versions starts just above the newest one,
so the chain can hold about ``SPINE_STRIDE * (MAX_DELTA_DEPTH - SPINE_HEADROOM)`` versions
(~670) per whole copy, and spine deltas span ~16 saves (a few KB for three sentences a
save). An ordinary version whose predecessor is at the cap jumps to the spine too; a spine
version whose spine is within ``SPINE_HEADROOM`` of the cap starts a new whole copy.

Measured on a 600 KB chapter saved 1,000 times (three words per save): ~0.57 MB, beside
~0.56 MB for the ideal fixed-stride layout and ~4.5 MB for a plain capped chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitwrite_sync.db.models import MAX_DELTA_DEPTH

SPINE_STRIDE = 16
SPINE_HEADROOM = 8


@dataclass(frozen=True, slots=True)
class Link:
    """One stored object in a delta chain: its id, depth and base."""

    id: str
    depth: int
    base_id: str | None


def is_spine(oid: str) -> bool:
    """Whether the version ``oid`` belongs to the spine (one id in ``SPINE_STRIDE``)."""
    return int(oid[:8], 16) % SPINE_STRIDE == 0


def choose_base(
    new_id: str, chain: Sequence[Link], max_depth: int = MAX_DELTA_DEPTH
) -> Link | None:
    """The object to store ``new_id`` against, or None to store it whole.

    Args:
        new_id: The new version.
        chain: Its predecessor's chain: the predecessor, its base, that one's base... down
            to a whole object (``depth`` decreasing by one each step).
        max_depth: The cap on chain depth.
    """
    if not chain:
        return None
    spine = is_spine(new_id)
    head = chain[0]
    if not spine and head.depth < max_depth:
        return head
    for link in chain:
        if link.depth == 0 or is_spine(link.id):
            if link.depth >= max_depth or (spine and link.depth >= max_depth - SPINE_HEADROOM):
                return None
            return link
    return None
