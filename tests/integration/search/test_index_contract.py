"""The SearchIndex contract, run against both implementations: PostgreSQL full-text search
and SQLite FTS5 (``database_url`` picks the database, `index_for` the implementation).

Saves reach the server through the real sync service's push; `Indexer` then brings the
index up to date the way the ``index_push`` job does.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from gitwrite_sync.db.models import Repository, SearchChunk, SearchFile, SearchHead
from gitwrite_sync.domain.search import FileHit, Indexer, IndexReport, parse, postgres, sqlite
from gitwrite_sync.domain.search.chunks import HIGHLIGHT_END, HIGHLIGHT_START, chunk
from gitwrite_sync.domain.search.index import IndexMoved
from gitwrite_sync.domain.search.indexer import REFRESH_STATISTICS_AFTER
from gitwrite_sync.domain.search.postgres import PostgresSearchIndex
from gitwrite_sync.domain.search.sqlite import SqliteSearchIndex
from tests.corpus import chapters
from tests.integration.search.conftest import Library

pytestmark = pytest.mark.anyio

MOBY = {
    "chapter-01.md": "# Loomings\n\nCall me Ishmael. Some years ago, never mind how long.\n",
    "chapter-02.md": "# The Carpet-Bag\n\nI stuffed a shirt or two into my old carpet-bag.\n",
    "chapter-03.md": "# The Spouter-Inn\n\nThe white whale, the whale of whales, swam by.\n",
    "notes/cast.md": "Captain Ahab hunts the white whale. Starbuck doubts.\n",
}


async def index(library: Library) -> IndexReport:
    return await Indexer(library.db, library.index).index_repository(library.repo_id)


async def find(library: Library, typed: str, limit: int = 20) -> list[FileHit]:
    query = parse(typed)
    if query is None:
        return []
    async with library.db.read() as session:
        return await library.index.search(session, library.repo_id, query, limit)


async def files(library: Library, typed: str) -> set[str]:
    return {hit.path for hit in await find(library, typed)}


async def count(library: Library, table: type) -> int:
    async with library.db.read() as session:
        where = table.repo_id == library.repo_id  # type: ignore[attr-defined]
        return int((await session.execute(select(func.count()).where(where))).scalar_one())


async def check_fts(library: Library) -> None:
    """On SQLite, FTS5's own check that its index matches search_chunks exactly."""
    if library.db.is_sqlite:
        async with library.db.write() as session:
            await session.execute(
                text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
            )


async def test_each_database_gets_its_own_implementation(library: Library) -> None:
    expected = SqliteSearchIndex if library.db.is_sqlite else PostgresSearchIndex
    assert type(library.index) is expected
    async with library.db.read() as session:
        if library.db.is_sqlite:
            native = "SELECT name FROM sqlite_master WHERE name = 'search_fts'"
        else:  # the GIN index over the repository and the words (migration 0003)
            native = "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin (repo_id, tsv)%'"
        assert (await session.execute(text(native))).scalar_one_or_none() is not None


async def test_searches_ask_the_full_text_index(library: Library) -> None:
    """Not every piece of the repository tested in turn: on PostgreSQL the GIN index over
    (repo_id, tsv), not the primary key's index to the repository (statistics refreshed
    after a large index run); FTS5's own index on SQLite."""
    await library.writer.save("main", dict(chapters("war_and_peace")))  # ~1,400 pieces
    report = await index(library)
    assert report.pieces >= REFRESH_STATISTICS_AFTER
    query = parse("Borodinó")
    assert query is not None
    if library.db.is_sqlite:
        explain, best, q, expected = (
            "EXPLAIN QUERY PLAN ",
            sqlite._BEST,
            query.fts5(),
            "search_fts VIRTUAL TABLE INDEX",
        )
    else:
        explain, best, q, expected = (
            "EXPLAIN ",
            postgres._BEST,
            query.websearch(),
            "ix_search_chunks_repo_tsv",
        )
    async with library.db.read() as session:
        if not library.db.is_sqlite:
            await session.execute(postgres._BITMAP_ONLY)  # as _best_pieces does
        plan = await session.execute(
            text(explain + best.text), {"q": q, "repo": library.repo_id, "limit": 20}
        )
        lines = [str(row[-1]) for row in plan]
    assert any(expected in line for line in lines), "\n".join(lines)
    assert len(await files(library, "Borodinó")) > 5


