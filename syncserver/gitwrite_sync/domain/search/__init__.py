"""Full-text search over the current text of every file on every branch (DESIGN §7).

- `query`: what a reader types → a query no database can refuse (web-search syntax).
- `chunks`: a file's text → pieces of a few paragraphs (~2 KB), each with its line.
- `index`: `SearchIndex`, the stored index and the interface both databases implement:
  `postgres` (``tsvector``, GIN, ``websearch_to_tsquery``, ``ts_rank``, ``ts_headline``)
  and `sqlite` (FTS5, ``bm25()``, ``snippet()``).
- `indexer`: the ``index_push`` job's work: only the files that changed since the index
  last saw each branch; `jobs` registers it with the worker.
- `service`, `controller`, `schemas`: ``GET /repositories/{name}/search``.

Words are matched as written, lower-cased, with no stemming and no stop words
(PostgreSQL's ``simple`` configuration; SQLite's ``unicode61`` tokenizer): the same on
both databases and on the desktop's search, and right for a manuscript in any language.
"""

from gitwrite_sync.domain.search.index import FileHit, SearchIndex, index_for
from gitwrite_sync.domain.search.indexer import Indexer, IndexReport
from gitwrite_sync.domain.search.jobs import CATCH_UP_JOB, INDEX_JOB, index_repository
from gitwrite_sync.domain.search.jobs import register as register_jobs
from gitwrite_sync.domain.search.query import SearchQuery, parse
from gitwrite_sync.domain.search.service import SearchService

__all__ = [
    "CATCH_UP_JOB",
    "INDEX_JOB",
    "FileHit",
    "IndexReport",
    "Indexer",
    "SearchIndex",
    "SearchQuery",
    "SearchService",
    "index_for",
    "index_repository",
    "parse",
    "register_jobs",
]
