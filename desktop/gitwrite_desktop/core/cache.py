"""The workspace's SQLite cache: one file, ``cache.sqlite3``, in the app data folder.

It holds what the views ask for often and the repositories answer slowly: the mirror of
the workspace (projects, accounts, shares), sync state, the full-text index of the
working text, the annotation index and one row per save for words per day. Everything
in it can be rebuilt from the workspace record and the repositories
(`gitwrite_desktop.core.indexer.Indexer.rebuild`), so it is treated as disposable:

* a file that SQLite cannot read, that fails ``PRAGMA quick_check``, that belongs to
  another application or whose upgrade fails is moved aside
  (``cache.sqlite3.corrupt-<time>``) and a new one is made;
* a file written by a newer GitWrite (a schema version this code does not know) is
  moved aside too (``cache.sqlite3.newer-v<N>-<time>``), untouched;
* an older file is upgraded step by step (`gitwrite_desktop.core.cache_schema`).

The new file is then `fresh` and the caller rebuilds it. Nothing here raises for a bad
file; only a folder that cannot be written at all does (`DiskError`).

Threads: the `Cache` connection belongs to the desktop's worker thread, the only writer.
Readers (search as the writer types) open their own read-only connection with
`Cache.reader`; the file is in WAL mode, so they never wait for the writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from gitwrite_desktop.core import cache_schema
from gitwrite_desktop.core.errors import DiskError
from gitwrite_desktop.core.files import move_aside
from gitwrite_desktop.core.workspace import Account, ProjectEntry, Record, Share

log = logging.getLogger(__name__)

FILE_NAME = "cache.sqlite3"
DERIVED_TABLES = (
    "sync_state",
    "server_heads",
    "saves",
    "walked_heads",
    "files",
    "paragraphs",
    "annotations",
)
"""Tables filled from the repositories; `clear_derived` empties them for a rebuild."""


class Unusable(Exception):
    """The cache file cannot be used as it is; ``tag`` names the file moved aside."""

    def __init__(self, tag: str, reason: str) -> None:
        super().__init__(reason)
        self.tag = tag
        self.reason = reason


def open_reader(path: Path) -> Database:
    """A read-only connection to the cache file (for a reader thread)."""
    return _connect(path, read_only=True)


def _connect(path: Path, *, read_only: bool = False) -> Database:
    if read_only:
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=5, check_same_thread=False
        )
    else:
        # One connection for the worker thread; opened wherever the cache is opened.
        conn = sqlite3.connect(str(path), timeout=5, check_same_thread=False)
    return Database(conn, execute_plugins=False)


def _pragma(db: Database, name: str) -> int:
    row = db.execute(f"PRAGMA {name}").fetchone()
    return int(row[0]) if row else 0


def _prepare(path: Path) -> tuple[Database, int]:
    """Open, check and upgrade the file; returns it and the version it had (0 if new)."""
    try:
        db = _connect(path)
    except sqlite3.Error as exc:
        raise Unusable("corrupt", str(exc)) from exc
    try:
        version = _pragma(db, "user_version")
        app = _pragma(db, "application_id")
        if version > cache_schema.VERSION:
            raise Unusable(f"newer-v{version}", f"schema version {version} is newer than known")
        has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if app != cache_schema.APPLICATION_ID and (app != 0 or version != 0 or has_tables):
            raise Unusable("corrupt", f"not a GitWrite cache (application id {app:#x})")
        if has_tables:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise Unusable("corrupt", f"quick_check: {check}")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA cache_size=-32000")  # 32 MB: FTS5 merges its segments in memory
        for number in range(version, cache_schema.VERSION):
            with db.atomic():
                cache_schema.STEPS[number](db)
                db.execute(f"PRAGMA user_version={number + 1}")
                db.execute(f"PRAGMA application_id={cache_schema.APPLICATION_ID}")
            if version:
                log.info("cache %s upgraded to schema version %d", path, number + 1)
    except sqlite3.Error as exc:
        db.close()
        raise Unusable("corrupt", str(exc)) from exc
    except Unusable:
        db.close()
        raise
    return db, version


def _move_aside(path: Path, tag: str) -> Path:
    moved = move_aside(path, tag)
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            # A stale WAL beside a new file would be replayed into it: move it along.
            os.replace(companion, Path(f"{moved}{suffix}"))
    return moved


class Cache:
    """The writer's connection to the cache file (owned by the worker thread).

    Attributes:
        path: the cache file.
        db: the sqlite-utils database over the one write connection.
        fresh: the file was just made (new, or the old one moved aside): rebuild it.
        upgraded_from: the schema version the file had when it was upgraded, else None.
        moved_aside: where an unusable file went, and ``reason`` why.
    """

    def __init__(self, path: Path, db: Database, version: int) -> None:
        self.path = path
        self.db = db
        self.fresh = version == 0
        self.upgraded_from = version if 0 < version < cache_schema.VERSION else None
        self.moved_aside: Path | None = None
        self.reason = ""

    @classmethod
    def open(cls, folder: str | Path) -> Cache:
        """Open (making, upgrading or replacing as needed) the cache in ``folder``."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DiskError(str(folder), exc.strerror or str(exc)) from exc
        path = folder / FILE_NAME
        try:
            db, version = _prepare(path)
            return cls(path, db, version)
        except Unusable as exc:
            log.warning("cache %s is unusable (%s); moving it aside", path, exc.reason)
            bad = exc
            moved = _move_aside(path, bad.tag)
        try:
            db, version = _prepare(path)
        except Unusable as exc:  # a brand-new file must work: the folder is the problem
            raise DiskError(str(path), exc.reason) from exc
        cache = cls(path, db, version)
        cache.moved_aside, cache.reason = moved, bad.reason
        return cache

    def write(self) -> AbstractContextManager[Database]:
        """One transaction (nested calls become savepoints)."""
        return self.db.atomic()

    def reader(self) -> Database:
        """A new read-only connection to the same file (for a reader thread)."""
        return open_reader(self.path)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA optimize")
        self.db.close()

    # -- the workspace mirror -------------------------------------------------------

    def mirror_workspace(self, record: Record) -> None:
        """Make the projects, accounts and shares tables hold exactly ``record``; rows
        derived from a project or share no longer in it are dropped."""
        with self.write():
            keep = {p.id for p in record.projects}
            for gone in {r["id"] for r in self.db.query("SELECT id FROM projects")} - keep:
                self.forget_project(gone)
            self.db.table("projects").upsert_all(
                [
                    {
                        "id": p.id,
                        "path": p.path,
                        "name": p.name,
                        "added_at": p.added_at.isoformat(),
                        "last_opened_at": p.last_opened_at.isoformat()
                        if p.last_opened_at
                        else None,
                    }
                    for p in record.projects
                ],
                pk="id",
            )
            self.db.execute("DELETE FROM accounts")
            self.db.table("accounts").insert_all(
                [
                    {
                        "id": a.id,
                        "server_url": a.server_url,
                        "email": a.email,
                        "display_name": a.display_name,
                    }
                    for a in record.accounts
                ]
            )
            self.db.execute("DELETE FROM shares")
            self.db.table("shares").insert_all(
                [
                    {
                        "project_id": s.project_id,
                        "account_id": s.account_id,
                        "repository": s.repository,
                        "remote": s.remote,
                    }
                    for s in record.shares
                ]
            )
            shared = {(s.project_id, s.account_id) for s in record.shares}
            for table in ("sync_state", "server_heads"):
                rows = self.db.query(f"SELECT DISTINCT project_id, account_id FROM {table}")
                for row in rows:
                    if (row["project_id"], row["account_id"]) not in shared:
                        self.db.execute(
                            f"DELETE FROM {table} WHERE project_id = ? AND account_id = ?",
                            [row["project_id"], row["account_id"]],
                        )

    def forget_project(self, project_id: str) -> None:
        """Drop every row about a project (it left the workspace)."""
        with self.write():
            for table in (*DERIVED_TABLES, "shares"):
                self.db.execute(f"DELETE FROM {table} WHERE project_id = ?", [project_id])
            self.db.execute("DELETE FROM projects WHERE id = ?", [project_id])

    def clear_derived(self, project_id: str | None = None) -> None:
        """Empty what the repositories can refill (for one project, or all)."""
        with self.write():
            for table in DERIVED_TABLES:
                if project_id is None:
                    self.db.execute(f"DELETE FROM {table}")
                else:
                    self.db.execute(f"DELETE FROM {table} WHERE project_id = ?", [project_id])
            if project_id is None:
                self.db.execute("UPDATE projects SET annotations_head = NULL")
            else:
                self.db.execute(
                    "UPDATE projects SET annotations_head = NULL WHERE id = ?", [project_id]
                )

    def mirrored_record(self) -> Record:
        """The workspace as last mirrored here (to refill a lost or corrupt workspace file)."""
        projects = [
            ProjectEntry(
                id=r["id"],
                path=r["path"],
                name=r["name"],
                added_at=datetime.fromisoformat(r["added_at"]),
                last_opened_at=datetime.fromisoformat(r["last_opened_at"])
                if r["last_opened_at"]
                else None,
            )
            for r in self.db.query("SELECT * FROM projects ORDER BY added_at")
        ]
        accounts = [
            Account(
                id=r["id"],
                server_url=r["server_url"],
                email=r["email"],
                display_name=r["display_name"],
            )
            for r in self.db.query("SELECT * FROM accounts")
        ]
        shares = [
            Share(
                project_id=r["project_id"],
                account_id=r["account_id"],
                repository=r["repository"],
                remote=r["remote"],
            )
            for r in self.db.query("SELECT * FROM shares")
        ]
        return Record(projects=projects, accounts=accounts, shares=shares)
