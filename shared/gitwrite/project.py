"""A writer's project: a folder of Markdown files with a git repository beside them.

`Project` turns what a writer does into git: save (commit), history (log), read a file
at a save, restore (old content as a new save), undo a save (revert) and compare (a
word-level diff). Explorations, milestones and annotations hang off it as
``project.explorations``, ``project.milestones`` and ``project.annotations``.

Every write follows the same order so a crash at any instruction leaves a repository
that ``git fsck`` accepts: objects first, then the branch (compare-and-swap), then the
index, which is only a cache of file stats.
"""

from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dulwich.errors import NotGitRepository
from dulwich.index import Index, commit_tree
from dulwich.object_store import iter_tree_contents, tree_lookup_path
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite import prose, restoring
from gitwrite.errors import (
    MergeInProgress,
    NotAProject,
    NothingToSave,
    ProjectExists,
    SaveConflict,
    UnknownFile,
    UnsavedChanges,
)
from gitwrite.history import History
from gitwrite.messages import default_message
from gitwrite.model import Author, ChangeKind, FileChange, FileComparison, SaveInfo, Status
from gitwrite.paths import check_path
from gitwrite.repository import Repository, write_index
from gitwrite.revisions import resolve
from gitwrite.texts import TextCache, decode_text
from gitwrite.trailers import add_word_trailer
from gitwrite.worktree import TEMP_SUFFIX, DiskFile, TreeEntries, index_entry, read_disk_file, scan

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from gitwrite.annotations import Annotations
    from gitwrite.comparing import Comparisons
    from gitwrite.explorations import Explorations
    from gitwrite.milestones import Milestones

DEFAULT_BRANCH = "main"
DEFAULT_AUTHOR = Author("GitWrite Writer", "writer@localhost")
GITIGNORE = """\
# Files the editor and the system make that are not part of the manuscript.
.DS_Store
Thumbs.db
desktop.ini
*~
*.swp
*.tmp
.gitwrite-cache/
"""
STARTER = "# Chapter 1\n\nWrite here. Every save keeps a version you can go back to.\n"


