"""Compare the files on disk with a save, using the git index as a cache of file stats.

A file whose size and modification time match its index entry is taken to hold the
index's blob without being read; every other file is read and hashed. Status is thus one
``lstat`` per file for an unchanged project, and one read per changed file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dulwich.ignore import IgnoreFilterManager
from dulwich.index import Index, IndexEntry, cleanup_mode, index_entry_from_stat
from dulwich.objects import Blob, ObjectID

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dulwich.repo import Repo

TEMP_SUFFIX = ".gitwrite-tmp"
"""Files are written under ``.<name>.gitwrite-tmp`` and renamed into place."""

TreeEntries = dict[str, tuple[int, ObjectID]]
"""A flattened tree: project-relative path → (mode, blob id)."""


@dataclass(slots=True)
class DiskFile:
    """A file as found on disk: its blob id, and its content when it had to be read."""

    path: str
    mode: int
    sha: ObjectID
    stat: os.stat_result
    data: bytes | None = None


def _stat_matches(entry: IndexEntry, st: os.stat_result) -> bool:
    mtime = entry.mtime
    if isinstance(mtime, tuple):
        same_time = mtime == (st.st_mtime_ns // 1_000_000_000, st.st_mtime_ns % 1_000_000_000)
    else:
        same_time = int(mtime) == int(st.st_mtime)
    return (
        same_time
        and entry.size == (st.st_size & 0xFFFFFFFF)
        and entry.mode == cleanup_mode(st.st_mode)
    )


def walk_files(root: str, ignore: IgnoreFilterManager, tracked: TreeEntries) -> Iterator[str]:
    """Every file under ``root`` except ``.git``, yielding tracked files even when ignored."""
    root_len = len(root) + 1
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = dirpath[root_len:].replace(os.sep, "/")
        kept = []
        for name in dirnames:
            if name == ".git":
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if ignore.is_ignored(rel + "/") and not any(p.startswith(rel + "/") for p in tracked):
                continue
            kept.append(name)
        dirnames[:] = sorted(kept)
        for name in sorted(filenames):
            if name.endswith(TEMP_SUFFIX):
                continue  # a write interrupted by a crash; never part of the manuscript
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel in tracked or not ignore.is_ignored(rel):
                yield rel


def read_disk_file(root: str, path: str, st: os.stat_result) -> DiskFile:
    full = os.path.join(root, path)
    if stat.S_ISLNK(st.st_mode):
        data = os.fsencode(os.readlink(full))
    else:
        with open(full, "rb") as f:
            data = f.read()
    blob = Blob.from_string(data)
    return DiskFile(path, cleanup_mode(st.st_mode), blob.id, st, data)


def scan(repo: Repo, index: Index, tracked: TreeEntries) -> dict[str, DiskFile]:
    """Every file on disk, keyed by path, with its blob id (hashing only what changed)."""
    root = os.path.abspath(repo.path)
    ignore = IgnoreFilterManager.from_repo(repo)
    found: dict[str, DiskFile] = {}
    for path in walk_files(root, ignore, tracked):
        try:
            st = os.lstat(os.path.join(root, path))
        except FileNotFoundError:
            continue
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            continue
        key = path.encode("utf-8", "surrogateescape")
        entry = index[key] if key in index else None  # noqa: SIM401 (Index has no .get)
        if isinstance(entry, IndexEntry) and _stat_matches(entry, st):
            found[path] = DiskFile(path, entry.mode, entry.sha, st)
        else:
            found[path] = read_disk_file(root, path, st)
    return found


def index_entry(file: DiskFile) -> IndexEntry:
    return index_entry_from_stat(file.stat, file.sha, mode=file.mode)
