"""Tables. One schema serves SQLite (embedded default) and PostgreSQL (cluster).

Git data lives in ``git_objects``: one row per object, holding either the whole object or
a delta against another object of the same repository (``base_sha``; chains are capped at
``MAX_DELTA_DEPTH``), zlib-compressed. That is a pack split into rows with its index
built in: a 600 KB chapter saved 1,000 times costs one full copy plus 999 small deltas.
Refs move only by compare-and-swap; every accepted ref change appends one ``events`` row
numbered by the repository's ``seq`` counter, in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MAX_DELTA_DEPTH = 50

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back an aware UTC datetime.

    SQLite stores no offset and returns naive values, which cannot be compared with the
    aware ones Postgres returns; values are converted to UTC on the way in and tagged UTC
    on the way out, so code sees the same thing on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """A refresh token (only its SHA-256 is stored). Rotated on use: the used one is revoked
    and points at its replacement; reuse of a revoked token revokes its whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RevokedAccessToken(Base):
    """Access tokens revoked before they expire (logout), by their ``jti``."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RateCounter(Base):
    """Fixed-window counters (login attempts), incremented atomically with an upsert."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (Index("ix_repositories_owner_updated", "owner_id", "updated_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    default_branch: Mapped[str] = mapped_column(String(200), default="main")
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Collaborator(Base):
    """A user's role on a repository: owner, editor, writer or beta_reader."""

    __tablename__ = "collaborators"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GitObject(Base):
    __tablename__ = "git_objects"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    type_num: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    base_sha: Mapped[str | None] = mapped_column(String(40), nullable=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Ref(Base):
    __tablename__ = "refs"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(400), primary_key=True)
    sha: Mapped[str] = mapped_column(String(40))


class Event(Base):
    """The append-only log: one row per accepted ref change, numbered per repository."""

    __tablename__ = "events"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ref: Mapped[str] = mapped_column(String(400))
    old_sha: Mapped[str | None] = mapped_column(String(40), nullable=True)
    new_sha: Mapped[str | None] = mapped_column(String(40), nullable=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommitRow(Base):
    """The commit index history needs: every commit of a repository with its time."""

    __tablename__ = "commits"
    __table_args__ = (Index("ix_commits_repo_created", "repo_id", "created_at"),)

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    sha: Mapped[str] = mapped_column(String(40), primary_key=True)
    tree: Mapped[str] = mapped_column(String(40))
    parents: Mapped[str] = mapped_column(Text, default="")
    author_name: Mapped[str] = mapped_column(String(200))
    author_email: Mapped[str] = mapped_column(String(320))
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_removed: Mapped[int] = mapped_column(Integer, default=0)


class Job(Base):
    """The durable queue of background work, claimed with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_at", "state", "run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SearchHead(Base):
    """How far full-text search has got: the commit each branch was last indexed at."""

    __tablename__ = "search_heads"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    branch: Mapped[str] = mapped_column(String(400), primary_key=True)
    commit_sha: Mapped[str] = mapped_column(String(40))


class SearchFile(Base):
    """The text each file of each branch holds, by blob id (its words are in
    ``search_chunks``, once per blob however many branches and paths share it)."""

    __tablename__ = "search_files"
    __table_args__ = (Index("ix_search_files_repo_blob", "repo_id", "blob_sha"),)

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    branch: Mapped[str] = mapped_column(String(400), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    blob_sha: Mapped[str] = mapped_column(String(40))


class SearchChunk(Base):
    """A piece (a few paragraphs, ~2 KB) of a text blob, as written, for full-text search.

    Each database indexes ``text`` its own way, outside these models (migrations 0002
    and 0003; `search_native`): PostgreSQL in a generated ``tsv`` column with a GIN index
    on (``repo_id``, ``tsv``), SQLite in the FTS5 table ``search_fts`` that triggers keep
    in step with this one.
    """

    __tablename__ = "search_chunks"
    __table_args__ = (UniqueConstraint("repo_id", "blob_sha", "ordinal"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    blob_sha: Mapped[str] = mapped_column(String(40))
    ordinal: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)
    """The line of the file the piece starts on (from 1)."""
    text: Mapped[str] = mapped_column(Text)


SEARCH_NATIVE_TABLE_PREFIX = "search_fts"
"""SQLite's FTS5 table ``search_fts`` and its shadow tables (``search_fts_data``...)."""
SEARCH_NATIVE_COLUMNS = frozenset({("search_chunks", "tsv")})
SEARCH_NATIVE_INDEXES = frozenset({"ix_search_chunks_tsv", "ix_search_chunks_repo_tsv"})


def search_native(name: str | None, type_: str, table: str | None = None) -> bool:
    """Whether a schema object is one of the full-text parts each database builds its own
    way (migration 0002) and the models leave out; Alembic's comparisons skip them."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(SEARCH_NATIVE_TABLE_PREFIX)
    if type_ == "column":
        return (table, name) in SEARCH_NATIVE_COLUMNS
    if type_ == "index":
        return name in SEARCH_NATIVE_INDEXES
    return False


__all__ = [
    "MAX_DELTA_DEPTH",
    "Base",
    "Collaborator",
    "CommitRow",
    "Event",
    "GitObject",
    "Job",
    "RateCounter",
    "Ref",
    "RefreshToken",
    "Repository",
    "RevokedAccessToken",
    "SearchChunk",
    "SearchFile",
    "SearchHead",
    "UTCDateTime",
    "User",
    "search_native",
]
