"""The cache's schema, as the ordered steps that built it.

The schema version is SQLite's ``user_version``; ``application_id`` marks the file as a
GitWrite cache. A new file runs every step from version 0; a file of an older version
runs the steps after its own. Each step runs in one transaction with the version bump,
so a crash mid-upgrade leaves the old version intact. A released step is never edited:
a change to the schema is a new step at the end, plus a fixture file of the version
before it for the upgrade tests (see ``tests/unit/desktop/fixtures``).

Versions:

1. the workspace mirror (projects, accounts, shares), sync state per shared project,
   and one row per save for the words-per-day figures (with the branch heads already
   walked);
2. the full-text index of the working text: one row per file (its stat, git blob id,
   whether it is text, word count) and per paragraph, with an FTS5 index on paragraphs
   (unicode61, diacritics folded, prefix indexes of 1 to 3 characters for search as the
   writer types);
3. the annotation index and the server's last known heads per shared project; projects
   remember the annotations ref they were indexed at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlite_utils import Database

APPLICATION_ID = 0x47574348  # "GWCH"
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


def _v1(db: Database) -> None:
    db.table("projects").create(
        {"id": str, "path": str, "name": str, "added_at": str, "last_opened_at": str},
        pk="id",
        not_null={"path", "name"},
    )
    db.table("accounts").create(
        {"id": str, "server_url": str, "email": str, "display_name": str},
        pk="id",
        not_null={"server_url", "email", "display_name"},
    )
    db.table("shares").create(
        {"project_id": str, "account_id": str, "repository": str, "remote": str},
        pk=("project_id", "account_id"),
        not_null={"repository", "remote"},
    )
    db.table("sync_state").create(
        {
            "project_id": str,
            "account_id": str,
            "last_seq": int,
            "needs_push": int,
            "last_error": str,
            "last_error_at": str,
            "last_synced_at": str,
        },
        pk=("project_id", "account_id"),
        not_null={"last_seq", "needs_push"},
        defaults={"last_seq": 0, "needs_push": 0},
    )
    db.table("saves").create(
        {
            "project_id": str,
            "id": str,
            "time": str,
            "day": str,
            "author_email": str,
            "words_added": int,
            "words_removed": int,
            "merge": int,
        },
        pk=("project_id", "id"),
        not_null={"time", "day", "words_added", "words_removed", "merge"},
    )
    db.table("saves").create_index(["project_id", "day"], index_name="saves_by_day")
    db.table("walked_heads").create(
        {"project_id": str, "ref": str, "head": str}, pk=("project_id", "ref"), not_null={"head"}
    )


def _v2(db: Database) -> None:
    db.table("files").create(
        {
            "project_id": str,
            "path": str,
            "mtime_ns": int,
            "size": int,
            "blob": str,
            "text": int,
            "words": int,
        },
        pk=("project_id", "path"),
        not_null={"mtime_ns", "size", "blob", "text", "words"},
    )
    db.table("paragraphs").create(
        {
            "id": int,
            "project_id": str,
            "path": str,
            "ordinal": int,
            "start": int,
            "line": int,
            "text": str,
        },
        pk="id",
        not_null={"project_id", "path", "ordinal", "start", "line", "text"},
    )
    db.table("paragraphs").create_index(
        ["project_id", "path", "ordinal"], index_name="paragraphs_at"
    )
    # External-content FTS5 kept in step by triggers; written out rather than made by
    # sqlite-utils' enable_fts, which has no prefix option and may change its DDL.
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE paragraphs_fts USING fts5(
            text, content='paragraphs', content_rowid='id',
            tokenize='{FTS_TOKENIZER}', prefix='1 2 3'
        );
        CREATE TRIGGER paragraphs_ai AFTER INSERT ON paragraphs BEGIN
            INSERT INTO paragraphs_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER paragraphs_ad AFTER DELETE ON paragraphs BEGIN
            INSERT INTO paragraphs_fts(paragraphs_fts, rowid, text)
                VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER paragraphs_au AFTER UPDATE ON paragraphs BEGIN
            INSERT INTO paragraphs_fts(paragraphs_fts, rowid, text)
                VALUES ('delete', old.id, old.text);
            INSERT INTO paragraphs_fts(rowid, text) VALUES (new.id, new.text);
        END;
        """
    )


def _v3(db: Database) -> None:
    db.table("projects").add_column("annotations_head", str)
    db.table("annotations").create(
        {
            "project_id": str,
            "id": str,
            "parent": str,
            "path": str,
            "kind": str,
            "status": str,
            "start": int,
            "end": int,
            "start_line": int,
            "end_line": int,
            "quote": str,
            "body": str,
            "suggestion": str,
            "author": str,
            "author_email": str,
            "time": str,
            "save": str,
        },
        pk=("project_id", "id"),
        not_null={"path", "kind", "status", "start", "end", "quote", "body", "time", "save"},
    )
    db.table("annotations").create_index(
        ["project_id", "path", "start"], index_name="annotations_by_position"
    )
    db.table("annotations").create_index(
        ["project_id", "status"], index_name="annotations_by_status"
    )
    db.table("server_heads").create(
        {"project_id": str, "account_id": str, "ref": str, "head": str},
        pk=("project_id", "account_id", "ref"),
        not_null={"head"},
    )


STEPS: tuple[Callable[[Database], None], ...] = (_v1, _v2, _v3)
"""Step ``i`` upgrades a file of version ``i`` to version ``i + 1``."""

VERSION = len(STEPS)
"""The schema version this code writes."""
