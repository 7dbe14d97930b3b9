"""Word-level comparison: runs for display, and word statistics."""

from __future__ import annotations

import itertools
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitwrite.prose import (
    Run,
    RunKind,
    WordStats,
    _engine,
    compare_text,
    count_words,
    diff,
    split_paragraphs,
    split_sentences,
    stats_of,
    word_stats,
)
from tests.corpus import chapters, novel

SAME, ADDED, REMOVED = RunKind.SAME, RunKind.ADDED, RunKind.REMOVED
FAST = settings(max_examples=250, deadline=None)

PIECES = st.sampled_from(
    [
        *("The", " ", "character", "walked", "home", ".", ",", "!", "?", "  ", "a"),
        *("\n", "\n\n", "\r\n", "\r\n\r\n"),
        *("’", "“", "”", "—", "Pávlovna", "e\u0301", "don’t", "well-known"),
    ]
)
texts = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=40))


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A text and a version of it with a few stretches replaced, as a writer edits."""
    old = draw(st.lists(PIECES, max_size=60).map("".join))
    new = old
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(new)))
        end = draw(st.integers(start, min(len(new), start + 12)))
        new = new[:start] + draw(texts) + new[end:]
    return old, new


def old_of(runs: list[Run]) -> str:
    return "".join(run.text for run in runs if run.kind is not ADDED)


def new_of(runs: list[Run]) -> str:
    return "".join(run.text for run in runs if run.kind is not REMOVED)


def chapter(number: int) -> str:
    return chapters("pride_and_prejudice")[number - 1][1]


def assert_well_formed(runs: list[Run], old: str, new: str) -> None:
    assert old_of(runs) == old
    assert new_of(runs) == new
    assert all(run.text for run in runs)
    assert all(a.kind is not b.kind for a, b in itertools.pairwise(runs))


# --- examples from the corpus -------------------------------------------------------------


def test_one_word_replaced_in_a_real_sentence() -> None:
    old = chapter(1)
    new = old.replace("that a single man in possession", "that a wealthy man in possession")
    runs = compare_text(old, new)
    assert [run.kind for run in runs] == [SAME, REMOVED, ADDED, SAME]
    assert runs[0].text.endswith("It is a truth universally acknowledged, that a ")
    assert (runs[1].text, runs[2].text) == ("single", "wealthy")
    assert runs[3].text.startswith(" man in possession\nof a good fortune")
    assert_well_formed(runs, old, new)
    assert word_stats(old, new) == WordStats(added=1, removed=1)


def test_neighbouring_changed_words_read_as_one_change() -> None:
    old = "The character walked slowly home.\n"
    new = "The protagonist ran slowly home.\n"
    assert compare_text(old, new) == [
        Run(SAME, "The "),
        Run(REMOVED, "character walked"),
        Run(ADDED, "protagonist ran"),
        Run(SAME, " slowly home.\n"),
    ]


def test_a_paragraph_inserted_and_one_deleted_in_a_chapter() -> None:
    paragraphs = split_paragraphs(chapter(2))
    inserted = "A new paragraph, written today.\n\n"
    new = "".join([*paragraphs[:3], inserted, *paragraphs[3:7], *paragraphs[8:]])
    runs = compare_text(chapter(2), new)
    assert [run.kind for run in runs] == [SAME, ADDED, SAME, REMOVED, SAME]
    assert runs[1].text == inserted
    assert runs[3].text == paragraphs[7]
    assert word_stats(chapter(2), new) == WordStats(added=5, removed=len(paragraphs[7].split()))


def test_a_re_wrapped_paragraph_shows_only_its_line_breaks_and_the_real_edit() -> None:
    paragraphs = split_paragraphs(chapter(4))
    index = next(i for i, p in enumerate(paragraphs) if p.startswith('"Did not you?'))
    paragraph = paragraphs[index]
    edited = paragraph.replace("great difference", "very great difference")
    rewrapped = textwrap.fill(" ".join(edited.split()), width=60) + "\n\n"
    new = "".join([*paragraphs[:index], rewrapped, *paragraphs[index + 1 :]])
    runs = compare_text(chapter(4), new)
    assert_well_formed(runs, chapter(4), new)
    assert word_stats(chapter(4), new) == WordStats(added=1, removed=0)
    changed = [run.text for run in runs if run.kind is not SAME]
    assert "very" in " ".join(changed)
    assert all(text.isspace() or text.strip() == "very" for text in changed)


def test_punctuation_is_not_counted_as_words() -> None:
    stats = word_stats("Yes.\n", "Yes! Well, no—never.\n")
    assert stats == WordStats(added=3, removed=0)
    assert stats.net == 3
    assert word_stats("It is well-known. I don’t know.\n", "It is known.\n").net == -3


def test_stats_of_counts_only_added_and_removed_runs() -> None:
    runs = [Run(SAME, "two words"), Run(REMOVED, "one"), Run(ADDED, "three new words!")]
    assert stats_of(runs) == WordStats(added=3, removed=1)


def test_war_and_peace_with_one_paragraph_rewritten() -> None:
    war = novel("war_and_peace")
    paragraphs = split_paragraphs(war)
    index = next(
        i
        for i in range(len(paragraphs) // 2, len(paragraphs))
        if "’" in paragraphs[i] and len(split_sentences(paragraphs[i])) >= 3
    )
    sentences = split_sentences(paragraphs[index])
    rewritten = "".join([sentences[1], "A sentence of mine. ", sentences[0], *sentences[2:]])
    new = "".join([*paragraphs[:index], rewritten, *paragraphs[index + 1 :]])
    runs = compare_text(war, new)
    assert_well_formed(runs, war, new)
    # the unchanged text before and after the paragraph is left whole
    assert runs[0].kind is SAME
    assert runs[0].text.startswith("".join(paragraphs[:index]))
    assert runs[-1].text.endswith("".join(paragraphs[index + 1 :]))
    changed = [run for run in runs if run.kind is not SAME]
    assert sum(len(run.text) for run in changed) < 2 * len(paragraphs[index])
    assert word_stats(war, new) == stats_of(runs)
    assert word_stats(war, new).net == 4


def test_crlf_text_keeps_its_line_endings() -> None:
    old = chapter(3).replace("\n", "\r\n")
    new = old.replace("Mr. Bingley", "Mr. Charles Bingley", 1)
    runs = compare_text(old, new)
    assert_well_formed(runs, old, new)
    changed = [run for run in runs if run.kind is not SAME]
    assert len(changed) == 1
    assert changed[0].kind is ADDED
    assert changed[0].text.strip() == "Charles"
    assert word_stats(old, new) == WordStats(added=1, removed=0)


@pytest.mark.parametrize(
    ("old", "new", "runs"),
    [
        ("", "", []),
        ("same", "same", [Run(SAME, "same")]),
        ("", "New text", [Run(ADDED, "New text")]),
        ("Old text\n", "", [Run(REMOVED, "Old text\n")]),
        ("No newline", "No newline at all", [Run(SAME, "No newline"), Run(ADDED, " at all")]),
        ("Line.\n", "Line.", [Run(SAME, "Line."), Run(REMOVED, "\n")]),
    ],
)
def test_edge_texts(old: str, new: str, runs: list[Run]) -> None:
    assert compare_text(old, new) == runs
    assert word_stats(old, new) == stats_of(runs)


# --- properties ---------------------------------------------------------------------------


@FAST
@given(texts, texts)
def test_runs_rebuild_both_texts_of_any_pair(old: str, new: str) -> None:
    assert_well_formed(compare_text(old, new), old, new)


@FAST
@given(edited_pairs())
def test_runs_rebuild_both_texts_of_an_edit(pair: tuple[str, str]) -> None:
    old, new = pair
    runs = compare_text(old, new)
    assert_well_formed(runs, old, new)
    assert word_stats(old, new) == stats_of(runs)


@FAST
@given(edited_pairs())
def test_net_words_are_the_difference_of_the_word_counts(pair: tuple[str, str]) -> None:
    old, new = pair
    assert word_stats(old, new).net == count_words(new) - count_words(old)


@settings(max_examples=60, deadline=None)
@given(edited_pairs())
def test_a_diff_cut_short_by_the_timeout_is_coarser_but_still_exact(
    pair: tuple[str, str],
) -> None:
    old, new = pair
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff, "COMPARE_TIMEOUT", 0.0)
        patch.setattr(diff, "STATS_TIMEOUT", 0.0)
        runs = compare_text(old, new)
        assert_well_formed(runs, old, new)
        assert word_stats(old, new) == stats_of(runs)


def test_a_timed_out_diff_of_a_real_chapter_is_exact() -> None:
    old = "".join(split_paragraphs(chapter(5))[:8])
    new = "".join(reversed(split_sentences(old)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff, "COMPARE_TIMEOUT", 0.0)
        coarse = compare_text(old, new)
    assert_well_formed(coarse, old, new)
    fine = compare_text(old, new)
    assert_well_formed(fine, old, new)
    assert stats_of(fine).added < stats_of(coarse).added  # the timeout did cut it short


def test_units_beyond_the_encodable_characters_fall_back_to_one_replacement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_engine, "_LAST_CODE", _engine._FIRST_CODE + 3)
    ops = _engine.diff_units(list("xabcdey"), list("xedcbay"), _engine.deadline_in(1))
    assert [(op.equal, op.a_start, op.a_end, op.b_start, op.b_end) for op in ops] == [
        (True, 0, 1, 0, 1),
        (False, 1, 6, 1, 6),
        (True, 6, 7, 6, 7),
    ]
    old, new = "one two three four five\n", "five four three two one\n"
    assert_well_formed(compare_text(old, new), old, new)


def test_unit_codes_skip_the_surrogate_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine, "_FIRST_CODE", 0xD7FE)
    codes = [ord(c) for c in _engine._Encoder().encode(["a", "b", "c", "d", "a"])]
    assert codes == [0xD7FE, 0xD7FF, 0xE000, 0xE001, 0xD7FE]
    ops = _engine.diff_units(["a", "b", "c"], ["a", "x", "c"], _engine.deadline_in(1))
    assert [op.equal for op in ops] == [True, False, True]


unit_lists = st.lists(st.sampled_from([f"p{n}" for n in range(40)] + ["", "\n\n"]), max_size=160)


@FAST
@given(unit_lists, unit_lists, st.booleans())
def test_unit_diffs_cover_both_sequences_in_order(
    a: list[str], b: list[str], patience: bool
) -> None:
    ops = _engine.diff_units(a, b, _engine.deadline_in(5), patience=patience)
    if not ops:
        assert a == b == []
        return
    assert (ops[0].a_start, ops[0].b_start) == (0, 0)
    assert (ops[-1].a_end, ops[-1].b_end) == (len(a), len(b))
    for op, after in itertools.pairwise(ops):
        assert (op.a_end, op.b_end) == (after.a_start, after.b_start)
        assert op.equal != after.equal  # neighbouring steps differ in kind
    for op in ops:
        if op.equal:
            assert a[op.a_start : op.a_end] == b[op.b_start : op.b_end]
        else:
            assert op.a_end > op.a_start or op.b_end > op.b_start
