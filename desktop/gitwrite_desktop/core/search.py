"""Search as the writer types, over the full-text index of the working text.

What the writer types is never handed to FTS5 as a query: it is turned into one by
`match_expression`, so quotes, brackets, ``*``, ``-``, ``NEAR`` or ``OR`` can never make
the query fail. The rules:

* text inside double quotes is a phrase (``"prince andrew"``); an unclosed quote runs
  to the end;
* everything else is words, all of which must appear (in any order);
* the last word is a prefix unless the query ends with a space or a closing quote, so
  ``Nata`` finds "Natasha" while the writer is still typing;
* a word is a run of letters and digits, as the index's tokenizer sees it (``unicode61``
  with diacritics folded, so ``Natasa`` finds "Nataša" and the other way round); a
  chunk such as ``Natasha's`` is the phrase "Natasha s", which is how it was indexed.

Results come in the order of the manuscript (file, then paragraph) by default, or by
relevance (FTS5's bm25); each says where the first match is in the file.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitwrite_desktop.core.textindex import MARKERS

if TYPE_CHECKING:
    from sqlite_utils import Database

_WORD = re.compile(r"[^\W_]+")
_OPEN, _CLOSE = MARKERS[0], MARKERS[1]
SNIPPET_TOKENS = 16
"""Words of context a snippet shows around the matches (FTS5 allows up to 64)."""


class Order(enum.StrEnum):
    DOCUMENT = "document"
    RELEVANCE = "relevance"


def match_expression(typed: str) -> str | None:
    """The FTS5 query for what the writer typed, or None when it holds no word at all."""
    terms: list[str] = []
    ends_open = False
    for number, part in enumerate(typed.split('"')):
        inside_quotes = number % 2 == 1
        chunks = [part] if inside_quotes else part.split()
        for chunk in chunks:
            words = _WORD.findall(chunk)
            if words:
                terms.append('"' + " ".join(words) + '"')
        if inside_quotes:
            ends_open = False
        elif part:
            ends_open = not part[-1].isspace() and bool(_WORD.search(part.split()[-1]))
    if not terms:
        return None
    quote_unclosed = typed.count('"') % 2 == 1
    if ends_open or (quote_unclosed and not typed.endswith(" ")):
        terms[-1] += " *"
    return " ".join(terms)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a snippet; ``match`` when it is text the query found."""

    text: str
    match: bool


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One paragraph that matches.

    Attributes:
        path: the file, relative to the project.
        paragraph: its number in the file (from 0).
        start: the offset in the file where the paragraph starts.
        line: the line it starts on (from 1).
        match_start: the offset in the file of the first match in it.
        match_end: the offset just after that match.
        snippet: the matches with some words around them.
    """

    path: str
    paragraph: int
    start: int
    line: int
    match_start: int
    match_end: int
    snippet: tuple[Segment, ...]

    @property
    def snippet_text(self) -> str:
        return "".join(s.text for s in self.snippet)


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]
    total: int
    """Paragraphs that match in the whole project (``hits`` is one page of them)."""


def _segments(marked: str) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for i, piece in enumerate(re.split(f"[{_OPEN}{_CLOSE}]", marked)):
        if piece:
            out.append(Segment(piece, i % 2 == 1))
    return tuple(out)


def _first_match(marked: str) -> tuple[int, int]:
    start = marked.find(_OPEN)
    if start < 0:
        return 0, 0
    end = marked.find(_CLOSE, start)
    return start, (end - 1 if end > 0 else start)


def search(
    db: Database,
    project_id: str,
    typed: str,
    *,
    limit: int = 50,
    offset: int = 0,
    order: Order = Order.DOCUMENT,
) -> SearchResults:
    """Find what the writer typed in a project's working text (never raises for any text)."""
    expression = match_expression(typed)
    if expression is None:
        return SearchResults(typed, (), 0)
    order_by = "p.path, p.ordinal" if order is Order.DOCUMENT else "paragraphs_fts.rank"
    marks = f"char({ord(_OPEN)}), char({ord(_CLOSE)})"
    # CROSS JOIN keeps the FTS table the outer loop: otherwise SQLite may walk the
    # project's paragraphs by index and run the MATCH once per paragraph (seconds).
    # Snippets in this same query cost little; fetching them afterwards by rowid would
    # evaluate the whole MATCH again for each row (0.1-0.6 s for "a*" on a novel).
    query = f"""
        SELECT p.path, p.ordinal, p.start, p.line,
               snippet(paragraphs_fts, 0, {marks}, '…', {SNIPPET_TOKENS}),
               highlight(paragraphs_fts, 0, {marks})
        FROM paragraphs_fts CROSS JOIN paragraphs AS p ON p.id = paragraphs_fts.rowid
        WHERE paragraphs_fts MATCH :q AND p.project_id = :project
        ORDER BY {order_by} LIMIT :limit OFFSET :offset
    """
    params = {"q": expression, "project": project_id, "limit": limit, "offset": offset}
    hits = []
    for path, ordinal, start, line, snippet, marked in db.execute(query, params):
        first, after = _first_match(marked)
        hits.append(
            SearchHit(
                path=path,
                paragraph=ordinal,
                start=start,
                line=line,
                match_start=start + first,
                match_end=start + after,
                snippet=_segments(snippet),
            )
        )
    total = db.execute(
        """SELECT count(*)
           FROM paragraphs_fts CROSS JOIN paragraphs AS p ON p.id = paragraphs_fts.rowid
           WHERE paragraphs_fts MATCH ? AND p.project_id = ?""",
        [expression, project_id],
    ).fetchone()[0]
    return SearchResults(typed, tuple(hits), total)
