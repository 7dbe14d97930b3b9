"""Search as the writer types: what is found in War and Peace, where, in which order, and
that no typed text can make the query fail. (Speed: tests/bench/desktop_search.py.)"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from gitwrite.project import Project
from gitwrite_desktop.core.cache import Cache
from gitwrite_desktop.core.search import Order, match_expression, search
from gitwrite_desktop.core.textindex import TextIndex, paragraphs
from tests.corpus import chapters

PROJECT = "war-and-peace"


_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Text as the unicode61 tokenizer with remove_diacritics 2 compares it."""
    return _COMBINING.sub("", unicodedata.normalize("NFD", text)).casefold()


@pytest.fixture(scope="session")
def war_and_peace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Database]]:
    """War and Peace in 366 chapter files (unsaved: the index is of the working text),
    indexed once; yields the project folder and a read-only connection."""
    root = tmp_path_factory.mktemp("search") / "war-and-peace"
    with Project.create(root, starter=False) as project:
        project.write_files({name: text.encode() for name, text in chapters("war_and_peace")})
        cache = Cache.open(root.parent / "data")
        TextIndex(cache.db, PROJECT).refresh(project)
    reader = cache.reader()
    yield root, reader
    reader.close()
    cache.close()


def file_text(root: Path, path: str) -> str:
    return (root / path).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ("Nata", '"Nata" *'),
        ("Nata ", '"Nata"'),
        ("Natasha Rost", '"Natasha" "Rost" *'),
        ('"prince andrew"', '"prince andrew"'),
        ('"prince andr', '"prince andr" *'),
        ('"prince andrew" nat', '"prince andrew" "nat" *'),
        ("Natasha's", '"Natasha s" *'),
        ("NEAR(a OR b) -c", '"NEAR a" "OR" "b" "c" *'),
        ("a AND b )", '"a" "AND" "b"'),
        ("well-known*", '"well known" *'),
        ("", None),
        ('"', None),
        ('*" ^ : ( ) -', None),
    ],
)
def test_typed_text_becomes_a_safe_match_expression(typed: str, expression: str | None) -> None:
    assert match_expression(typed) == expression


def test_a_prefix_finds_every_paragraph_with_a_word_starting_so(
    war_and_peace: tuple[Path, Database],
) -> None:
    root, db = war_and_peace
    results = search(db, PROJECT, "Nata", limit=20)
    starts_a_word = re.compile(r"(?<![^\W_])nata")
    expected = sum(
        bool(starts_a_word.search(fold(p.text)))
        for _, text in chapters("war_and_peace")
        for p in paragraphs(text)
    )
    assert results.total == expected > 900
    assert len(results.hits) == 20
    for hit in results.hits:
        text = file_text(root, hit.path)
        assert fold(text[hit.match_start : hit.match_end]).startswith("nata")
        assert hit.snippet_text.strip("…") in text
        assert text.count("\n", 0, hit.start) + 1 == hit.line
        assert any(s.match and fold(s.text).startswith("nata") for s in hit.snippet)


def test_diacritics_are_folded(war_and_peace: tuple[Path, Database]) -> None:
    root, db = war_and_peace
    plain = search(db, PROJECT, "Natasha ", limit=500)  # the translation writes "Natásha"
    accented = search(db, PROJECT, "Natásha ", limit=500)
    assert plain.total == accented.total > 900 and plain.hits == accented.hits
    found = {file_text(root, h.path)[h.match_start : h.match_end] for h in plain.hits}
    assert found == {"Natásha"}


def test_diacritics_are_folded_in_queries_and_text_alike(tmp_path: Path) -> None:
    with Project.create(tmp_path / "novel", starter=False) as project:
        project.write_files({"a.md": "Nataša.\n".encode(), "b.md": b"Natasa.\n", "c.md": b"Nat.\n"})
        cache = Cache.open(tmp_path / "data")
        TextIndex(cache.db, "p").refresh(project)
        for typed in ("Nataša", "natasa", "NATAS"):
            assert [h.path for h in search(cache.db, "p", typed).hits] == ["a.md", "b.md"]
        cache.close()


def test_a_quoted_phrase_must_appear_as_typed(war_and_peace: tuple[Path, Database]) -> None:
    root, db = war_and_peace
    phrase = search(db, PROJECT, '"prince andrew"', limit=1000)
    both = search(db, PROJECT, "andrew prince ", limit=1000)
    assert 0 < phrase.total < both.total
    for hit in phrase.hits:
        paragraph = file_text(root, hit.path)[hit.start :].split("\n\n")[0]
        assert re.search(r"prince\s+andr[eé]w", fold(paragraph))


def test_results_come_in_manuscript_order_and_page_on(
    war_and_peace: tuple[Path, Database],
) -> None:
    _, db = war_and_peace
    first = search(db, PROJECT, "Pierre", limit=30)
    second = search(db, PROJECT, "Pierre", limit=30, offset=30)
    keys = [(h.path, h.paragraph) for h in first.hits + second.hits]
    assert keys == sorted(keys) and len(set(keys)) == 60
    ranked = search(db, PROJECT, "Pierre", limit=30, order=Order.RELEVANCE)
    assert ranked.total == first.total
    assert [(h.path, h.paragraph) for h in ranked.hits] != keys[:30]


def test_nothing_typed_or_nothing_found(war_and_peace: tuple[Path, Database]) -> None:
    _, db = war_and_peace
    assert search(db, PROJECT, "  ").hits == ()
    assert search(db, PROJECT, "zzyzzx").total == 0
    assert search(db, "another-project", "Natasha").total == 0


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("\"*^:()-+ NEARORANDnota'.\\{}[]"), max_size=20) | st.text()
)
def test_no_typed_text_makes_the_search_fail(
    war_and_peace: tuple[Path, Database], typed: str
) -> None:
    _, db = war_and_peace
    results = search(db, PROJECT, typed, limit=5)
    assert len(results.hits) <= 5 and results.total >= len(results.hits)


def test_the_index_follows_edits(tmp_path: Path) -> None:
    with Project.create(tmp_path / "novel", starter=False) as project:
        project.write_files({"a.md": b"The duel at dawn.\n", "b.md": b"A quiet dawn.\n"})
        cache = Cache.open(tmp_path / "data")
        index = TextIndex(cache.db, "p")
        index.refresh(project)
        assert search(cache.db, "p", "dawn ").total == 2
        project.write_files({"a.md": b"The duel at dusk.\n"})
        index.refresh(project, ["a.md"])
        assert [h.path for h in search(cache.db, "p", "dawn ").hits] == ["b.md"]
        assert [h.path for h in search(cache.db, "p", "dus").hits] == ["a.md"]
        cache.close()
