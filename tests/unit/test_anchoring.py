"""Ranges and finding a quote again after edits (pure text: no repository)."""

from __future__ import annotations

import msgspec
import pytest

from gitwrite.anchoring import Range, locate, map_offset, occurrences, text_range
from tests.corpus import chapters, paragraphs


def test_text_range_counts_lines_from_one_and_ends_on_the_last_character() -> None:
    text = "one\ntwo\nthree\n"
    assert text_range(text, 0, 3) == Range(start=0, end=3, start_line=1, end_line=1)
    assert text_range(text, 4, 8) == Range(start=4, end=8, start_line=2, end_line=2)
    assert text_range(text, 2, 10) == Range(start=2, end=10, start_line=1, end_line=3)


def test_offsets_are_code_points_not_bytes() -> None:
    text = "Élise — naïve\nsecond"
    start = text.index("naïve")
    assert text_range(text, start, start + 5).start == 8
    assert locate("second", text, 0) == 14


@pytest.mark.parametrize(
    "fields",
    [
        {"start": 3, "end": 3, "start_line": 1, "end_line": 1},
        {"start": 4, "end": 3, "start_line": 1, "end_line": 1},
        {"start": -1, "end": 3, "start_line": 1, "end_line": 1},
        {"start": 0, "end": 3, "start_line": 0, "end_line": 1},
        {"start": 0, "end": 3, "start_line": 2, "end_line": 1},
    ],
)
def test_a_range_is_never_empty_or_backwards(fields: dict[str, int]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(fields), type=Range)


def test_occurrences_include_overlapping_ones() -> None:
    assert occurrences("aaaa", "aa") == [0, 1, 2]
    assert occurrences("abc", "x") == []


def test_map_offset_follows_insertions_and_deletions() -> None:
    old = "The cat sat on the mat."
    assert map_offset(old, "Today, the cat sat on the mat.", old.index("mat")) == 26
    assert map_offset(old, "The cat on the mat.", old.index("mat")) == 15
    assert map_offset(old, old, 7) == 7


def test_locate_prefers_the_occurrence_the_edits_carried_the_quote_to() -> None:
    text = "\n\n".join(paragraphs(dict(chapters())["chapter-01.md"])[:12])
    quote = "Mr. Bennet"
    third = occurrences(text, quote)[2]
    added = "A long new opening paragraph, written much later. " * 8
    new = added + text
    assert locate(quote, new, third, text) == third + len(added)
    # Without the old text only the old offset is known: the nearest occurrence wins.
    assert locate(quote, new, third) != third + len(added)


def test_locate_returns_none_when_the_quote_is_gone() -> None:
    assert (
        locate("universally", "It is a truth widely held.", 14, "It is a truth universally") is None
    )
    assert locate("", "anything", 0) is None