async def test_words_phrases_exclusions_and_alternatives(library: Library) -> None:
    await library.writer.save("main", MOBY)
    await index(library)
    assert await files(library, "whale") == {"chapter-03.md", "notes/cast.md"}
    assert await files(library, "WHITE Whale") == {"chapter-03.md", "notes/cast.md"}
    assert await files(library, "whale captain") == {"notes/cast.md"}
    assert await files(library, "whale -captain") == {"chapter-03.md"}
    assert await files(library, '"call me ishmael"') == {"chapter-01.md"}
    assert await files(library, '"ishmael me call"') == set()
    assert await files(library, "ishmael or starbuck") == {"chapter-01.md", "notes/cast.md"}
    assert await files(library, "carpet-bag") == {"chapter-02.md"}
    # Words as written: no stemming ("whales" is its own word), no stop words.
    assert await files(library, "whales") == {"chapter-03.md"}
    assert await files(library, '"a shirt or two"') == {"chapter-02.md"}
    assert await files(library, "harpoon") == set()


async def test_accents_are_kept_and_case_is_not(library: Library) -> None:
    await library.writer.save("main", {"a.md": "Natásha danced with Prince Andrew.\n"})
    await index(library)
    assert await files(library, "natásha") == {"a.md"}
    assert await files(library, "NATÁSHA") == {"a.md"}
    assert await files(library, "natasha") == set()


async def test_snippets_mark_matches_and_point_at_the_line(library: Library) -> None:
    _, text = max(chapters(), key=lambda c: len(c[1]))
    await library.writer.save("main", {"long.md": text, "other.md": "Nothing here.\n"})
    await index(library)
    pieces = chunk(text)
    assert len(pieces) > 5
    word = "Netherfield"
    expected = [p for p in pieces if word in p.text]
    assert expected
    [hit] = await find(library, word)
    assert hit.path == "long.md" and hit.branches == ("main",)
    assert hit.line in {p.line for p in expected}
    assert f"{HIGHLIGHT_START}{word}{HIGHLIGHT_END}" in hit.snippet
    assert len(hit.snippet) < 600  # a few words around the match, not the whole piece
    assert hit.rank > 0


async def test_more_mentions_rank_higher(library: Library) -> None:
    filler = "The sea was calm and grey that morning. " * 8
    await library.writer.save(
        "main",
        {
            "once.md": filler + "A whale.\n",
            "often.md": filler + "A whale, a whale, another whale and a whale.\n",
            "never.md": filler + "\n",
        },
    )
    await index(library)
    hits = await find(library, "whale")
    assert [h.path for h in hits] == ["often.md", "once.md"]
    assert hits[0].rank > hits[1].rank
    assert [h.path for h in await find(library, "whale", limit=1)] == ["often.md"]


async def test_only_changed_files_are_indexed_again(library: Library) -> None:
    await library.writer.save("main", MOBY)
    assert await index(library) == IndexReport(branches=1, files=4, pieces=4)
    async with library.db.read() as session:
        before = {r.id: r.blob_sha for r in await session.scalars(select(SearchChunk))}
    changed = dict(MOBY)
    changed["chapter-03.md"] = "# The Spouter-Inn\n\nA harpoon hung on the wall.\n"
    await library.writer.save("main", changed)
    assert await index(library) == IndexReport(branches=1, files=1, pieces=1)
    assert await index(library) == IndexReport(branches=0, files=0, pieces=0)  # nothing new
    async with library.db.read() as session:
        after = {r.id: r.blob_sha for r in await session.scalars(select(SearchChunk))}
    kept = set(before) & set(after)
    assert len(kept) == 3  # the three unchanged files keep their rows as they were
    assert len(set(after) - kept) == 1  # the new text of chapter 3
    assert await files(library, "harpoon") == {"chapter-03.md"}
    assert await files(library, "whale") == {"notes/cast.md"}
    await check_fts(library)


async def test_the_same_text_on_two_explorations_is_one_result(library: Library) -> None:
    await library.writer.save("main", MOBY)
    await library.writer.save("darker-ending", {**MOBY, "end.md": "The ship sank.\n"}, start="main")
    await index(library)
    [hit] = await find(library, "ishmael")
    assert (hit.path, hit.branches) == ("chapter-01.md", ("darker-ending", "main"))
    assert await count(library, SearchChunk) == 5  # the shared texts are stored once
    assert await files(library, "sank") == {"end.md"}

    darker = {**MOBY, "chapter-01.md": "# Loomings\n\nCall me Ishmael, who drowned.\n"}
    await library.writer.save("darker-ending", darker)
    await index(library)
    hits = await find(library, "ishmael")
    assert sorted((h.path, h.branches) for h in hits) == [
        ("chapter-01.md", ("darker-ending",)),
        ("chapter-01.md", ("main",)),
    ]
    assert await files(library, "drowned") == {"chapter-01.md"}


