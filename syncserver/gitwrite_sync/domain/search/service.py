"""Search for people: the repository's index, for those who may read it (any role)."""

from __future__ import annotations

import html
import re

from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import User
from gitwrite_sync.domain.access import Action, require
from gitwrite_sync.domain.search.chunks import HIGHLIGHT_END, HIGHLIGHT_START
from gitwrite_sync.domain.search.index import FileHit, SearchIndex, index_for
from gitwrite_sync.domain.search.query import parse
from gitwrite_sync.domain.search.schemas import SearchResponse, SearchResult, Span

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_SPACE = re.compile(r"\s+")
_MARK = re.compile(f"([{HIGHLIGHT_START}{HIGHLIGHT_END}])")


def highlighted(marked: str) -> tuple[str, list[Span], str]:
    """A snippet with matches between the highlight characters, as plain text, the spans
    of the matches in it, and HTML with each match in ``<mark>``."""
    plain: list[str] = []
    markup: list[str] = []
    spans: list[Span] = []
    length, opened = 0, None
    for piece in _MARK.split(_SPACE.sub(" ", marked).strip()):
        if piece == HIGHLIGHT_START:
            if opened is None:
                opened = length
                markup.append("<mark>")
        elif piece == HIGHLIGHT_END:
            if opened is not None:
                spans.append(Span(opened, length))
                markup.append("</mark>")
                opened = None
        else:
            plain.append(piece)
            markup.append(html.escape(piece, quote=False))
            length += len(piece)
    if opened is not None:
        spans.append(Span(opened, length))
        markup.append("</mark>")
    return "".join(plain), spans, "".join(markup)


def _result(hit: FileHit, default_branch: str) -> SearchResult:
    branches = sorted(hit.branches, key=lambda b: (b != default_branch, b))
    snippet, spans, markup = highlighted(hit.snippet)
    return SearchResult(
        file=hit.path,
        exploration=branches[0],
        explorations=branches,
        line=hit.line,
        snippet=snippet,
        highlights=spans,
        snippet_html=markup,
        rank=round(hit.rank, 6),
    )


class SearchService:
    def __init__(self, db: Database, index: SearchIndex | None = None) -> None:
        self.db = db
        self.index = index or index_for(db)

    async def search(
        self, user: User, repo_name: str, typed: str, limit: int = DEFAULT_LIMIT
    ) -> SearchResponse:
        """The files of every exploration of ``repo_name`` whose current text matches
        ``typed`` (syntax: ``gitwrite_sync.domain.search.query``), best first.

        Raises:
            NotFound: no such repository for this user.
            InvalidInput: the query is too long or has too many terms.
        """
        async with self.db.read() as session:
            repo, _ = await require(session, user, repo_name, Action.READ)
            query = parse(typed)
            if query is None:
                return SearchResponse(typed, [])
            hits = await self.index.search(session, repo.id, query, min(limit, MAX_LIMIT))
        return SearchResponse(typed, [_result(hit, repo.default_branch) for hit in hits])
