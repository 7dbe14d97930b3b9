"""Splitting prose into paragraphs, sentences and words, and counting words."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitwrite.prose import count_words, split_paragraphs, split_sentences, split_words
from gitwrite.prose.tokens import is_word
from tests.corpus import chapters, novel

# Text made of the characters prose is made of, line endings of both kinds included.
PROSE_ALPHABET = st.sampled_from(
    [
        *"abcdeXYZ    ..,;!?'\"-\n\n\n\r\t",
        *("\r\n", "’", "“", "”", "—", "é", "e\u0301", "ß", "1", "_", "…", "\u00a0"),
    ]
)
prose_text = st.lists(PROSE_ALPHABET, max_size=80).map("".join)
any_text = st.one_of(prose_text, st.text(max_size=60))
FAST = settings(max_examples=300, deadline=None)


def chapter_one() -> str:
    return chapters("pride_and_prejudice")[0][1]


# --- paragraphs ---------------------------------------------------------------------------


def test_paragraphs_keep_their_blank_line_separator() -> None:
    text = "First line\nof one paragraph.\n\nSecond.\n\n\nThird.\n"
    assert split_paragraphs(text) == [
        "First line\nof one paragraph.\n\n",
        "Second.\n\n\n",
        "Third.\n",
    ]


def test_paragraphs_of_a_chapter_of_pride_and_prejudice() -> None:
    text = chapter_one()
    paragraphs = split_paragraphs(text)
    assert "".join(paragraphs) == text
    assert paragraphs[0] == "# Chapter 1\n\n\n"
    assert paragraphs[1].startswith("It is a truth universally acknowledged, that a single man")
    assert paragraphs[1].endswith("must be in want of a wife.\n\n")
    # every paragraph but the last ends with a blank line; none contains one inside
    assert all(p.endswith("\n\n") for p in paragraphs[:-1])
    assert all("\n\n" not in p.rstrip("\n") for p in paragraphs)


def test_paragraphs_with_crlf_whitespace_only_lines_and_no_final_newline() -> None:
    text = "One\r\nline.\r\n\r\nTwo.\n  \t\nThree"
    assert split_paragraphs(text) == ["One\r\nline.\r\n\r\n", "Two.\n  \t\n", "Three"]


def test_paragraphs_of_edge_texts() -> None:
    assert split_paragraphs("") == []
    assert split_paragraphs("\n\n") == ["\n\n"]
    assert split_paragraphs("\n\nText\n") == ["\n\n", "Text\n"]
    assert split_paragraphs("A single line") == ["A single line"]


# --- sentences ----------------------------------------------------------------------------


def test_sentences_of_a_real_paragraph_keep_their_spaces_and_line_breaks() -> None:
    paragraph = next(
        p for p in split_paragraphs(chapter_one()) if p.startswith('"Mr. Bennet, how can you')
    )
    assert split_sentences(paragraph) == [
        '"Mr. Bennet, how can you abuse your own children in such a way? ',
        "You\ntake delight in vexing me. ",
        'You have no compassion for my poor nerves."\n\n',
    ]


def test_titles_initials_and_lower_case_continuations_do_not_end_sentences() -> None:
    assert split_sentences("Mr. Bingley met Mrs. Long and J. K. Smith. They talked.") == [
        "Mr. Bingley met Mrs. Long and J. K. Smith. ",
        "They talked.",
    ]
    assert split_sentences('"Heavens! what an attack!" replied the prince. He sat.') == [
        '"Heavens! what an attack!" replied the prince. ',
        "He sat.",
    ]


def test_sentences_end_at_curly_closing_quotes_and_ellipses() -> None:
    text = "“Is he married?” she asked. “Oh, single, my dear!” Then… Silence."
    assert split_sentences(text) == [
        "“Is he married?” she asked. ",
        "“Oh, single, my dear!” ",
        "Then… ",
        "Silence.",
    ]


def test_sentences_of_edge_texts() -> None:
    assert split_sentences("") == []
    assert split_sentences("No full stop at all") == ["No full stop at all"]
    assert split_sentences("Ends.\r\n\r\n") == ["Ends.\r\n\r\n"]
    assert split_sentences("One. Two.\r\nThree.") == ["One. ", "Two.\r\n", "Three."]


# --- words --------------------------------------------------------------------------------


def test_words_spaces_and_punctuation_are_separate_tokens() -> None:
    assert split_words("Well-known, don’t you—think?  Yes.\n") == [
        "Well-known",
        ",",
        " ",
        "don’t",
        " ",
        "you",
        "—",
        "think",
        "?",
        "  ",
        "Yes",
        ".",
        "\n",
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("   \n\n ", 0),
        ("— , . ! ? “ ” … -", 0),
        ("don't", 1),
        ("don’t", 1),
        ("well-known", 1),
        ("rock 'n' roll", 3),
        ("word—word", 2),
        ("word--word", 2),
        ("Anna Pávlovna Schérer", 3),
        ("Schére\u0301r", 1),  # a decomposed accent stays inside its word
        ("It cost 1,000 roubles at 10:30.", 6),
        ("_emphasis_ and *strong*", 3),
        ("Straße, naïve café", 3),
    ],
)
def test_count_words_like_a_writer(text: str, words: int) -> None:
    assert count_words(text) == words


def test_count_words_of_a_real_paragraph() -> None:
    paragraph = (
        "It is a truth universally acknowledged, that a single man in possession\n"
        "of a good fortune, must be in want of a wife.\n"
    )
    assert paragraph in novel("pride_and_prejudice")
    assert count_words(paragraph) == 23


# --- properties ---------------------------------------------------------------------------


@FAST
@given(any_text)
def test_every_splitter_reassembles_the_text_exactly(text: str) -> None:
    assert "".join(split_paragraphs(text)) == text
    assert "".join(split_words(text)) == text
    for paragraph in split_paragraphs(text):
        assert "".join(split_sentences(paragraph)) == paragraph
    assert "".join(split_sentences(text)) == text


@FAST
@given(any_text)
def test_no_splitter_returns_empty_pieces(text: str) -> None:
    for pieces in (split_paragraphs(text), split_sentences(text), split_words(text)):
        assert all(pieces)


@FAST
@given(prose_text)
def test_paragraphs_hold_no_blank_line_inside(text: str) -> None:
    for paragraph in split_paragraphs(text):
        assert re.search(r"\n\s*\n", paragraph.rstrip()) is None


@FAST
@given(any_text)
def test_count_words_counts_the_word_tokens(text: str) -> None:
    assert count_words(text) == sum(1 for token in split_words(text) if is_word(token))


@FAST
@given(st.lists(st.sampled_from(["well-known", "don’t", "Schérer", "1,000", "cat"]), max_size=8))
def test_count_words_of_words_joined_by_spaces_and_punctuation(words: list[str]) -> None:
    assert count_words(" ".join(words)) == len(words)
    assert count_words(", ".join(words) + ".") == len(words)
