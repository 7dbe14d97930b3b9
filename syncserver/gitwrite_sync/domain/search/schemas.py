"""Response bodies of ``GET /repositories/{name}/search``."""

from __future__ import annotations

import msgspec


class Span(msgspec.Struct, frozen=True):
    """Characters ``start`` (included) to ``end`` (excluded) of a snippet."""

    start: int
    end: int


class SearchResult(msgspec.Struct, frozen=True):
    file: str
    """The file's path in the project."""
    exploration: str
    """The exploration (branch) this text is on: the main story when it is among them."""
    explorations: list[str]
    """Every exploration whose current version of ``file`` is this same text, the main
    story first."""
    line: int
    """The line of the file where the best matching passage starts (from 1)."""
    snippet: str
    """Words around the matches, white space folded."""
    highlights: list[Span]
    """Where the matches are in ``snippet``."""
    snippet_html: str
    """``snippet`` escaped for HTML, each match in ``<mark>``."""
    rank: float
    """Relevance: higher is better; compare ranks within one response only."""


class SearchResponse(msgspec.Struct, frozen=True):
    query: str
    results: list[SearchResult]
