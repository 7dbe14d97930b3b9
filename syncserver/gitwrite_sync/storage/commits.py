"""The commit index: one ``commits`` row per stored commit, for history and graph walks.

A row holds what history shows without reading the object (author, summary, time, words
added and removed from the ``GitWrite-Words`` trailer) and what walks need (tree and
parents, space-separated, first parent first).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dulwich.objects import Commit
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite.trailers import split_word_trailer
from gitwrite_sync.db.models import CommitRow

_TABLE = CommitRow.__table__
_BATCH = 500


def _text(raw: bytes, limit: int) -> str:
    # PostgreSQL's text refuses NUL, which git allows in names and messages.
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")[:limit]


def _identity(raw: bytes) -> tuple[str, str]:
    """Name and email of ``Name <email>``."""
    name, _, rest = raw.partition(b"<")
    return _text(name.strip(), 200), _text(rest.partition(b">")[0].strip(), 320)


def commit_row(repo_id: int, commit: Commit) -> dict[str, Any]:
    """The index row of ``commit``."""
    message = _text(commit.message, len(commit.message))
    body, words = split_word_trailer(message)
    added, removed = words if words is not None else (0, 0)
    name, email = _identity(commit.author)
    return {
        "repo_id": repo_id,
        "sha": commit.id.decode(),
        "tree": commit.tree.decode(),
        "parents": " ".join(p.decode() for p in commit.parents),
        "author_name": name,
        "author_email": email,
        "summary": body.strip().partition("\n")[0][:1000],
        "created_at": datetime.fromtimestamp(commit.author_time, UTC),
        "words_added": min(added, 2**31 - 1),
        "words_removed": min(removed, 2**31 - 1),
    }


async def index_commits(session: AsyncSession, repo_id: int, commits: Iterable[Commit]) -> int:
    """Add the index rows of ``commits`` (rows already there are kept); returns how many
    were given."""
    rows = [commit_row(repo_id, c) for c in commits]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CommitRow).on_conflict_do_nothing(index_elements=["repo_id", "sha"])
    for start in range(0, len(rows), _BATCH):
        await session.execute(statement, rows[start : start + _BATCH])
    return len(rows)
