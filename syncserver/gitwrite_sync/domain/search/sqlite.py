"""Search on SQLite: the FTS5 table ``search_fts`` over ``search_chunks`` (migration
0002), ``bm25()`` and ``snippet()``; tokenizer ``unicode61`` without folding diacritics,
which finds the words PostgreSQL's ``simple`` configuration does."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite_sync.domain.search.chunks import HIGHLIGHT_END, HIGHLIGHT_START
from gitwrite_sync.domain.search.index import SNIPPET_WORDS, Piece, SearchIndex
from gitwrite_sync.domain.search.query import SearchQuery

# CROSS JOIN keeps the FTS table the outer loop (else SQLite may walk the repository's
# pieces and run the MATCH once per piece). MATERIALIZED keeps the MATCH in a query of its
# own, where bm25() may be called (a flattened subquery may not). SQLite fills the bare
# columns of a min() aggregate from the row holding the minimum: each blob's best piece.
_BEST = text("""
    WITH hits AS MATERIALIZED (
        SELECT c.id, c.blob_sha, c.line, bm25(search_fts) AS score
        FROM search_fts CROSS JOIN search_chunks AS c ON c.id = search_fts.rowid
        WHERE search_fts MATCH :q AND c.repo_id = :repo
    )
    SELECT id, blob_sha, line, min(score) AS score FROM hits
    GROUP BY blob_sha
    ORDER BY score, blob_sha
    LIMIT :limit
""")

_SNIPPETS = text(f"""
    SELECT rowid, snippet(search_fts, 0, :start, :end, '…', {SNIPPET_WORDS})
    FROM search_fts
    WHERE search_fts MATCH :q AND rowid IN :ids
""").bindparams(bindparam("ids", expanding=True))


class SqliteSearchIndex(SearchIndex):
    async def lock(self, session: AsyncSession, repo_id: int) -> None:
        """Nothing to take: a write unit on SQLite holds the whole database already."""

    async def refresh_statistics(self, session: AsyncSession) -> None:
        """Nothing to refresh: FTS5 answers MATCH from its own index, whatever the size."""

    async def _best_pieces(
        self, session: AsyncSession, repo_id: int, query: SearchQuery, limit: int
    ) -> list[Piece]:
        rows = await session.execute(_BEST, {"q": query.fts5(), "repo": repo_id, "limit": limit})
        # bm25() is lower for better matches; the interface's rank is higher for better.
        return [Piece(r.id, r.blob_sha, r.line, -float(r.score)) for r in rows]

    async def _snippets(
        self, session: AsyncSession, query: SearchQuery, ids: Sequence[int]
    ) -> dict[int, str]:
        params = {
            "q": query.fts5(),
            "start": HIGHLIGHT_START,
            "end": HIGHLIGHT_END,
            "ids": list(ids),
        }
        rows = await session.execute(_SNIPPETS, params)
        return {int(id_): str(snippet) for id_, snippet in rows}
