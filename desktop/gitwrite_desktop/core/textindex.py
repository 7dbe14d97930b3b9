"""The full-text index of a project's working text: files on disk, paragraph by paragraph.

Each text file of the working folder (what the writer sees, saved or not; hidden files
such as ``.gitignore`` left out) is split into
paragraphs (`gitwrite.prose.split_paragraphs`); each paragraph is one row with its
offset in the file and its line, so a search result can show a snippet and the editor
can jump to it. The FTS5 table over those rows is kept in step by triggers
(`gitwrite_desktop.core.cache_schema`, version 2).

Updates are incremental: a file is read again only when its size or modification time
differs from what was indexed, and its paragraphs are replaced only when its content
(git blob id) changed. As git does for its index, a file modified in the last
`RACY_SECONDS` before indexing is remembered with an impossible time, so an edit
within the file system's time resolution is not missed on the next refresh.

Offsets count Unicode code points of the file's text (Python indices), like
`gitwrite.anchoring`.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dulwich.ignore import IgnoreFilterManager
from dulwich.objects import Blob

from gitwrite.prose import count_words, split_paragraphs
from gitwrite.texts import decode_text
from gitwrite.worktree import walk_files

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlite_utils import Database

    from gitwrite.project import Project

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Larger files are listed with their size but not read into the index."""
RACY_SECONDS = 2.0
MARKERS = "\x02\x03"
"""Characters the search marks matches with; replaced by spaces in indexed text."""
_NO_MARKERS = str.maketrans(MARKERS, "  ")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph: its text (outer white space trimmed), where it starts, its line."""

    ordinal: int
    start: int
    line: int
    text: str


def paragraphs(text: str) -> list[Paragraph]:
    """The non-blank paragraphs of a text with their offsets (1-based lines)."""
    found: list[Paragraph] = []
    offset = 0
    line = 1
    for piece in split_paragraphs(text):
        body = piece.strip()
        if body:
            lead = len(piece) - len(piece.lstrip())
            start = offset + lead
            found.append(Paragraph(len(found), start, line + piece.count("\n", 0, lead), body))
        offset += len(piece)
        line += piece.count("\n")
    return found


def hidden(path: str) -> bool:
    """Whether a path is hidden (a part starts with "."): ``.gitignore`` is not prose."""
    return any(part.startswith(".") for part in path.split("/"))


def working_files(project: Project) -> dict[str, os.stat_result]:
    """Every regular file of the working folder that git would see (ignored ones left out,
    unless saved) and that is not hidden, with its stat."""
    root = str(project.root)
    ignore = IgnoreFilterManager.from_repo(project.repo)
    found = {}
    for path in walk_files(root, ignore, project.head_entries()):
        if hidden(path):
            continue
        try:
            st = os.lstat(os.path.join(root, path))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found[path] = st
    return found


def _stat_of(project: Project, paths: Iterable[str]) -> dict[str, os.stat_result]:
    found = {}
    for path in paths:
        if hidden(path):
            continue
        try:
            st = os.lstat(project.root / path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found[path] = st
    return found


class TextIndex:
    """Writes the index of one project (on the worker thread, inside its transactions)."""

    def __init__(self, db: Database, project_id: str) -> None:
        self.db = db
        self.project_id = project_id

    def known(self) -> dict[str, tuple[int, int, str]]:
        """Indexed path → (mtime_ns, size, blob id)."""
        return {
            r["path"]: (r["mtime_ns"], r["size"], r["blob"])
            for r in self.db.query(
                "SELECT path, mtime_ns, size, blob FROM files WHERE project_id = ?",
                [self.project_id],
            )
        }

    def refresh(self, project: Project, paths: Iterable[str] | None = None) -> set[str]:
        """Bring the index up to date with the working folder (or only ``paths``).

        Returns the paths whose indexed content changed (added, edited or removed).
        """
        known = self.known()
        if paths is None:
            on_disk = working_files(project)
            candidates = set(known) | set(on_disk)
        else:
            candidates = set(paths)
            on_disk = _stat_of(project, candidates)
        changed: set[str] = set()
        racy_after = time.time_ns() - int(RACY_SECONDS * 1e9)
        with self.db.atomic():
            for path in sorted(candidates):
                st = on_disk.get(path)
                if st is None:
                    if path in known:
                        self._remove(path)
                        changed.add(path)
                    continue
                before = known.get(path)
                if before is not None and before[:2] == (st.st_mtime_ns, st.st_size):
                    continue
                mtime = st.st_mtime_ns if st.st_mtime_ns < racy_after else -1
                if self._index(project, path, st, mtime, before[2] if before else None):
                    changed.add(path)
        return changed

    def _index(
        self, project: Project, path: str, st: os.stat_result, mtime: int, old_blob: str | None
    ) -> bool:
        """(Re)index one file; False when its content is what was indexed already."""
        text: str | None = None
        if st.st_size <= MAX_FILE_BYTES:
            try:
                data = (project.root / path).read_bytes()
            except OSError:
                return False  # gone or unreadable meanwhile: the next refresh sees it
            blob = Blob.from_string(data).id.decode()
            text = decode_text(data)
        else:
            blob = f"large:{st.st_size}:{st.st_mtime_ns}"
        if blob == old_blob:
            # Unchanged (a file written in the last RACY_SECONDS is read again each time,
            # as git does): only its stat is new; its words are what they were.
            self.db.execute(
                "UPDATE files SET mtime_ns = ?, size = ? WHERE project_id = ? AND path = ?",
                [mtime, st.st_size, self.project_id, path],
            )
            return False
        row = {
            "project_id": self.project_id,
            "path": path,
            "mtime_ns": mtime,
            "size": st.st_size,
            "blob": blob,
            "text": int(text is not None),
            "words": count_words(text) if text is not None else 0,
        }
        self.db.execute(
            "DELETE FROM paragraphs WHERE project_id = ? AND path = ?", [self.project_id, path]
        )
        self.db.table("files").upsert(row, pk=("project_id", "path"))
        if text is not None:
            if MARKERS[0] in text or MARKERS[1] in text:
                text = text.translate(_NO_MARKERS)
            # executemany on the same connection and transaction: insert_all's per-row
            # conversions were a third of the time of indexing a novel.
            self.db.conn.executemany(
                "INSERT INTO paragraphs (project_id, path, ordinal, start, line, text)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (self.project_id, path, p.ordinal, p.start, p.line, p.text)
                    for p in paragraphs(text)
                ],
            )
        return True

    def _remove(self, path: str) -> None:
        for table in ("paragraphs", "files"):
            self.db.execute(
                f"DELETE FROM {table} WHERE project_id = ? AND path = ?", [self.project_id, path]
            )


def file_words(db: Database, project_id: str) -> dict[str, int]:
    """Words per text file of the working folder, as last indexed (for the file tree)."""
    return {
        r["path"]: r["words"]
        for r in db.query(
            "SELECT path, words FROM files WHERE project_id = ? AND text = 1 ORDER BY path",
            [project_id],
        )
    }
