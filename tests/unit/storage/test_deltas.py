"""The storage layout's choice of delta bases: bounded depth, small deltas, few copies."""

from __future__ import annotations

import hashlib

from gitwrite_sync.storage.deltas import (
    SPINE_HEADROOM,
    SPINE_STRIDE,
    Link,
    choose_base,
    is_spine,
)

MAX = 50


def ids(count: int) -> list[str]:
    return [hashlib.sha1(b"version %d" % i).hexdigest() for i in range(count)]


def simulate(count: int) -> tuple[list[Link], list[int]]:
    """Store ``count`` versions of one file in order; the links and each delta's span."""
    links: list[Link] = []
    position: dict[str, int] = {}
    spans: list[int] = []
    for i, oid in enumerate(ids(count)):
        chain: list[Link] = []
        current = links[-1].id if links else None
        by_id = {link.id: link for link in links}
        while current is not None:
            chain.append(by_id[current])
            current = by_id[current].base_id
        base = choose_base(oid, chain, MAX)
        if base is None:
            links.append(Link(oid, 0, None))
        else:
            links.append(Link(oid, base.depth + 1, base.id))
            spans.append(i - position[base.id])
        position[oid] = i
    return links, spans


def test_one_version_in_a_stride_is_on_the_spine() -> None:
    spines = sum(is_spine(oid) for oid in ids(16_000))
    assert abs(spines - 16_000 / SPINE_STRIDE) < 16_000 / SPINE_STRIDE * 0.15


def test_an_ordinary_version_goes_against_its_predecessor() -> None:
    oid = next(o for o in ids(100) if not is_spine(o))
    chain = [Link("a" * 40, 7, "b" * 40), Link("b" * 40, 6, None)]
    assert choose_base(oid, chain, MAX) == chain[0]


def test_a_spine_version_goes_against_the_nearest_spine_or_whole_version() -> None:
    oid = next(o for o in ids(100) if is_spine(o))
    spine = next(o for o in ids(200)[100:] if is_spine(o))
    chain = [Link("a" * 40, 9, "b" * 40), Link("b" * 40, 8, spine), Link(spine, 7, None)]
    assert choose_base(oid, chain, MAX) == chain[2]


def test_nothing_to_go_against_means_whole() -> None:
    assert choose_base(ids(1)[0], [], MAX) is None


def test_depth_never_exceeds_the_cap_and_copies_are_rare() -> None:
    links, spans = simulate(3000)
    assert max(link.depth for link in links) <= MAX
    wholes = sum(link.base_id is None for link in links)
    # About one whole copy per SPINE_STRIDE * (MAX - SPINE_HEADROOM) versions (~670).
    assert wholes <= 3000 // (SPINE_STRIDE * (MAX - SPINE_HEADROOM) // 2) + 1
    # Deltas span a few saves: most one, spine deltas about a stride.
    assert sorted(spans)[len(spans) // 2] == 1
    assert max(spans) < 8 * SPINE_STRIDE