async def test_deleted_files_and_branches_leave_the_index(library: Library) -> None:
    await library.writer.save("main", MOBY)
    await library.writer.save("draft", {**MOBY, "draft.md": "Queequeg sleeps.\n"}, start="main")
    await index(library)
    assert await files(library, "queequeg") == {"draft.md"}

    await library.writer.save("main", {k: v for k, v in MOBY.items() if k != "notes/cast.md"})
    await library.writer.delete("draft")
    await index(library)
    assert await files(library, "queequeg") == set()
    assert await files(library, "starbuck") == set()
    assert await count(library, SearchFile) == 3
    assert await count(library, SearchHead) == 1
    assert await count(library, SearchChunk) == 3  # no text is kept that no file holds
    await check_fts(library)


async def test_a_text_dropped_between_plan_and_write_is_planned_again(library: Library) -> None:
    """Branch b is planned while main holds its text (so the text is not read again);
    main then drops it before b's update is written: the update must not point at a text
    the index no longer has."""
    text = {"a.md": "The narwhal.\n"}
    main = await library.writer.save("main", text)
    await index(library)
    b = await library.writer.save("b", text)
    indexer = Indexer(library.db, library.index)
    plan = await indexer._plan(library.repo_id, "b", None, b.decode())
    assert plan.files and plan.texts == {}  # counted on main's copy
    moved = await library.writer.save("main", {"other.md": "Nothing.\n"})
    dropping = await indexer._plan(library.repo_id, "main", main.decode(), moved.decode())
    async with library.db.write() as session:  # main's update drops the shared text
        await library.index.update_branch(
            session,
            library.repo_id,
            "main",
            main.decode(),
            moved.decode(),
            dropping.files,
            dropping.texts,
        )
    with pytest.raises(IndexMoved):
        async with library.db.write() as session:
            await library.index.update_branch(
                session, library.repo_id, "b", None, b.decode(), plan.files, plan.texts
            )
    await index(library)  # plans b again, reading the text
    hits = await find(library, "narwhal")
    assert [(h.path, h.branches) for h in hits] == [("a.md", ("b",))]
    await check_fts(library)


async def test_hidden_and_binary_files_are_left_out(library: Library) -> None:
    await library.writer.save(
        "main",
        {
            "chapter.md": "The lighthouse keeper.\n",
            ".gitattributes": "*.md lighthouse=prose\n",
            ".gitwrite/settings.json": '{"lighthouse": 1}\n',
            "cover.png": b"\x89PNG\r\n\x1a\n\x00lighthouse\x00",
            "old.txt": "lighthouse caf\xe9\n".encode("latin-1"),
        },
    )
    await index(library)
    assert await files(library, "lighthouse") == {"chapter.md"}


async def test_deleting_a_repository_removes_its_index(library: Library) -> None:
    await library.writer.save("main", MOBY)
    await index(library)
    async with library.db.write() as session:
        await session.execute(delete(Repository).where(Repository.id == library.repo_id))
    assert await count(library, SearchChunk) == 0
    assert await count(library, SearchFile) == 0
    await check_fts(library)


async def test_indexers_running_at_once_agree(library: Library) -> None:
    names = dict(chapters()[:8])
    await library.writer.save("main", names)
    await library.writer.save("second", {"x.md": "Mr. Darcy walked out.\n"}, start="main")
    reports = await asyncio.gather(*(index(library) for _ in range(4)))
    assert sum(r.branches for r in reports) == 2  # each branch moved exactly once
    assert await count(library, SearchHead) == 2
    assert await count(library, SearchFile) == len(names) + 1
    async with library.db.read() as session:
        blobs = (
            await session.execute(select(func.count(func.distinct(SearchChunk.blob_sha))))
        ).scalar_one()
    assert blobs == len(names) + 1
    assert await files(library, "darcy") >= {"x.md", "chapter-03.md"}
    await check_fts(library)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(typed=st.text(max_size=60))
@example(typed='"')
@example(typed='whale "unclosed')
@example(typed="NEAR(whale captain)")
@example(typed="whale* ^captain col:whale")
@example(typed="-whale")
@example(typed="- - or OR AND NOT")
@example(typed="(( ))")
@example(typed="'; DROP TABLE search_chunks; --")
@example(typed="whale\x00captain")
@example(typed="\ud800whale")
@example(typed="!@#$%^&*()_+{}|:<>?")
@example(typed="é" * 60)
async def test_any_query_answers_without_error(library: Library, typed: str) -> None:
    if not await count(library, SearchHead):
        await library.writer.save("main", MOBY)
        await index(library)
    hits = await find(library, typed)
    assert all(h.path in MOBY for h in hits)
