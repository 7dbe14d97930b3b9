"""The search box's syntax, the pieces a file is cut into, and snippet highlighting:
pure functions, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitwrite_sync.domain.search.chunks import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    MAX_CHARS,
    TARGET_CHARS,
    chunk,
    text_of,
)
from gitwrite_sync.domain.search.query import MAX_QUERY_CHARS, MAX_TERMS, Term, parse
from gitwrite_sync.domain.search.service import highlighted
from gitwrite_sync.errors import InvalidInput
from tests.corpus import chapters, novel


def terms(typed: str) -> list[list[tuple[str, bool]]]:
    query = parse(typed)
    assert query is not None
    return [[(t.text, t.negated) for t in alt] for alt in query.alternatives]


def test_words_phrases_exclusions_and_alternatives() -> None:
    assert terms("whale  captain") == [[("whale", False), ("captain", False)]]
    assert terms('"call me  ishmael" -ahab') == [[("call me ishmael", False), ("ahab", True)]]
    assert terms("sad cat or fat rat") == [
        [("sad", False), ("cat", False)],
        [("fat", False), ("rat", False)],
    ]
    assert terms('natasha OR -"prince andrew" sonya') == [
        [("natasha", False)],
        [("prince andrew", True), ("sonya", False)],
    ]
    assert terms('"unclosed phrase') == [[("unclosed phrase", False)]]
    assert terms("well-known") == [[("well-known", False)]]


@pytest.mark.parametrize("typed", ["", "   ", '"', '""', "-", "--", "or", "OR or", "!!! ...", "_"])
def test_nothing_findable_is_none(typed: str) -> None:
    assert parse(typed) is None


def test_alternatives_without_a_positive_term_are_dropped() -> None:
    assert parse("-whale") is None
    assert terms("-whale or captain") == [[("captain", False)]]


def test_renderings_quote_every_term() -> None:
    query = parse('a "b c" -d or e')
    assert query is not None
    assert query.websearch() == '"a" "b c" -"d" or "e"'
    assert query.fts5() == '(("a" AND "b c") NOT "d") OR ("e")'
    assert Term('say "hi"').fts5() == '"say ""hi"""'


def test_control_characters_and_surrogates_are_blanked() -> None:
    assert terms("whale\x00ship\ud800") == [[("whale", False), ("ship", False)]]
    assert terms('"whale\x00ship"') == [[("whale ship", False)]]


def test_limits() -> None:
    parse("x" * MAX_QUERY_CHARS)
    with pytest.raises(InvalidInput, match="at most"):
        parse("x" * (MAX_QUERY_CHARS + 1))
    parse(" ".join(["w"] * MAX_TERMS))
    with pytest.raises(InvalidInput, match="words or phrases"):
        parse(" ".join(["w"] * (MAX_TERMS + 1)))


@given(st.text(max_size=200))
def test_any_text_parses_or_is_nothing(typed: str) -> None:
    query = parse(typed)
    if query is not None:
        assert query.alternatives and all(
            any(not t.negated for t in alt) for alt in query.alternatives
        )
        rendered = query.fts5() + query.websearch()
        assert "\x00" not in rendered


def test_a_chapter_is_cut_at_paragraphs_into_pieces_that_keep_their_lines() -> None:
    _, text = max(chapters(), key=lambda c: len(c[1]))
    pieces = chunk(text)
    lines = text.split("\n")
    assert len(pieces) > 5
    assert [p.ordinal for p in pieces] == list(range(len(pieces)))
    for piece in pieces:
        assert len(piece.text) <= MAX_CHARS
        assert piece.text in text
        assert lines[piece.line - 1].strip() == piece.text.split("\n")[0].strip()
    # Every word of the chapter is in some piece, in order.
    assert "".join(text.split()) == "".join("".join(p.text.split()) for p in pieces)


def test_a_long_paragraph_is_cut_at_sentence_ends() -> None:
    paragraph = " ".join(f"Sentence number {n} ends here." for n in range(1000))
    pieces = chunk("Title\n\n" + paragraph + "\n")
    assert len(pieces) > 5
    assert all(len(p.text) <= MAX_CHARS for p in pieces)
    assert all(p.text.endswith(".") for p in pieces)
    assert all(p.line in (1, 3) for p in pieces)


def test_a_novel_gives_pieces_of_about_the_target_size() -> None:
    pieces = chunk(novel("moby_dick"))
    sizes = sorted(len(p.text) for p in pieces)
    assert TARGET_CHARS // 2 < sizes[len(sizes) // 2] <= MAX_CHARS


def test_only_utf8_text_is_indexed() -> None:
    assert text_of("Natásha".encode()) == "Natásha"
    assert text_of(b"\x89PNG\r\n\x1a\n\x00\x00") is None
    assert text_of("café".encode("latin-1")) is None
    assert text_of(f"a{HIGHLIGHT_START}b".encode()) == "a\ufffdb"
    assert chunk(" \n\n \n") == []


def test_highlighted_snippets() -> None:
    marked = f"The  {HIGHLIGHT_START}whale{HIGHLIGHT_END}\nwas <white> & {HIGHLIGHT_START}big"
    plain, spans, html = highlighted(marked)
    assert plain == "The whale was <white> & big"
    assert [(s.start, s.end) for s in spans] == [(4, 9), (24, 27)]
    assert [plain[s.start : s.end] for s in spans] == ["whale", "big"]
    assert html == "The <mark>whale</mark> was &lt;white&gt; &amp; <mark>big</mark>"