class Project:
    """One writer's project on disk. Not thread-safe: one worker owns each instance."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.root = Path(repo.path).resolve()
        self._tree_cache: dict[ObjectID, TreeEntries] = {}
        self._texts = TextCache()
        _use_git_loose_compression(repo)

    # -- opening --------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, author: Author | None = None, starter: bool = True
    ) -> Project:
        """Make a new project: the folder, a repository, a starter chapter, a first save."""
        root = Path(path).resolve()
        if (root / ".git").exists():
            raise ProjectExists(str(root))
        root.mkdir(parents=True, exist_ok=True)
        repo = Repository.init(str(root), default_branch=DEFAULT_BRANCH.encode())
        config = repo.get_config()
        config.set((b"core",), b"autocrlf", b"false")
        config.write_to_path()
        project = cls(repo)
        if author is not None:
            project.set_author(author)
        (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        if starter and not any(p.suffix == ".md" for p in root.iterdir()):
            (root / "chapter-01.md").write_text(STARTER, encoding="utf-8")
        project.save("Start the project")
        return project

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Project:
        """Open an existing project (any repository with a working tree, e.g. made by git)."""
        try:
            repo = Repository(str(Path(path).resolve()))
        except (NotGitRepository, FileNotFoundError, NotADirectoryError) as exc:
            raise NotAProject(str(path)) from exc
        if repo.bare:
            raise NotAProject(str(path))
        return cls(repo)

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings -------------------------------------------------------------------

    @property
    def author(self) -> Author:
        config = self.repo.get_config_stack()
        try:
            name = config.get((b"user",), b"name").decode()
            email = config.get((b"user",), b"email").decode()
        except KeyError:
            return DEFAULT_AUTHOR
        return Author(name, email)

    def set_author(self, author: Author) -> None:
        config = self.repo.get_config()
        config.set((b"user",), b"name", author.name.encode())
        config.set((b"user",), b"email", author.email.encode())
        config.write_to_path()

    # -- where we are ---------------------------------------------------------------

    @property
    def current_branch(self) -> str:
        """The exploration the working folder is on (``main`` for the main story)."""
        chain, _ = self.repo.refs.follow(Ref(b"HEAD"))
        target = chain[-1]
        return target.removeprefix(b"refs/heads/").decode()

    @property
    def head_ref(self) -> Ref:
        chain, _ = self.repo.refs.follow(Ref(b"HEAD"))
        return chain[-1]

    def head_id(self) -> ObjectID | None:
        """The id of the last save on the current exploration, or None before the first."""
        try:
            return self.repo.refs[self.head_ref]
        except KeyError:
            return None

    def tree_entries(self, tree_id: ObjectID | None) -> TreeEntries:
        """A flattened tree (path → mode, blob id), cached by tree id since trees never change."""
        if tree_id is None:
            return {}
        cached = self._tree_cache.get(tree_id)
        if cached is None:
            cached = {
                entry.path.decode("utf-8", "surrogateescape"): (entry.mode, entry.sha)
                for entry in iter_tree_contents(self.repo.object_store, tree_id)
                if entry.path is not None and entry.mode is not None and entry.sha is not None
            }
            if len(self._tree_cache) > 64:
                self._tree_cache.clear()
            self._tree_cache[tree_id] = cached
        return dict(cached)

    def head_entries(self) -> TreeEntries:
        head = self.head_id()
        if head is None:
            return {}
        commit = self.repo.object_store[head]
        assert isinstance(commit, Commit)
        return self.tree_entries(commit.tree)

    def commit(self, revision: str | None = None) -> Commit:
        """The commit a revision names (see `gitwrite.revisions.resolve`)."""
        return resolve(self.repo, revision)

    # -- status and save ------------------------------------------------------------

    def _disk(self, index: Index | None = None) -> tuple[TreeEntries, dict[str, DiskFile]]:
        head = self.head_entries()
        return head, scan(self.repo, index or self.repo.open_index(), head)

    def _blob_text(self, sha: ObjectID) -> bytes:
        cached = self._texts.get(sha)
        if cached is not None:
            return cached[0]
        blob = self.repo.object_store[sha]
        assert isinstance(blob, Blob)
        return blob.data

    def _disk_data(self, file: DiskFile) -> bytes:
        if file.data is None:
            file.data = read_disk_file(str(self.root), file.path, file.stat).data
        assert file.data is not None
        return file.data

    def _decoded(self, sha: ObjectID, data: bytes | None = None) -> str | None:
        """The text of a blob (None when binary), kept in a small cache: a save's new text
        is the next save's old text, so a writer's repeated saves never re-read it."""
        cached = self._texts.get(sha)
        if cached is not None:
            return cached[1]
        if data is None:
            data = self._blob_text(sha)
        text = decode_text(data)
        self._texts.put(sha, data, text)
        return text

    def _change(
        self, path: str, old: ObjectID | None, new: DiskFile | ObjectID | None
    ) -> FileChange:
        """One changed file with its word counts, given the old blob and the new file."""
        kind = (
            ChangeKind.ADDED
            if old is None
            else ChangeKind.DELETED
            if new is None
            else ChangeKind.MODIFIED
        )
        old_text = self._decoded(old) if old is not None else ""
        if new is None:
            new_text: str | None = ""
        elif isinstance(new, DiskFile):
            new_text = self._decoded(new.sha, self._disk_data(new))
        else:
            new_text = self._decoded(new)
        if old_text is None or new_text is None:
            return FileChange(path, kind)
        stats = prose.word_stats(old_text, new_text)
        return FileChange(path, kind, stats.added, stats.removed)

    def _changes(
        self, head: TreeEntries, disk: Mapping[str, DiskFile], only: set[str] | None = None
    ) -> list[FileChange]:
        changes = []
        for path in sorted(set(head) | set(disk)):
            if only is not None and path not in only:
                continue
            before, after = head.get(path), disk.get(path)
            if before is not None and after is not None and before == (after.mode, after.sha):
                continue
            changes.append(self._change(path, before[1] if before else None, after))
        return changes

    def status(self) -> Status:
        """Changed, new and deleted files since the last save, with words added and removed."""
        head, disk = self._disk()
        return Status(tuple(self._changes(head, disk)))

    def unsaved_paths(self, among: Iterable[str] | None = None) -> list[str]:
        """Paths whose text on disk differs from the last save (cheap: no word counts)."""
        head, disk = self._disk()
        wanted = set(among) if among is not None else set(head) | set(disk)
        return sorted(
            p
            for p in wanted
            if (head.get(p) is None) != (disk.get(p) is None)
            or (p in head and p in disk and head[p] != (disk[p].mode, disk[p].sha))
        )

    def require_saved(self, action: str, among: Iterable[str] | None = None) -> None:
        """Raise `UnsavedChanges` when unsaved work in ``among`` (or anywhere) would be lost."""
        unsaved = self.unsaved_paths(among)
        if unsaved:
            raise UnsavedChanges(unsaved, action)

    def refuse_during_merge(self, action: str) -> None:
        """Raise `MergeInProgress` while a merge waits to be completed or aborted."""
        if os.path.exists(os.path.join(self.repo.controldir(), "MERGE_HEAD")):
            state = self.explorations.merge_state()
            raise MergeInProgress(state.their_name if state else "another exploration", action)

    def save(
        self,
        message: str | None = None,
        paths: Iterable[str] | None = None,
        *,
        extra_parents: Iterable[ObjectID] = (),
        allow_empty: bool = False,
    ) -> SaveInfo:
        """Save every change, or only ``paths``, as one new save on the current exploration.

        The message defaults to a summary such as ``chapter-03.md: +120 words``. Raises
        `NothingToSave` when nothing changed (unless ``allow_empty``, used by merges), and
        `MergeInProgress` during a merge unless it is the merge save (``extra_parents``):
        a plain save would record conflict markers and drop the merge's second parent.
        """
        extra_parents = list(extra_parents)
        if not extra_parents:
            self.refuse_during_merge("save")
        only = {check_path(p) for p in paths} if paths is not None else None
        head_id = self.head_id()
        index = self.repo.open_index()
        head, disk = self._disk(index)
        changes = self._changes(head, disk, only)
        if not changes and not allow_empty:
            raise NothingToSave()
        entries = dict(head)
        store = self.repo.object_store
        for change in changes:
            key = change.path.encode("utf-8", "surrogateescape")
            if change.kind is ChangeKind.DELETED:
                entries.pop(change.path, None)
                if key in index:
                    del index[key]
                continue
            file = disk[change.path]
            store.add_object(Blob.from_string(self._disk_data(file)))
            entries[change.path] = (file.mode, file.sha)
            index[key] = index_entry(file)
        tree_id = commit_tree(
            store,
            [
                (p.encode("utf-8", "surrogateescape"), sha, mode)
                for p, (mode, sha) in entries.items()
            ],
        )
        added = sum(c.words_added for c in changes)
        removed = sum(c.words_removed for c in changes)
        text = add_word_trailer(message or default_message(changes), added, removed)
        parents = ([head_id] if head_id is not None else []) + list(extra_parents)
        commit = self._make_commit(tree_id, parents, text)
        self._move_head(head_id, commit.id)
        # Refresh stats of files that were read but unchanged, so the next status is cheap.
        for file in disk.values():
            if file.data is not None and (only is None or file.path in only):
                index[file.path.encode("utf-8", "surrogateescape")] = index_entry(file)
        write_index(index)
        return self._save_info(commit)

    def _make_commit(self, tree_id: ObjectID, parents: list[ObjectID], message: str) -> Commit:
        author = self.author.identity()
        now = int(time.time())
        offset = -time.timezone if time.localtime(now).tm_isdst <= 0 else -time.altzone
        commit = Commit()
        commit.tree = tree_id
        commit.parents = parents
        commit.author = commit.committer = author
        commit.author_time = commit.commit_time = now
        commit.author_timezone = commit.commit_timezone = offset
        commit.encoding = b"UTF-8"
        commit.message = message.encode("utf-8")
        self.repo.object_store.add_object(commit)
        return commit

    def _move_head(self, old: ObjectID | None, new: ObjectID) -> None:
        ref = self.head_ref
        moved = (
            self.repo.refs.add_if_new(ref, new)
            if old is None
            else self.repo.refs.set_if_equals(ref, old, new)
        )
        if not moved:
            raise SaveConflict(old.decode() if old else None, _maybe(self.head_id()))

    # -- history --------------------------------------------------------------------

    def history(
        self,
        limit: int = 50,
        *,
        skip: int = 0,
        start: str | None = None,
        path: str | None = None,
    ) -> list[SaveInfo]:
        """Saves newest first, ``limit`` at a time after skipping ``skip``; optionally only
        those that changed ``path``, and starting from another exploration or save."""
        return self._history.list(limit, skip=skip, start=start, path=path)

    def save_info(self, revision: str) -> SaveInfo:
        """One save, by any name a writer may give it."""
        return self._history.info(self.commit(revision))

    def _save_info(self, commit: Commit) -> SaveInfo:
        return self._history.info(commit)

    @cached_property
    def _history(self) -> History:
        return History(self)

    # -- reading --------------------------------------------------------------------

    def read_bytes(self, path: str, at: str | None = None) -> bytes:
        """A file's content at a save (or on disk when ``at`` is None)."""
        path = check_path(path)
        if at is None:
            full = self.root / path
            if not full.is_file():
                raise UnknownFile(path, "the working folder")
            return full.read_bytes()
        commit = self.commit(at)
        try:
            _, sha = tree_lookup_path(
                self.repo.object_store.__getitem__, commit.tree, path.encode()
            )
        except KeyError as exc:
            raise UnknownFile(path, at) from exc
        obj = self.repo.object_store[sha]
        if not isinstance(obj, Blob):
            raise UnknownFile(path, at)
        return obj.data

    def read(self, path: str, at: str | None = None) -> str:
        """A file's text at a save (or on disk); undecodable bytes are replaced."""
        return self.read_bytes(path, at).decode("utf-8", "replace")

    def files(self, at: str | None = None) -> list[str]:
        """The files of a save (default: the last save), sorted."""
        if at is None and self.head_id() is None:
            return []
        return sorted(self.tree_entries(self.commit(at).tree))

    # -- writing the working folder -------------------------------------------------

    def write_files(self, contents: Mapping[str, bytes | None]) -> None:
        """Write (or delete, for None) files in the working folder, atomically each."""
        for raw_path, data in contents.items():
            path = check_path(raw_path)
            full = self.root / path
            if data is None:
                full.unlink(missing_ok=True)
                _prune_empty_dirs(full.parent, self.root)
                continue
            full.parent.mkdir(parents=True, exist_ok=True)
            tmp = full.with_name(f".{full.name}{TEMP_SUFFIX}")
            tmp.write_bytes(data)
            os.replace(tmp, full)

    def checkout_tree(self, tree_id: ObjectID, *, previous: TreeEntries | None = None) -> None:
        """Make the working folder hold ``tree_id`` (removing files only in ``previous``)."""
        target = self.tree_entries(tree_id)
        before = previous if previous is not None else self.head_entries()
        writes: dict[str, bytes | None] = {p: None for p in before if p not in target}
        for path, (_, sha) in target.items():
            if before.get(path, (0, None))[1] != sha or not (self.root / path).exists():
                writes[path] = self._blob_text(sha)
        self.write_files(writes)
        index = self.repo.open_index()
        for key in list(index.paths()):
            if key.decode("utf-8", "surrogateescape") not in target:
                del index[key]
        for path, (mode, sha) in target.items():
            full = self.root / path
            st = full.lstat()
            index[path.encode("utf-8", "surrogateescape")] = index_entry(
                DiskFile(path, mode, sha, st)
            )
        write_index(index)

    # -- restore and undo -----------------------------------------------------------

    def restore(
        self, at: str, paths: Iterable[str] | None = None, message: str | None = None
    ) -> SaveInfo:
        """Bring back files (or the whole project) as they were at a save, as a NEW save."""
        return restoring.restore(self, at, paths, message)

    def revert(self, save: str, message: str | None = None) -> SaveInfo:
        """Undo one save: apply the opposite of its changes on top of the current text."""
        return restoring.revert(self, save, message)

    # -- features -------------------------------------------------------------------

    @cached_property
    def explorations(self) -> Explorations:
        from gitwrite.explorations import Explorations

        return Explorations(self)

    @cached_property
    def milestones(self) -> Milestones:
        from gitwrite.milestones import Milestones

        return Milestones(self)

    @cached_property
    def annotations(self) -> Annotations:
        from gitwrite.annotations import Annotations

        return Annotations(self)

    def compare(
        self, old: str | None = None, new: str | None = None, paths: Iterable[str] | None = None
    ) -> list[FileComparison]:
        """Word-level changes from ``old`` (default: the last save) to ``new`` (default: the
        text on disk); each may be a save id, an exploration or a milestone."""
        return self.comparisons.compare(old, new, paths)

    @cached_property
    def comparisons(self) -> Comparisons:
        from gitwrite.comparing import Comparisons

        return Comparisons(self)


def _use_git_loose_compression(repo: Repo) -> None:
    """Compress loose objects at zlib level 1 as git does by default (dulwich uses 6).

    Most of a save's time is compressing the changed file: level 1 is about four times
    faster on a 3 MB chapter and loose objects are repacked into deltas later anyway.
    An explicit ``core.looseCompression`` or ``core.compression`` setting wins.
    """
    config = repo.get_config()
    for key in (b"looseCompression", b"compression"):
        if config.has_section((b"core",)) and key in config[(b"core",)]:
            return
    store = repo.object_store
    if hasattr(store, "loose_compression_level"):
        store.loose_compression_level = 1


def _maybe(sha: ObjectID | None) -> str | None:
    return sha.decode() if sha is not None else None


def _prune_empty_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
