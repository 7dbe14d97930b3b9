"""Search on PostgreSQL: the generated ``tsvector`` column and its GIN index (migration
0002), ``websearch_to_tsquery``, ``ts_rank`` and ``ts_headline``, configuration
``simple`` (see ``gitwrite_sync.domain.search``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.domain.search.chunks import HIGHLIGHT_END, HIGHLIGHT_START
from gitwrite_sync.domain.search.index import SNIPPET_WORDS, Piece, SearchIndex
from gitwrite_sync.domain.search.query import SearchQuery

CONFIG = "simple"
_LOCK_SPACE = 0x5EA6C4  # first key of the advisory lock: "the search index of repo N"

_BEST = text(f"""
    SELECT id, blob_sha, line, rank FROM (
        SELECT DISTINCT ON (c.blob_sha) c.id, c.blob_sha, c.line, ts_rank(c.tsv, q) AS rank
        FROM search_chunks AS c, websearch_to_tsquery('{CONFIG}', :q) AS q
        WHERE c.repo_id = :repo AND c.tsv @@ q
        ORDER BY c.blob_sha, rank DESC, c.ordinal
    ) AS best
    ORDER BY rank DESC, blob_sha
    LIMIT :limit
""")

# SET LOCAL, two settings in one statement (for the rest of the transaction).
_BITMAP_ONLY = text(
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
)
_ANY_SCAN = text(
    "SELECT set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'on', true)"
)

_OPTIONS = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords={SNIPPET_WORDS + 6}, "
    f'MinWords={SNIPPET_WORDS // 2}, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)
_SNIPPETS = text(f"""
    SELECT c.id, ts_headline('{CONFIG}', c.text, websearch_to_tsquery('{CONFIG}', :q), :options)
    FROM search_chunks AS c
    WHERE c.id IN :ids
""").bindparams(bindparam("ids", expanding=True))


class PostgresSearchIndex(SearchIndex):
    async def lock(self, session: AsyncSession, repo_id: int) -> None:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, CAST(mod(:repo, 2147483647) AS integer))"),
            {"space": _LOCK_SPACE, "repo": repo_id},
        )

    async def refresh_statistics(self, session: AsyncSession) -> None:
        """``ANALYZE search_chunks``: without statistics (a table just filled, before
        autovacuum comes by) the planner walks the repository's pieces by the primary
        key's index and tests each (~13 ms on three novels) instead of asking the GIN
        index (~1 ms)."""
        await session.execute(text("ANALYZE search_chunks"))

    async def _best_pieces(
        self, session: AsyncSession, repo_id: int, query: SearchQuery, limit: int
    ) -> list[Piece]:
        # Bitmap scans only, for this one statement: the planner's costs leave out
        # detoasting the tsvector of every piece a scan of the table or of the primary key
        # tests, so it picks those (~5 ms on War and Peace, 1,553 pieces) over the GIN
        # index (~0.6-2 ms; about even for a word in every piece).
        await session.execute(_BITMAP_ONLY)
        rows = (
            await session.execute(_BEST, {"q": query.websearch(), "repo": repo_id, "limit": limit})
        ).all()
        await session.execute(_ANY_SCAN)
        return [Piece(r.id, r.blob_sha, r.line, float(r.rank)) for r in rows]

    async def _snippets(
        self, session: AsyncSession, query: SearchQuery, ids: Sequence[int]
    ) -> dict[int, str]:
        rows = await session.execute(
            _SNIPPETS, {"q": query.websearch(), "options": _OPTIONS, "ids": list(ids)}
        )
        return {int(id_): str(snippet) for id_, snippet in rows}
