"""Parsing a received pack: entries as they are, every limit checked before the work."""

from __future__ import annotations

import zlib
from dataclasses import replace

import pytest
from dulwich.objects import Blob, Tree
from dulwich.pack import OFS_DELTA, REF_DELTA

from gitwrite_sync.errors import InvalidPack, TooLarge
from gitwrite_sync.storage.packparse import PackLimits, delta_sizes, parse_pack
from tests.packbytes import Entry, delta, make_pack, resign, whole_pack

LIMITS = PackLimits(
    max_pack_bytes=1 << 20,
    max_objects=100,
    max_object_bytes=64 * 1024,
    max_inflated_bytes=256 * 1024,
    max_resolved_bytes=1 << 20,
)


def test_whole_objects_come_back_as_entries_with_their_zlib_bodies() -> None:
    blob = Blob.from_string(b"It is a truth universally acknowledged.\n")
    tree = Tree()
    tree.add(b"chapter.md", 0o100644, blob.id)
    pack = whole_pack([blob, tree])
    entries = parse_pack(pack, LIMITS)
    assert [(e.pack_type, e.data) for e in entries] == [
        (3, blob.as_raw_string()),
        (2, tree.as_raw_string()),
    ]
    start, end = entries[0].body
    assert zlib.decompress(pack[start:end]) == blob.as_raw_string()
    assert entries[1].offset == end


def test_deltas_by_offset_and_by_id() -> None:
    base, target = b"one two three four\n" * 20, b"one two THREE four\n" * 20
    pack = make_pack(
        [Entry(3, base), Entry(3, delta(base, target), base=0), Entry(3, b"x", base="ab" * 20)]
    )
    first, second, third = parse_pack(pack, LIMITS)
    assert (second.pack_type, second.base_offset) == (OFS_DELTA, first.offset)
    assert (third.pack_type, third.base_id) == (REF_DELTA, "ab" * 20)
    assert delta_sizes(second.data) == (len(base), len(target))


def test_an_empty_pack_is_fine() -> None:
    assert parse_pack(make_pack([]), LIMITS) == []


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("not a pack", b"hello world, this is not a pack at all!!"),
        ("too short", b"PACK\x00\x00\x00\x02"),
        ("version 4", b"PACK\x00\x00\x00\x04\x00\x00\x00\x00" + b"\x00" * 20),
    ],
)
def test_what_is_not_a_pack_is_refused(name: str, pack: bytes) -> None:
    with pytest.raises(InvalidPack):
        parse_pack(pack, LIMITS)


def test_a_wrong_checksum_is_refused_before_inflating() -> None:
    pack = bytearray(whole_pack([Blob.from_string(b"words\n" * 50)]))
    pack[-1] ^= 1
    with pytest.raises(InvalidPack, match="checksum"):
        parse_pack(bytes(pack), LIMITS)


def test_corrupt_data_with_a_valid_checksum_is_refused() -> None:
    pack = bytearray(whole_pack([Blob.from_string(b"words\n" * 50)]))
    pack[20] ^= 0xFF  # inside the zlib stream
    with pytest.raises(InvalidPack):
        parse_pack(resign(pack), LIMITS)


def test_a_count_larger_than_the_objects_is_refused() -> None:
    with pytest.raises(InvalidPack):
        parse_pack(make_pack([Entry(3, b"a")], count=2), LIMITS)


def test_data_after_the_last_object_is_refused() -> None:
    pack = make_pack([Entry(3, b"a")], count=1)
    with pytest.raises(InvalidPack, match="after its last object"):
        parse_pack(resign(pack[:-20] + b"junk" + pack[-20:]), LIMITS)


def test_an_offset_delta_must_point_at_an_object() -> None:
    pack = bytearray(make_pack([Entry(3, b"abc" * 10), Entry(3, b"\x1e\x1e\x90\x1e", base=0)]))
    second = parse_pack(bytes(pack), LIMITS)[1].offset
    pack[second + 1] += 1  # the distance back, one byte further: not where an object starts
    with pytest.raises(InvalidPack):
        parse_pack(resign(pack), LIMITS)


def test_too_many_objects_is_refused_from_the_header() -> None:
    limits = replace(LIMITS, max_objects=2)
    with pytest.raises(TooLarge, match="3 objects"):
        parse_pack(make_pack([Entry(3, b"a"), Entry(3, b"b"), Entry(3, b"c")]), limits)


def test_a_pack_over_the_size_limit_is_refused_at_once() -> None:
    with pytest.raises(TooLarge):
        parse_pack(b"PACK" + b"\x00" * (LIMITS.max_pack_bytes + 1), LIMITS)


def test_an_object_over_the_limit_is_refused_before_it_is_inflated() -> None:
    # 2 MB of zeros compress to ~2 KB: the declared size stops it, not the pack size.
    bomb = make_pack([Entry(3, b"\x00" * (2 << 20), level=9)])
    assert len(bomb) < LIMITS.max_pack_bytes
    with pytest.raises(TooLarge, match="over the limit"):
        parse_pack(bomb, LIMITS)


def test_all_objects_inflated_are_bounded_too() -> None:
    entries = [Entry(3, bytes([i]) * 60_000, level=9) for i in range(6)]
    with pytest.raises(TooLarge, match="inflates"):
        parse_pack(make_pack(entries), LIMITS)


def test_a_stream_longer_than_its_header_is_refused() -> None:
    pack = make_pack([Entry(3, b"abcdef")])
    # Lower the declared size (low nibble of the first header byte) from 6 to 3.
    body = bytearray(pack)
    body[12] = (body[12] & 0xF0) | 3
    with pytest.raises(InvalidPack, match="larger than its header"):
        parse_pack(resign(body), LIMITS)
