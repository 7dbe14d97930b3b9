"""Merging one exploration into another, file by file, with the prose-aware merge.

Decisions (for the user guide):

* A merge needs a fully saved working folder: any unsaved change blocks it, because
  the merge save records the whole folder.
* Already merged (every save of the other exploration is in the current one): nothing
  happens and the outcome says so.
* Fast-forward possible (the current exploration has no saves since they parted):
  GitWrite still makes a merge save with two parents, unlike git's default, so that
  "merged 'darker ending' into the main story" is one visible event in the history and
  the exploration's saves stay grouped on their own line.
* Otherwise each file is merged three ways against the last save both share (the
  merge base; when there are several, the first dulwich finds). Text files go through
  `gitwrite.prose.merge_text` (paragraphs, then sentences, then words). Conflicts are:
  both changed the same words; both added the file with different texts; one deleted
  and the other changed it; both changed a binary (non-text) file. A file deleted on one
  side and untouched on the other is deleted; a file added on one side is added.
* Clean: a merge save (two parents) with the message "Merge exploration 'x' into main
  story" unless one is given.
* Conflicts: the merge is left "in progress" exactly as ``git merge`` leaves one (see
  `gitwrite.mergestate`); the working folder gets every cleanly merged file and, for
  each conflicted text file, the proposed text with labelled markers. A binary
  conflict keeps the current version on disk (theirs when ours deleted it). A
  delete-versus-change conflict proposes the surviving text inside one marker block,
  so completing refuses until the writer keeps or deletes it. Then either
  `Merger.complete` (refused while a conflicted file without a given resolution still
  holds a ``<<<<<<<``, ``|||||||`` or ``>>>>>>>`` line) or `Merger.abort`.
* Nothing half-written: everything is computed (and new objects stored) first; if
  writing the working folder, index or state fails, the files are put back as they
  were in the last save and no merge is left in progress.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dulwich.index import ConflictedIndexEntry, IndexEntry
from dulwich.objects import Blob, ObjectID

from gitwrite import prose
from gitwrite.ancestry import ancestry
from gitwrite.errors import MergeError, MergeInProgress, NoMergeInProgress, UnresolvedConflicts
from gitwrite.mergestate import FileConflict, MergeFiles, MergeState, has_markers, kind_of
from gitwrite.paths import check_path
from gitwrite.texts import decode_text
from gitwrite.worktree import DiskFile, index_entry

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from dulwich.repo import Repo

    from gitwrite.explorations import Explorations
    from gitwrite.model import SaveInfo
    from gitwrite.project import Project
    from gitwrite.worktree import TreeEntries

BASE_LABEL = "original"
_FORCE_WRITE = ObjectID(b"0" * 40)

Entry = tuple[int, ObjectID]


class MergeStatus(enum.StrEnum):
    UP_TO_DATE = "up to date"
    MERGED = "merged"
    CONFLICTS = "conflicts"


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """What a merge did.

    Attributes:
        status: up to date (nothing done), merged (``save`` made) or conflicts (the
            merge is in progress; see ``conflicts``).
        their_name: the exploration merged in.
        save: the merge save, when merged.
        conflicts: every conflicted file, when in progress.
        changed: the files the merge changed in the working folder.
        fast_forward: the current exploration had no saves of its own since the two
            parted (git would have fast-forwarded; GitWrite made a merge save anyway).
    """

    status: MergeStatus
    their_name: str
    save: SaveInfo | None = None
    conflicts: tuple[FileConflict, ...] = ()
    changed: tuple[str, ...] = ()
    fast_forward: bool = False

    @property
    def clean(self) -> bool:
        return self.status is not MergeStatus.CONFLICTS


@dataclass(slots=True)
class _Plan:
    """A merge computed in full before anything is written."""

    writes: dict[str, bytes | None] = field(default_factory=dict)
    merged: dict[str, Entry] = field(default_factory=dict)
    conflicts: list[FileConflict] = field(default_factory=list)
    stages: dict[str, tuple[Entry | None, Entry | None, Entry | None]] = field(default_factory=dict)


class Merger:
    """The merge machinery behind ``project.explorations.merge`` and friends."""

    def __init__(self, project: Project, explorations: Explorations) -> None:
        self.project = project
        self.explorations = explorations
        self.files = MergeFiles(project.repo)

    # -- state ----------------------------------------------------------------------

    def state(self) -> MergeState | None:
        """The merge in progress (also one begun by command-line git), or None."""
        return self.files.read()

    def refuse_if_merging(self, action: str) -> None:
        state = self.state()
        if state is not None:
            raise MergeInProgress(state.their_name, action)

    def unresolved(self) -> list[str]:
        """Conflicted files of the merge in progress that still hold conflict markers."""
        state = self.state()
        return [] if state is None else self._unresolved(state, {})

    def _unresolved(self, state: MergeState, given: Mapping[str, object]) -> list[str]:
        left = []
        for conflict in state.conflicts:
            if conflict.path in given:
                continue
            full = self.project.root / conflict.path
            text = decode_text(full.read_bytes()) if full.is_file() else None
            if text is not None and has_markers(text):
                left.append(conflict.path)
        return left

    # -- merging --------------------------------------------------------------------

    def merge(self, name: str, message: str | None = None) -> MergeOutcome:
        """Merge exploration ``name`` into the current one (see the module docstring).

        Raises:
            UnknownExploration: no exploration answers to ``name``.
            MergeInProgress: another merge waits to be completed or aborted.
            UnsavedChanges: the working folder has unsaved changes; nothing changed.
            MergeError: merging an exploration into itself, or two explorations that
                share no save.
        """
        project, explorations = self.project, self.explorations
        branch = explorations.branch_of(name)
        their_name = explorations.display_name(branch)
        self.refuse_if_merging(f"merge {their_name!r}")
        our_branch = project.current_branch
        if branch == our_branch:
            raise MergeError(f"{their_name!r} is the current exploration; it cannot merge itself")
        theirs = explorations.resolve(branch).id
        return self.merge_commit(theirs, their_name, branch, message)

    def merge_commit(
        self, theirs: ObjectID, their_name: str, their_branch: str, message: str | None = None
    ) -> MergeOutcome:
        """Merge the save ``theirs`` into the current exploration, as `merge` does.

        `merge` names an exploration; this takes any save, such as the server's copy of a
        branch after a fetch (``their_name`` is what the writer sees, ``their_branch``
        the ref it came from, kept in the merge state).
        """
        project, explorations = self.project, self.explorations
        self.refuse_if_merging(f"merge {their_name!r}")
        our_branch = project.current_branch
        project.require_saved(f"merge {their_name!r}")
        ours = project.head_id()
        if ours is None:
            raise MergeError("the current exploration has no save yet")
        if explorations.is_ancestor(theirs, ours):
            return MergeOutcome(MergeStatus.UP_TO_DATE, their_name)
        bases = ancestry(project.repo).merge_bases(ours, theirs)
        if not bases:
            raise MergeError(f"{their_name!r} shares no save with the current exploration")
        base = bases[0]
        our_name = explorations.display_name(our_branch)
        text = message or default_message(
            their_name, our_name, explorations.main_branch, their_branch
        )
        our_tree = project.commit(ours.decode()).tree
        plan = self._plan(
            project.tree_entries(project.commit(base.decode()).tree),
            project.tree_entries(our_tree),
            project.tree_entries(project.commit(theirs.decode()).tree),
            (our_name, their_name),
        )
        changed = tuple(sorted(plan.writes))
        fast_forward = base == ours
        if not plan.conflicts:
            try:
                project.write_files(plan.writes)
                save = project.save(text, extra_parents=[theirs], allow_empty=True)
            except BaseException:
                if project.head_id() == ours:
                    self._restore(our_tree, plan.writes)
                raise
            return MergeOutcome(
                MergeStatus.MERGED, their_name, save, changed=changed, fast_forward=fast_forward
            )
        state = MergeState(
            their_name=their_name,
            their_branch=their_branch,
            their_head=theirs.decode(),
            our_branch=our_branch,
            our_head=ours.decode(),
            base=base.decode(),
            message=text,
            conflicts=tuple(plan.conflicts),
            written=changed,
            started=datetime.now(UTC),
        )
        try:
            self.files.write(state)
            project.write_files(plan.writes)
            self._write_index(plan)
        except BaseException:
            self._restore(our_tree, plan.writes)
            self.files.clear()
            raise
        return MergeOutcome(MergeStatus.CONFLICTS, their_name, None, state.conflicts, changed)

    def _plan(
        self,
        base: TreeEntries,
        ours: TreeEntries,
        theirs: TreeEntries,
        labels: tuple[str, str],
    ) -> _Plan:
        plan = _Plan()
        for path in sorted(set(base) | set(ours) | set(theirs)):
            check_path(path)  # a tree from elsewhere must not write outside the folder
            b, o, t = base.get(path), ours.get(path), theirs.get(path)
            if _same(o, t) or _same(b, t):
                continue
            if _same(b, o):
                plan.writes[path] = self._data(t) if t is not None else None
                if t is not None:
                    plan.merged[path] = t
                continue
            self._merge_file(plan, path, (b, o, t), labels)
        return plan

    def _merge_file(
        self,
        plan: _Plan,
        path: str,
        sides: tuple[Entry | None, Entry | None, Entry | None],
        labels: tuple[str, str],
    ) -> None:
        """Merge one file both sides changed differently, adding to ``plan``."""
        b, o, t = sides
        result = merge_file(self.project.repo, path, sides, labels)
        if result.merged is not None and result.entry is not None:
            plan.writes[path] = result.merged
            plan.merged[path] = result.entry
            return
        conflict = result.conflict
        assert conflict is not None
        if conflict.binary and o is None:
            plan.writes[path] = result.data[2]
        elif conflict.proposed is not None:
            plan.writes[path] = conflict.proposed.encode("utf-8")
        plan.conflicts.append(conflict)
        plan.stages[path] = (b, o, t)

    def _data(self, entry: Entry) -> bytes:
        blob = self.project.repo.object_store[entry[1]]
        assert isinstance(blob, Blob)
        return blob.data

    def _write_index(self, plan: _Plan) -> None:
        """Stage merged files, and conflicted ones in stages 1-3, as git leaves them."""
        index = self.project.repo.open_index()
        for path in plan.writes:
            key = path.encode("utf-8", "surrogateescape")
            if path in plan.merged:
                mode, sha = plan.merged[path]
                st = (self.project.root / path).lstat()
                index[key] = index_entry(DiskFile(path, mode, sha, st))
            elif path not in plan.stages and key in index:
                del index[key]
        for path, sides in plan.stages.items():
            index[path.encode("utf-8", "surrogateescape")] = ConflictedIndexEntry(
                *(_stage_entry(e) for e in sides)
            )
        index.write()

    def _restore(self, tree_id: ObjectID, paths: Iterable[str]) -> None:
        """Put ``paths`` (and the whole index) back as they are in ``tree_id``; every
        other file must already hold its version there, and is not rewritten."""
        previous = self.project.tree_entries(tree_id)
        previous.update({p: (0, _FORCE_WRITE) for p in paths})
        self.project.checkout_tree(tree_id, previous=previous)

    # -- ending a merge -------------------------------------------------------------

    def abort(self) -> None:
        """Give up the merge in progress: every file the merge or the writer changed
        since the last save goes back to it (new files the merge brought are removed;
        files the writer created meanwhile are kept), the index matches the last save,
        and git's merge files and GitWrite's record are removed.

        Raises:
            NoMergeInProgress: there is nothing to abort.
        """
        state = self.state()
        if state is None:
            raise NoMergeInProgress("abort the merge")
        project = self.project
        head = project.head_entries()
        index_paths = {p.decode("utf-8", "surrogateescape") for p in project.repo.open_index()}
        merged = set(state.written) | set(state.paths)
        unsaved = {p for p in project.unsaved_paths() if p in head or p in index_paths}
        self._restore(project.commit().tree, unsaved | merged)
        self.files.clear()

    def complete(
        self,
        resolutions: Mapping[str, str | bytes | None] | None = None,
        message: str | None = None,
    ) -> SaveInfo:
        """Finish the merge in progress with a save that has both explorations as parents.

        Args:
            resolutions: path → the text to keep (``bytes`` for binary files, None to
                delete the file), written before saving. Files not given keep what is
                in the working folder.
            message: the merge save's message (default: the one chosen at the start).

        Raises:
            NoMergeInProgress: there is nothing to complete.
            UnresolvedConflicts: listing every conflicted file that was given no
                resolution and still holds conflict markers on disk; nothing changed.
        """
        state = self.state()
        if state is None:
            raise NoMergeInProgress("complete the merge")
        given = {check_path(p): v for p, v in (resolutions or {}).items()}
        left = self._unresolved(state, given)
        if left:
            raise UnresolvedConflicts(left)
        project = self.project
        project.write_files(
            {p: (v.encode("utf-8") if isinstance(v, str) else v) for p, v in given.items()}
        )
        # The conflict stages are only git's note of the conflict: drop them so the save
        # re-reads those files and the index holds plain entries again.
        index = project.repo.open_index()
        for key, entry in list(index.items()):
            if isinstance(entry, ConflictedIndexEntry):
                del index[key]
        index.write()
        save = project.save(
            message or state.message,
            extra_parents=[ObjectID(state.their_head.encode())],
            allow_empty=True,
        )
        self.files.clear()
        return save


def _same(a: Entry | None, b: Entry | None) -> bool:
    """Same content (modes aside: the working folder does not keep them apart)."""
    return (a is None) == (b is None) and (a is None or b is None or a[1] == b[1])


def _stage_entry(entry: Entry | None) -> IndexEntry | None:
    if entry is None:
        return None
    mode, sha = entry
    return IndexEntry(
        ctime=(0, 0), mtime=(0, 0), dev=0, ino=0, mode=mode, uid=0, gid=0, size=0, sha=sha
    )


def whole_file_conflict(ours: str | None, theirs: str | None, labels: tuple[str, str]) -> str:
    """The proposal for a file one side deleted and the other changed: one marker block
    holding the surviving text, with the deleting side empty."""
    lines = [f"<<<<<<< {labels[0]}" + (" (deleted)" if ours is None else "")]
    if ours:
        lines.append(ours.rstrip("\n"))
    lines.append("=======")
    if theirs:
        lines.append(theirs.rstrip("\n"))
    lines.append(f">>>>>>> {labels[1]}" + (" (deleted)" if theirs is None else ""))
    return "\n".join(lines) + "\n"


def default_message(their_name: str, our_name: str, main_branch: str, their_branch: str) -> str:
    """``Merge exploration 'x' into main story`` and its variants."""
    source = "main story" if their_branch == main_branch else f"exploration '{their_name}'"
    target = "main story" if our_name == "main story" else f"exploration '{our_name}'"
    return f"Merge {source} into {target}"


@dataclass(frozen=True, slots=True)
class FileMerge:
    """What `merge_file` made of one file: the merged file (stored as the blob ``entry``),
    or a conflict; ``data`` is the three versions as stored (base, ours, theirs)."""

    data: tuple[bytes | None, bytes | None, bytes | None]
    merged: bytes | None = None
    entry: Entry | None = None
    conflict: FileConflict | None = None


def merge_file(
    repo: Repo,
    path: str,
    sides: tuple[Entry | None, Entry | None, Entry | None],
    labels: tuple[str, str],
) -> FileMerge:
    """Merge one file that both sides changed differently (``sides``: base, ours, theirs;
    None where absent): text with the prose merge, its clean result stored as a blob; a
    binary file, or a file one side deleted, is a conflict (with a proposed text between
    markers where there is text). The writer's merge and the sync engine's tree merge
    both use it."""
    b, o, t = sides
    data = (_blob_data(repo, b), _blob_data(repo, o), _blob_data(repo, t))
    texts = [decode_text(d) if d is not None else None for d in data]
    binary = any(d is not None and s is None for d, s in zip(data, texts, strict=True))
    base_text, our_text, their_text = texts
    proposed: str | None = None
    if not binary and (o is None or t is None):
        proposed = whole_file_conflict(our_text, their_text, labels)
    elif not binary and o is not None:
        result = prose.merge_text(
            base_text or "",
            our_text or "",
            their_text or "",
            ours_label=labels[0],
            theirs_label=labels[1],
            base_label=BASE_LABEL,
        )
        if result.clean:
            merged = result.text.encode("utf-8")
            blob = Blob.from_string(merged)
            repo.object_store.add_object(blob)
            return FileMerge(data, merged, (o[0], blob.id))
        proposed = result.text
    ids = [e[1].decode() if e is not None else None for e in sides]
    conflict = FileConflict(
        path=path,
        kind=kind_of(b, o, t),
        base=base_text,
        ours=our_text,
        theirs=their_text,
        proposed=proposed,
        binary=binary,
        base_id=ids[0],
        ours_id=ids[1],
        theirs_id=ids[2],
    )
    return FileMerge(data, conflict=conflict)


def _blob_data(repo: Repo, entry: Entry | None) -> bytes | None:
    if entry is None:
        return None
    blob = repo.object_store[entry[1]]
    assert isinstance(blob, Blob)
    return blob.data
